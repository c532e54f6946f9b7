// Shared by `envmux run` and `envmux check`: the -f/--provider options, the load options they
// build (config file merged under them), and a load that also reports which values are secrets.
// Never prints a value; messages it prints are scrubbed of every value the load saw.

import { type Command, InvalidArgumentError } from 'commander';
import { EnvmuxError, isEnvmuxError } from '../errors.js';
import { Masker } from '../mask/redactor.js';
import { detectChain, isProviderType } from '../providers/registry.js';
import type { ProviderInput } from '../resolver/chain.js';
import type { Resolver } from '../resolver/client.js';
import { createResolver } from '../resolver/client.js';
import {
  type LoadedEnvironment,
  type LoadOptions,
  loadEnvironment,
  withConfigFile,
} from '../resolver/load.js';
import type { EnvEntry } from '../resolver/parse.js';
import type { SecretAnswer, SecretRequest } from '../resolver/resolve.js';
import { mayHoldReference, ScanError, scan } from '../resolver/scan.js';
import type { StandardSchemaV1 } from '../resolver/validate.js';
import { type LineStream, showsWaitingLine, startWaitingLine } from './waiting-line.js';

/** The flags both commands take. */
export interface EnvFlags {
  file?: string[];
  provider?: string[];
  override?: boolean;
  debug?: boolean;
}

export type CommandLoadOptions = LoadOptions<StandardSchemaV1 | undefined>;

/**
 * Add `-f, --file <path>` and `--provider <ids>` to a command. Each takes exactly one word (never
 * variadic, so the command after them is not swallowed): repeat the option or separate with commas.
 * A value starting with `-` (`-f -- node`) is refused: the option is missing its value.
 */
export function addEnvOptions(command: Command): Command {
  return command
    .option(
      '-f, --file <paths>',
      'env file to read, highest precedence first (repeatable or comma-separated; default: ENVMUX_FILES, else .env.$NODE_ENV.local, .env.local (not when NODE_ENV=test), .env.$NODE_ENV, .env)',
      listOption('-f, --file'),
    )
    .option(
      '--provider <ids>',
      'provider chain, in order (repeatable or comma-separated; ids of the config file or types such as file, env; default: auto-detected or ENVMUX_PROVIDERS)',
      listOption('--provider'),
    );
}

/** A repeatable, comma-separated option; a missing value (the next word is an option or `--`) is refused. */
function listOption(name: string): (value: string, previous?: string[]) => string[] {
  return (value, previous = []) => {
    if (value.startsWith('-')) {
      throw new InvalidArgumentError(
        `${name} needs a value, got "${value}" (write the option's value before --)`,
      );
    }
    const items = value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    if (!items.length) throw new InvalidArgumentError(`${name} needs a value`);
    return [...previous, ...items];
  };
}

/** Whether names-only diagnostics are on: `--debug`, `ENVMUX_DEBUG` or `DEBUG=envmux`. */
export function debugEnabled(flags: EnvFlags, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.ENVMUX_DEBUG;
  const on = !!value && !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
  return !!flags.debug || on || /(^|,)envmux(,|$)/.test(env.DEBUG ?? '');
}

/**
 * The load options for a command: its flags over the config file (envmux.config.* or package.json).
 * `--provider` ids pick providers the config file defines, else name built-in types.
 */
export async function commandLoadOptions(flags: EnvFlags): Promise<CommandLoadOptions> {
  const options: CommandLoadOptions = { cwd: process.cwd() };
  if (flags.file?.length) options.files = flags.file;
  if (flags.override) options.override = true;
  const merged = await withConfigFile(options);
  if (flags.provider?.length) {
    const configured = merged.providers ?? [];
    const idOf = (p: ProviderInput) => (typeof p === 'string' ? p : p.id);
    merged.providers = flags.provider.map((id) => configured.find((p) => idOf(p) === id) ?? id);
  }
  return merged;
}

