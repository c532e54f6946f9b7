// Writing resolved values in the formats other tools read (`envmux export`): dotenv, JSON, POSIX
// shell, docker --env-file, a Kubernetes Secret, GitHub Actions and GitLab CI. Pure: values in,
// text out. A value a format cannot hold exactly is a coded error naming the key, never a guess.

import { randomBytes } from 'node:crypto';
import { EnvmuxError } from '../errors.js';

export const EXPORT_FORMATS = [
  'dotenv',
  'json',
  'shell',
  'docker-env',
  'k8s-secret',
  'github',
  'gitlab',
] as const;

export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface FormatOptions {
  /** `k8s-secret`: the Secret's name; default `envmux`. */
  name?: string;
  /** `k8s-secret`: its namespace; default none (the context's). */
  namespace?: string;
}

/**
 * The formatted text. For `github`, `masks` holds the `::add-mask::` workflow commands (for the
 * step's stdout, before anything else) and `text` the `NAME<<DELIMITER` blocks for `$GITHUB_ENV`.
 */
export interface FormattedValues {
  text: string;
  masks?: string;
}

/** Format `values` (in order) as `format`. */
export function formatValues(
  values: Array<[string, string]>,
  format: ExportFormat,
  options: FormatOptions = {},
): FormattedValues {
  switch (format) {
    case 'dotenv':
      return { text: values.map(([k, v]) => `${k}=${dotenvQuote(k, v)}\n`).join('') };
    case 'json':
      return { text: `${JSON.stringify(Object.fromEntries(values), null, 2)}\n` };
    case 'shell':
      return {
        text: values.map(([k, v]) => `export ${shellName(k)}=${shellQuote(k, v)}\n`).join(''),
      };
    case 'docker-env':
    case 'gitlab':
      return { text: values.map(([k, v]) => `${k}=${singleLine(k, v, format)}\n`).join('') };
    case 'k8s-secret':
      return { text: k8sSecret(values, options) };
    case 'github':
      return {
        masks: values.flatMap(([, v]) => githubMasks(v)).join(''),
        text: values.map(([k, v]) => githubBlock(k, v)).join(''),
      };
    default:
      throw new EnvmuxError('CONFIG', `unknown export format "${String(format)}"`, {
        hint: `use ${EXPORT_FORMATS.join(', ')}`,
      });
  }
}

/**
 * A dotenv value that envmux and dotenv read back exactly and never resolve: single quotes (literal),
 * else backticks, else double quotes with `\n` escapes, else bare; `CONFIG` when none can hold it.
 * Outside single quotes a value may not hold `$<` or `${` (envmux would read a reference).
 */
export function dotenvQuote(key: string, value: string): string {
  const reference = /\$[<{]/.test(value);
  // A trailing backslash would escape the closing quote in dotenv's expression.
  if (!value.includes('\r') && !value.endsWith('\\')) {
    if (!value.includes("'")) return `'${value}'`;
    if (!value.includes('`') && !reference) return `\`${value}\``;
  }
  if (reference) return refuse(key);
  if (!value.includes('"') && !value.endsWith('\\') && !/\\[nr]/.test(value)) {
    return `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  }
  // Bare: read to the end of the line (or a `#`), trimmed, quotes stripped only when they pair.
  if (/^[^\s'"`#]([^#\r\n]*[^\s#])?$/.test(value)) return value;
  return refuse(key);
}

function refuse(key: string): never {
  throw new EnvmuxError('CONFIG', `the value of ${key} cannot be written exactly as dotenv`, {
    key,
    hint: 'export it as json or shell',
  });
}

/** POSIX single quoting: exact for every byte but NUL (which no environment variable can hold). */
export function shellQuote(key: string, value: string): string {
  if (value.includes('\0')) {
    throw new EnvmuxError('CONFIG', `the value of ${key} holds a NUL byte`, { key });
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function shellName(key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw new EnvmuxError('CONFIG', `${key} is not a shell variable name`, {
      key,
      hint: 'export it as dotenv or json',
    });
  }
  return key;
}

/** `KEY=value` formats: one line, taken as is. */
function singleLine(key: string, value: string, format: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new EnvmuxError(
      'CONFIG',
      `the value of ${key} spans lines, which ${format} cannot hold`,
      {
        key,
        hint:
          format === 'gitlab' ? 'pass it as a file variable instead' : 'use --format json or shell',
      },
    );
  }
  return value;
}

function k8sSecret(values: Array<[string, string]>, options: FormatOptions): string {
  const name = options.name ?? 'envmux';
  const dns = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
  if (!dns.test(name) || (options.namespace !== undefined && !dns.test(options.namespace))) {
    throw new EnvmuxError('CONFIG', 'a Secret name and namespace are lowercase DNS names', {
      hint: 'e.g. --name app-env --namespace prod',
    });
  }
  const lines = [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${name}`,
    ...(options.namespace ? [`  namespace: ${options.namespace}`] : []),
    'type: Opaque',
    values.length ? 'data:' : 'data: {}',
  ];
  for (const [key, value] of values) {
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) {
      throw new EnvmuxError('CONFIG', `${key} is not a valid Secret data key`, { key });
    }
    lines.push(`  ${key}: ${Buffer.from(value, 'utf8').toString('base64')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One `::add-mask::` per non-blank line of the value (the runner masks line by line). */
export function githubMasks(value: string): string[] {
  return value
    .split(/\r?\n|\r/)
    .filter((line) => line.trim())
    .map(
      (line) =>
        `::add-mask::${line.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}\n`,
    );
}

/** A `$GITHUB_ENV` block with a random delimiter the value does not contain. */
function githubBlock(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw new EnvmuxError('CONFIG', `${key} is not a GitHub Actions variable name`, { key });
  }
  let delimiter: string;
  do delimiter = `ghadelimiter_${randomBytes(12).toString('hex')}`;
  while (value.includes(delimiter));
  return `${key}<<${delimiter}\n${value}\n${delimiter}\n`;
}
