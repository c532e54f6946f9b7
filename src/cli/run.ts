// `envmux run -- <cmd>`: resolve, then run a command with the resolved environment, masking secret
// values in its output. Never runs the command with a partial environment; never uses a shell.

import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { describeProblems, EnvmuxError } from '../errors.js';
import { MIN_MASKED_LENGTH } from '../mask/patterns.js';
import { createRedactStream, Masker, Redactor } from '../mask/redactor.js';
import {
  addEnvOptions,
  asProblem,
  type CommandLoad,
  type CommandLoadOptions,
  chainOf,
  commandLoadOptions,
  debugEnabled,
  debugLoadLines,
  type EnvFlags,
  exitWhenFlushed,
  loadForCommand,
  MessageScrubber,
} from './command-env.js';

interface RunFlags extends EnvFlags {
  mask: boolean;
}

/** Signals passed on to the child (it decides how to end). */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function register(program: Command): void {
  // Everything after the command's name belongs to the command (`envmux run node -e ...`).
  program.enablePositionalOptions();
  const command = program
    .command('run')
    .description(
      'resolve the env files, then run a command with the resolved environment, masking secret values in its output',
    )
    .argument('<command>', 'the program to run (no shell: use `sh -c "..."` for shell syntax)')
    .argument('[args...]', 'its arguments')
    .option('--no-mask', 'do not mask secret values in the output (the terminal passes through)')
    .option('--override', 'let env file values replace variables already set in the environment')
    .option(
      '--debug',
      'say on stderr which keys are masked, names only (also ENVMUX_DEBUG=1 or DEBUG=envmux)',
    )
    .passThroughOptions()
    .addHelpText(
      'after',
      `
Examples:
  envmux run -- node server.js
  envmux run --provider local node server.js   # the first word that is not an option starts the command
  envmux run -f .env.production --provider aws,env -- ./migrate.sh
  envmux run -- sh -c 'echo $DB_PASSWORD'      # prints *** (the child sees the value)

Options take one value each: repeat them or separate values with commas. Everything after -- or
after the command's name goes to the command.

Masking: every value a provider returned for the environment (after #field picks; each line of a
multi-line value; its base64 — also wrapped —, URL-encoded and JSON-escaped forms) is replaced by
*** in the command's stdout and stderr, also when split across writes. Defaults that were used,
env: values and plain values are not masked; neither are values shorter than 4 characters, nor hex,
reversed or case-changed forms. --debug names the masked keys. When both stdout and stderr are
terminals, FORCE_COLOR=1 is set for the command (unless NO_COLOR or FORCE_COLOR is set);
--no-mask runs it on the terminal itself.

A value too large for the OS environment (128 KiB per variable on Linux) stops the command from
running with a CONFIG error naming the key.

If any reference fails, every problem is listed (file:line, key, reference, code) and the command
is not run (exit 1). Otherwise envmux exits with the command's exit code, or re-raises the signal
that ended it; SIGINT, SIGTERM and SIGHUP are forwarded to the command.`,
    );
  addEnvOptions(command).action(async (cmd: string, args: string[], flags: RunFlags) => {
    exitWhenFlushed(await run(cmd, args, flags));
  });
}

/** Resolve, then run; resolves to the exit code (after re-raising a signal if the child died of one). */
async function run(cmd: string, args: string[], flags: RunFlags): Promise<number> {
  let load: CommandLoad;
  let options: CommandLoadOptions;
  try {
    options = await commandLoadOptions(flags);
    load = await loadForCommand(options, { waitingLine: process.stderr });
  } catch (error) {
    process.stderr.write(`envmux: ${asProblem(error).describe()}\n`);
    return 1;
  }
  const { loaded, secrets, served } = load;
  if (debugEnabled(flags)) {
    for (const line of debugLoadLines(loaded, chainOf(options))) {
      process.stderr.write(`envmux: ${line}\n`);
    }
  }
  const scrubber = new MessageScrubber(secrets);
  if (loaded.errors.length) {
    const n = loaded.errors.length;
    process.stderr.write(`envmux: ${n} problem${n === 1 ? '' : 's'}; the command was not run:\n`);
    for (const line of describeProblems(loaded.errors, (text) => scrubber.scrub(text))) {
      process.stderr.write(`  - ${line}\n`);
    }
    return 1;
  }
  const tooLarge = oversized(loaded);
  if (tooLarge) {
    process.stderr.write(`envmux: ${tooLarge.describe()}\n`);
    return 1;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(loaded.values) };
  const masker = flags.mask ? buildMasker(served, debugEnabled(flags)) : undefined;
  const mask = !!masker && !masker.empty;
  if (mask) Object.assign(env, terminalHints(env));
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, {
      env,
      stdio: mask ? ['inherit', 'pipe', 'pipe'] : 'inherit',
    });
  } catch (error) {
    // Synchronous spawn failures (E2BIG: the environment and arguments together are too large).
    process.stderr.write(`envmux: ${spawnFailure(error, loaded).describe()}\n`);
    return 1;
  }
  const outputs = mask
    ? [
        relay(child, child.stdout!, process.stdout, masker),
        relay(child, child.stderr!, process.stderr, masker),
      ]
    : [];
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve) => {
      child.on('error', (error: NodeJS.ErrnoException) => {
        process.stderr.write(`envmux: cannot run "${cmd}": ${error.code ?? error.message}\n`);
        resolve({ code: error.code === 'ENOENT' ? 127 : 126, signal: null });
      });
      child.on('exit', (code, signal) => resolve({ code, signal }));
    },
  );
  await Promise.all(outputs);
  for (const signal of FORWARDED) process.off(signal, forward);
  if (ended.signal) {
    // Die the way the child died, so a parent (a shell, Docker) sees the signal, not a code.
    process.kill(process.pid, ended.signal);
    await new Promise((r) => setTimeout(r, 100));
    return 128 + (constants.signals[ended.signal] ?? 0);
  }
  return ended.code ?? 1;
}