/** A load, plus every value the command must treat as secret. */
export interface CommandLoad {
  loaded: LoadedEnvironment;
  /**
   * Values to scrub from messages: every value a provider returned, the string fields of returned
   * JSON, and the resolved value of every key whose template holds a reference.
   */
  secrets: Set<string>;
  /**
   * What `run` masks, per resolved key: the parts of its value a provider served (after `#field`
   * picks). Defaults that were used, `env:` values and plain values are not in it.
   */
  served: Map<string, string[]>;
}

/**
 * Load the environment through a resolver that remembers what providers returned. With
 * `waitingLine` (stderr), a load slower than about 1 s names the stores it waits for there, when
 * {@link showsWaitingLine} allows it.
 */
export async function loadForCommand(
  options: CommandLoadOptions,
  show: { waitingLine?: LineStream } = {},
): Promise<CommandLoad> {
  const env = options.env ?? options.processEnv ?? process.env;
  const inner =
    options.resolver ??
    createResolver({ ...options, env, audit: options.audit ?? { source: 'cli' } });
  const secrets = new Set<string>();
  const waiting = new Set<SecretRequest[]>();
  let chainIds: string[] | undefined;
  const resolver: Resolver = {
    ...inner,
    async fetch(requests, signal) {
      waiting.add(requests);
      if (!chainIds && requests.some((r) => r.scheme === 'secret')) {
        inner.chain().then(
          (providers) => {
            chainIds = providers.map((p) => p.id);
          },
          () => {},
        );
      }
      try {
        const answers = await inner.fetch(requests, signal);
        for (const answer of answers.values()) rememberAnswer(answer, secrets);
        return answers;
      } finally {
        waiting.delete(requests);
      }
    },
  };
  const line = show.waitingLine;
  const stop =
    line && showsWaitingLine(line, process.env)
      ? startWaitingLine(line, () => waitingFor([...waiting].flat(), chainIds))
      : undefined;
  let loaded: LoadedEnvironment;
  try {
    loaded = await loadEnvironment({ ...options, resolver });
  } finally {
    stop?.();
    if (!options.resolver) await inner.close();
  }
  const isScheme = resolver.isScheme;
  const served = new Map<string, string[]>();
  for (const [key, value] of loaded.values) {
    const source = loaded.sources.get(key);
    const entry = loaded.entries.get(key);
    if (source?.served.length) served.set(key, source.served);
    if (source?.providers.length || (entry && hasReference(entry, isScheme, options.expand))) {
      secrets.add(value);
    }
  }
  return { loaded, secrets, served };
}

function rememberAnswer(answer: SecretAnswer, secrets: Set<string>): void {
  if (!('value' in answer) || answer.value === undefined) return;
  secrets.add(answer.value);
  // `#field` references pick from a JSON document: its string leaves are secrets too.
  const text = answer.value.trimStart();
  if (!text.startsWith('{') && !text.startsWith('[')) return;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return;
  }
  const visit = (node: unknown, depth: number) => {
    if (typeof node === 'string') secrets.add(node);
    else if (node && typeof node === 'object' && depth < 32) {
      for (const child of Object.values(node)) visit(child, depth + 1);
    }
  };
  visit(doc, 0);
}

/** Whether an entry's value holds a reference (single-quoted values are literal). */
export function hasReference(
  entry: EnvEntry,
  isScheme: (word: string) => boolean,
  expand?: boolean,
): boolean {
  if (entry.quote === "'" || !mayHoldReference(entry.value)) return false;
  try {
    return scan(entry.value, { isScheme, expand }).some((part) => typeof part !== 'string');
  } catch (error) {
    if (error instanceof ScanError) return true;
    throw error;
  }
}

/** `isScheme` as a load without a resolver computes it (secret, env, configured ids, types). */
export function schemeTest(options: CommandLoadOptions): (word: string) => boolean {
  const ids = new Set((options.providers ?? []).map((p) => (typeof p === 'string' ? p : p.id)));
  return (w) => w === 'secret' || w === 'env' || ids.has(w) || isProviderType(w);
}

