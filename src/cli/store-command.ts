// Shared by the store commands (get, set, rm, list, versions, copy, migrate, export): a resolver on
// the config file's providers (or `--provider` ids/types), errors as `envmux: CODE: message` with a
// hint, exit codes 0 ok / 1 failure / 2 usage. Never prints a value; messages are scrubbed of any.

import type { Command } from 'commander';
import { type EnvmuxError, isEnvmuxError, toEnvmuxError } from '../errors.js';
import { redact } from '../mask/redactor.js';
import type { Provider } from '../providers/provider.js';
import { createResolver, type Resolver } from '../resolver/client.js';
import { errorLine } from './colour.js';
import { asProblem, commandLoadOptions, exitWhenFlushed } from './command-env.js';

/** Exit codes of the store commands. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The exit-code paragraph every store command's help ends with. */
export const EXIT_HELP = `
Exit codes: 0 done, 1 a store operation failed (each failure is listed on stderr),
2 usage (an unknown option, a missing argument, options that exclude each other).`;

const usageErrors = new WeakSet<object>();

/** A usage problem (exit 2): the command line, not a store, is wrong. */
export function usageError(error: EnvmuxError): EnvmuxError {
  usageErrors.add(error);
  return error;
}

/**
 * A resolver on the configured chain, or on `ids` (provider ids of the config file, else types such
 * as `local`, `aws`, or providers built for the command, e.g. `local:<where>`). No cache:
 * management reads the stores' current state.
 */
export async function openResolver(
  ids?: Array<string | Provider>,
  extra: Provider[] = [],
): Promise<Resolver> {
  const names = ids?.map((id) => (typeof id === 'string' ? id : id.id));
  const options = await commandLoadOptions({ provider: names?.length ? names : undefined });
  if (ids?.length && options.providers) {
    options.providers = options.providers.map((p, i) => {
      const given = ids[i];
      return typeof given === 'string' || given === undefined ? p : given;
    });
  }
  // Stores the command built itself (a backup file) join the chain first.
  if (extra.length) options.providers = [...extra, ...(options.providers ?? [])];
  return createResolver({ ...options, cache: false, audit: { source: 'cli' } });
}

/** Print one error (`envmux: CODE: message` and its hint), scrubbed of `secrets`. */
export function printError(error: unknown, secrets: Iterable<string> = []): void {
  const e = isEnvmuxError(error) ? error : asProblem(toEnvmuxError(error));
  // Redacted before colouring: an escape code never splits a value the redactor must find.
  const values = [...secrets];
  process.stderr.write(
    errorLine(e.code, redact(e.message, values), e.hint && redact(e.hint, values)),
  );
}

/**
 * Run a command's body: its result is the exit code; a thrown error is printed (never a stack) and
 * exits 1, or 2 for a usage error. Exits once stdout and stderr are flushed.
 */
export function storeAction<A extends unknown[]>(
  fn: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      code = await fn(...args);
    } catch (error) {
      printError(error);
      code =
        typeof error === 'object' && error && usageErrors.has(error) ? EXIT.usage : EXIT.failed;
    }
    exitWhenFlushed(code);
  };
}

/** Usage errors of commander itself (unknown option, missing argument) exit 2; help exits 0. */
export function withUsageExit(command: Command): Command {
  return command.exitOverride((error) => {
    const help = error.code === 'commander.helpDisplayed' || error.code === 'commander.help';
    process.exit(help || error.code === 'commander.version' ? 0 : EXIT.usage);
  });
}

/** Close a resolver, ignoring close errors (the command's outcome is already decided). */
export async function closeQuietly(resolver: Resolver): Promise<void> {
  await resolver.close().catch(() => {});
}

/** `n thing` / `n things`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Left-aligned columns, two spaces apart (the first row is the header). */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A date as `2026-01-31 12:00Z`, or `-`. */
export function shownDate(date: Date | undefined): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')}Z` : '-';
}