/** Pipe a child's stream through a redactor to ours; resolves when everything is written. */
function relay(
  child: ChildProcess,
  source: Readable,
  target: Writable,
  masker: Masker,
): Promise<void> {
  const redact = createRedactStream(new Redactor(masker));
  source.pipe(redact).pipe(target, { end: false });
  return new Promise((resolve) => {
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      target.off('error', onTargetError);
      // Resolve once our earlier writes have been handed to the OS.
      if (target.writableEnded || target.destroyed) resolve();
      else target.write('', () => resolve());
    };
    // If our own output goes away (`envmux run ... | head`), close the child's pipe too, so the
    // child sees EPIPE / SIGPIPE as it would without envmux in between.
    const onTargetError = () => {
      source.unpipe(redact);
      source.destroy();
      settled = true;
      resolve();
    };
    target.on('error', onTargetError);
    redact.on('end', finish);
    source.on('error', () => redact.end());
    child.on('error', () => redact.end());
  });
}

/**
 * The one masker of a run, from what providers served for the injected keys. With debug on, says
 * on stderr which keys are masked, which are too short to be, and which have only their value
 * masked (the size bound) — names only.
 */
function buildMasker(served: Map<string, string[]>, debug: boolean): Masker {
  const masker = new Masker([...served.values()].flat());
  if (debug) {
    const masked: string[] = [];
    const short: string[] = [];
    const unencoded = new Set(masker.unencoded);
    const plain: string[] = [];
    for (const [key, parts] of served) {
      if (parts.some((p) => p.length >= MIN_MASKED_LENGTH)) masked.push(key);
      else short.push(key);
      if (parts.some((p) => unencoded.has(p))) plain.push(key);
    }
    const list = (keys: string[]) => (keys.length ? keys.join(', ') : '(none)');
    process.stderr.write(`envmux: masking ${masked.length} key(s): ${list(masked)}\n`);
    if (short.length) {
      process.stderr.write(
        `envmux: not masked (shorter than ${MIN_MASKED_LENGTH} characters): ${list(short)}\n`,
      );
    }
    if (plain.length) {
      process.stderr.write(
        `envmux: only the value is masked, not its encoded forms (size bound): ${list(plain)}\n`,
      );
    }
  }
  return masker;
}

/** Linux's limit on one `NAME=value` string of the environment (MAX_ARG_STRLEN, 32 pages). */
const MAX_ENV_STRING = 128 * 1024;

function size(bytes: number): string {
  return bytes >= 2 ** 20
    ? `${(bytes / 2 ** 20).toFixed(1)} MiB`
    : `${Math.ceil(bytes / 1024)} KiB`;
}

/** A resolved key the OS would refuse to pass to the command (Linux), as a coded error. */
function oversized(loaded: CommandLoad['loaded']): EnvmuxError | undefined {
  if (process.platform !== 'linux') return undefined;
  for (const [key, value] of loaded.values) {
    const bytes = Buffer.byteLength(key) + Buffer.byteLength(value) + 2;
    if (bytes <= MAX_ENV_STRING) continue;
    const entry = loaded.entries.get(key);
    return new EnvmuxError(
      'CONFIG',
      `the value is ${size(bytes)}, too large for the OS environment (at most 128 KiB per variable: E2BIG); the command was not run`,
      {
        key,
        file: entry?.file,
        line: entry?.line,
        hint: 'pass a large secret through a file (write it to a 0600 file and pass its path), or read it at run time with createResolver()',
      },
    );
  }
  return undefined;
}

/** A synchronous spawn failure as a coded error (names the largest keys for E2BIG). */
function spawnFailure(error: unknown, loaded: CommandLoad['loaded']): EnvmuxError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'E2BIG') {
    const largest = [...loaded.values]
      .map(([key, value]) => [key, Buffer.byteLength(value)] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([key, bytes]) => `${key} (${size(bytes)})`);
    return new EnvmuxError(
      'CONFIG',
      `the environment and arguments are too large for the OS (E2BIG); the command was not run. Largest keys: ${largest.join(', ') || '(none)'}`,
      { hint: 'pass large secrets through files, or read them at run time with createResolver()' },
    );
  }
  return new EnvmuxError('CONFIG', `cannot run the command: ${code ?? 'spawn failed'}`);
}

/**
 * What the child would learn from a terminal it no longer writes to: colour support (FORCE_COLOR,
 * unless NO_COLOR or FORCE_COLOR is set) and the terminal size, when stdout and stderr are terminals.
 */
export function terminalHints(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  if (!process.stdout.isTTY || !process.stderr.isTTY) return out;
  if (env.NO_COLOR === undefined && env.FORCE_COLOR === undefined) out.FORCE_COLOR = '1';
  if (env.COLUMNS === undefined && process.stdout.columns)
    out.COLUMNS = String(process.stdout.columns);
  if (env.LINES === undefined && process.stdout.rows) out.LINES = String(process.stdout.rows);
  return out;
}