/** Anything thrown while preparing a load, as a coded error (config files, unknown providers). */
export function asProblem(error: unknown): EnvmuxError {
  if (isEnvmuxError(error)) return error;
  return new EnvmuxError('CONFIG', error instanceof Error ? error.message : String(error));
}

/** Values longer than this are left out of the message scrubber (a message is far shorter). */
const MESSAGE_VALUE_MAX = 64 * 1024;
/** The message scrubber's size bound: values, then encoded forms while they fit. */
const MESSAGE_MASK_BYTES = 2 ** 20;

/**
 * Scrubs messages of every value a load saw. The masker is built once, on the first message (a
 * load without problems never builds it), however many problems there are; it holds the values a
 * message can contain (up to 64 KiB; a longer message is scrubbed of every value).
 */
export class MessageScrubber {
  private masker: Masker | undefined;
  private full: Masker | undefined;
  constructor(private readonly secrets: Iterable<string>) {}

  scrub(text: string): string {
    if (text.length > MESSAGE_VALUE_MAX) {
      this.full ??= new Masker(this.secrets, { maxBytes: MESSAGE_MASK_BYTES });
      return this.full.redact(text);
    }
    this.masker ??= new Masker(
      [...this.secrets].filter((s) => s.length <= MESSAGE_VALUE_MAX),
      { maxBytes: MESSAGE_MASK_BYTES },
    );
    return this.masker.redact(text);
  }

  /** A problem's one-line description, scrubbed. */
  describe(error: EnvmuxError): string {
    return this.scrub(error.describe());
  }
}

/**
 * Exit with `code` once everything written to stdout and stderr has been handed to the OS (pipes
 * are asynchronous on some platforms), without waiting for handles a provider may have left open.
 */
export function exitWhenFlushed(code: number): void {
  let waiting = 2;
  const done = () => {
    if (--waiting === 0) process.exit(code);
  };
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.writableEnded || stream.destroyed) done();
    else stream.write('', done);
  }
}

/** `aws, vault (3 secrets)`: the stores the requests in flight wait for (the chain's for `secret:`). */
export function waitingFor(requests: SecretRequest[], chainIds: string[] | undefined): string {
  if (!requests.length) return 'the load';
  const stores = new Set<string>();
  for (const r of requests) {
    for (const id of r.scheme === 'secret' ? (chainIds ?? ['the chain']) : [r.scheme])
      stores.add(id);
  }
  const n = requests.length;
  return `${[...stores].join(', ')} (${n} secret${n === 1 ? '' : 's'})`;
}

/** One store of a command's chain and why it is there (`check --json`'s `chain`, debug lines). */
export interface ChainLink {
  provider: string;
  reason: string;
}

/** The chain a command's load walks: the configured providers, else the auto-detected ones. */
export function chainOf(options: CommandLoadOptions): ChainLink[] {
  if (options.providers?.length) {
    return options.providers.map((p) => ({
      provider: typeof p === 'string' ? p : p.id,
      reason: 'configured (--provider or the config file)',
    }));
  }
  const env = options.env ?? options.processEnv ?? process.env;
  return detectChain(env).map((d) => ({ provider: d.type, reason: d.reason }));
}

/**
 * The `--debug` / ENVMUX_DEBUG lines of a command's load, names only: the chain and why, the files
 * read, and where each resolved key came from. Printed whether or not the load failed.
 */
export function debugLoadLines(loaded: LoadedEnvironment, chain: ChainLink[]): string[] {
  const lines = [
    `chain: ${chain.map((c) => `${c.provider} (${c.reason})`).join(', ')}`,
    `read ${loaded.files.join(', ') || 'no env files'}; resolved ${loaded.values.size} key(s), kept ${loaded.kept.length} from the environment`,
  ];
  for (const [key, s] of loaded.sources) {
    const where = `${s.entry.file}${s.entry.line ? `:${s.entry.line}` : ''}`;
    lines.push(`  ${key} ← ${where}${s.providers.length ? ` via ${s.providers.join(', ')}` : ''}`);
  }
  return lines;
}
