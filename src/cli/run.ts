// `envmux run -- <cmd>`: resolve, then run a command with the resolved environment, masking secret
// values in its output. Never runs the command with a partial environment; never uses a shell.

import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { maskPatterns } from '../mask/patterns.js';
import { createRedactStream, Redactor } from '../mask/redactor.js';
import {
  addEnvOptions,
  asProblem,
  type CommandLoad,
  commandLoadOptions,
  describeProblem,
  type EnvFlags,
  exitWhenFlushed,
  loadForCommand,
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
    .passThroughOptions()
    .addHelpText(
      'after',
      `
Examples:
  envmux run -- node server.js
  envmux run -f .env.production --provider aws -- ./migrate.sh
  envmux run -- sh -c 'echo $DB_PASSWORD'      # prints *** (the child sees the value)

Masking: every resolved value of a key holding a reference (and each line of a multi-line value,
and its base64, URL-encoded and JSON-escaped forms) is replaced by *** in the command's stdout and
stderr, also when split across writes. Values shorter than 4 characters are not masked. When both
stdout and stderr are terminals, FORCE_COLOR=1 is set for the command (unless NO_COLOR or
FORCE_COLOR is set); --no-mask runs it on the terminal itself.

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
  try {
    load = await loadForCommand(await commandLoadOptions(flags));
  } catch (error) {
    process.stderr.write(`envmux: ${describeProblem(asProblem(error), [])}\n`);
    return 1;
  }
  const { loaded, secrets } = load;
  if (loaded.errors.length) {
    const n = loaded.errors.length;
    process.stderr.write(`envmux: ${n} problem${n === 1 ? '' : 's'}; the command was not run:\n`);
    for (const e of loaded.errors) process.stderr.write(`  - ${describeProblem(e, secrets)}\n`);
    return 1;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(loaded.values) };
  const patterns = flags.mask ? maskPatterns(secrets) : [];
  const mask = patterns.length > 0;
  if (mask) Object.assign(env, terminalHints(env));
  const child = spawn(cmd, args, {
    env,
    stdio: mask ? ['inherit', 'pipe', 'pipe'] : 'inherit',
  });
  const outputs = mask
    ? [
        relay(child, child.stdout!, process.stdout, patterns),
        relay(child, child.stderr!, process.stderr, patterns),
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
  patterns: string[],
): Promise<void> {
  const redact = createRedactStream(new Redactor(patterns, { raw: true }));
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
