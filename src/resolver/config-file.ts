// Configuration without code: ENVMUX_CONFIG, envmux.config.{mjs,js,cjs,json}, or "envmux" in
// package.json (docs/architecture.md, "Configuration"). Finding is synchronous (the preload needs to know); JS configs import.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EnvmuxError } from '../errors.js';
import { fileSystemProblem } from '../files/fs-problem.js';

export interface FoundConfig {
  path: string;
  /** `json` and `package` can be read synchronously; `module` must be imported. */
  kind: 'json' | 'package' | 'module';
}

const NAMES = ['envmux.config.mjs', 'envmux.config.js', 'envmux.config.cjs', 'envmux.config.json'];

/** Where the configuration is, if anywhere. */
export function findConfigFile(
  cwd: string,
  env: Record<string, string | undefined>,
): FoundConfig | undefined {
  if (env.ENVMUX_CONFIG) {
    const path = resolve(cwd, env.ENVMUX_CONFIG);
    if (!existsSync(path)) {
      throw new EnvmuxError('CONFIG', 'config file not found', {
        file: path,
        hint: 'check ENVMUX_CONFIG',
      });
    }
    return { path, kind: path.endsWith('.json') ? 'json' : 'module' };
  }
  for (const name of NAMES) {
    const path = join(cwd, name);
    if (existsSync(path)) return { path, kind: name.endsWith('.json') ? 'json' : 'module' };
  }
  const pkg = join(cwd, 'package.json');
  if (existsSync(pkg) && ownOption(readJson(pkg), 'envmux') !== undefined) {
    return { path: pkg, kind: 'package' };
  }
  return undefined;
}

/** The options a JSON config holds (synchronous). */
export function readJsonConfig(found: FoundConfig): Record<string, unknown> {
  const json = readJson(found.path);
  const options = found.kind === 'package' ? ownOption(json, 'envmux') : json;
  if (!options || typeof options !== 'object') {
    throw new EnvmuxError('CONFIG', 'the envmux configuration must be an object', {
      file: found.path,
    });
  }
  return options as Record<string, unknown>;
}

/** The options of any config file (JS configs are imported; their default export is used). */
export async function readConfigFile(found: FoundConfig): Promise<Record<string, unknown>> {
  if (found.kind !== 'module') return readJsonConfig(found);
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(found.path).href);
  } catch (error) {
    // The config is the user's code: its own message says what is wrong (first line only, no stack).
    const reason =
      error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
    throw new EnvmuxError('CONFIG', `config file failed to load (${reason.slice(0, 300)})`, {
      file: found.path,
      cause: error,
    });
  }
  const options = (mod.default ?? mod) as unknown;
  const value = typeof options === 'function' ? await (options as () => unknown)() : options;
  if (!value || typeof value !== 'object') {
    throw new EnvmuxError('CONFIG', 'config file must export an options object (default export)', {
      file: found.path,
    });
  }
  return value as Record<string, unknown>;
}

/** `json[name]` when it is the document's own member (never Object.prototype's). */
function ownOption(json: unknown, name: string): unknown {
  return json && typeof json === 'object' && Object.hasOwn(json, name)
    ? (json as Record<string, unknown>)[name]
    : undefined;
}

function readJson(path: string): Record<string, any> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fileSystemProblem(error, 'config file', path, { file: path });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const at = jsonErrorPosition(text, error);
    throw new EnvmuxError(
      'CONFIG',
      `config file is not valid JSON${at ? ` at line ${at.line}, column ${at.column}` : ''}`,
      { file: path, ...(at ? { line: at.line } : {}), cause: error },
    );
  }
}

/**
 * Line and column (1-based) of a JSON.parse error: from "(line L column C)" (Node ≥ 22) or
 * "at position N" (Node 20), else the end of the text for "Unexpected end of JSON input".
 */
export function jsonErrorPosition(
  text: string,
  error: unknown,
): { line: number; column: number } | undefined {
  const message = error instanceof Error ? error.message : '';
  const lc = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /at position (\d+)/.exec(message);
  const offset = pos ? Number(pos[1]) : /end of JSON input/.test(message) ? text.length : undefined;
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
