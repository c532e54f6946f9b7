// Shared by `envmux run` and `envmux check`: the -f/--provider options, the load options they
// build (config file merged under them), and a load that also reports which values are secrets.
// Never prints a value; messages it prints are scrubbed of every value the load saw.

import type { Command } from 'commander';
import { EnvmuxError, isEnvmuxError } from '../errors.js';
import { redact } from '../mask/redactor.js';
import { isProviderType } from '../providers/registry.js';
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
import type { SecretAnswer } from '../resolver/resolve.js';
import { ScanError, scan } from '../resolver/scan.js';
import type { StandardSchemaV1 } from '../resolver/validate.js';

/** The flags both commands take. */
export interface EnvFlags {
  file?: string[];
  provider?: string[];
  override?: boolean;
}

export type CommandLoadOptions = LoadOptions<StandardSchemaV1 | undefined>;

/** Add `-f, --file <path>` (repeatable) and `--provider <ids...>` to a command. */
export function addEnvOptions(command: Command): Command {
  return command
    .option(
      '-f, --file <path>',
      'env file to read, highest precedence first (repeatable; default: ENVMUX_FILES, else .env.$NODE_ENV.local, .env.local (not when NODE_ENV=test), .env.$NODE_ENV, .env)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--provider <ids...>',
      'provider chain, in order (ids of the config file or types such as file, env; default: auto-detected or ENVMUX_PROVIDERS)',
    );
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
    merged.providers = flags.provider
      .flatMap((list) => list.split(','))
      .map((id) => id.trim())
      .filter(Boolean)
      .map((id) => configured.find((p) => idOf(p) === id) ?? id);
  }
  return merged;
}

/** A load, plus every value the command must treat as secret. */
export interface CommandLoad {
  loaded: LoadedEnvironment;
  /**
   * Values to mask and to scrub from messages: the resolved value of every key whose template
   * holds a reference, every value a provider returned, and the string fields of returned JSON.
   */
  secrets: Set<string>;
}

/** Load the environment through a resolver that remembers what providers returned. */
export async function loadForCommand(options: CommandLoadOptions): Promise<CommandLoad> {
  const env = options.env ?? options.processEnv ?? process.env;
  const inner =
    options.resolver ??
    createResolver({ ...options, env, audit: options.audit ?? { source: 'cli' } });
  const secrets = new Set<string>();
  const resolver: Resolver = {
    ...inner,
    async fetch(requests, signal) {
      const answers = await inner.fetch(requests, signal);
      for (const answer of answers.values()) rememberAnswer(answer, secrets);
      return answers;
    },
  };
  let loaded: LoadedEnvironment;
  try {
    loaded = await loadEnvironment({ ...options, resolver });
  } finally {
    if (!options.resolver) await inner.close();
  }
  const isScheme = resolver.isScheme;
  for (const [key, value] of loaded.values) {
    const source = loaded.sources.get(key);
    const entry = loaded.entries.get(key);
    if (source?.providers.length || (entry && hasReference(entry, isScheme, options.expand))) {
      secrets.add(value);
    }
  }
  return { loaded, secrets };
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
  if (entry.quote === "'" || !entry.value.includes('$')) return false;
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

/** A problem's one-line description, scrubbed of every secret value. */
export function describeProblem(error: EnvmuxError, secrets: Iterable<string>): string {
  return redact(error.describe(), secrets);
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
