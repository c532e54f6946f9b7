// `envmux run -- <cmd>`: resolve, then run a command with the resolved environment, masking secret
// values in its output. Never runs the command with a partial environment; never uses a shell.

import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { describeProblems, EnvmuxError } from '../errors.js';
import { MIN_MASKED_LENGTH } from '../mask/patterns.js';
import { createRedactStream, Masker, Redactor } from '../mask/redactor.js';
import { createResolver, type Resolver } from '../resolver/client.js';
import { recordingResolver, watchReloads } from '../resolver/config-watch.js';
import { parseDuration } from '../resolver/durations.js';
import type { SecretRequest } from '../resolver/resolve.js';
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
  watch?: boolean;
  watchInterval?: string;
  grace?: string;
  signal?: string;
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
      '--watch',
      're-read the secrets the command was given and restart it when one really changed',
    )
    .option('--watch-interval <duration>', 'with --watch: time between re-reads (default 30s)')
    .option(
      '--grace <duration>',
      'with --watch: how long the command has to end after the signal before SIGKILL (default 10s)',
    )
    .option(
      '--signal <name>',
      'with --watch: the signal that asks the command to end (default SIGTERM)',
    )
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
  envmux run --watch --watch-interval 1m --grace 30s -- node server.js

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
that ended it; SIGINT, SIGTERM and SIGHUP are forwarded to the command.

--watch re-reads the secrets the command was given every --watch-interval (the stores, not the
cache) and restarts the command when one really changed (its content, not only its version) and
the new environment loads: it sends --signal (SIGTERM), then SIGKILL after --grace, and says why
on stderr (secret names, providers and keys, never values). A change whose environment has
problems is reported and the command keeps running. envmux exits when the command ends on its own
or by a forwarded signal, with its status.`,
    );
  addEnvOptions(command).action(async (cmd: string, args: string[], flags: RunFlags) => {
    exitWhenFlushed(await run(cmd, args, flags));
  });
}

/** Resolve, then run; resolves to the exit code (after re-raising a signal if the child died of one). */
async function run(cmd: string, args: string[], flags: RunFlags): Promise<number> {
  let load: CommandLoad;
  let options: CommandLoadOptions;
  let watching: WatchSetup | undefined;
  try {
    options = await commandLoadOptions(flags);
    if (flags.watch) {
      watching = watchSetup(options, flags);
      options = { ...options, resolver: watching.resolver };
    }
    load = await loadForCommand(options, { waitingLine: process.stderr });
  } catch (error) {
    process.stderr.write(`envmux: ${asProblem(error).describe()}\n`);
    await watching?.close();
    return 1;
  }
  if (debugEnabled(flags)) {
    for (const line of debugLoadLines(load.loaded, chainOf(options))) {
      process.stderr.write(`envmux: ${line}\n`);
    }
  }
  if (!usable(load, 'the command was not run')) {
    await watching?.close();
    return 1;
  }
  const ended = watching
    ? await runWatching(cmd, args, flags, load, options, watching)
    : await (await startChild(cmd, args, flags, load)).ended;
  if (ended.signal) {
    // Die the way the child died, so a parent (a shell, Docker) sees the signal, not a code.
    process.kill(process.pid, ended.signal);
    await new Promise((r) => setTimeout(r, 100));
    return 128 + (constants.signals[ended.signal] ?? 0);
  }
  return ended.code ?? 1;
}

/** Whether a load may start the command; else its problems are on stderr (names, never values). */
function usable({ loaded, secrets }: CommandLoad, outcome: string): boolean {
  const scrubber = new MessageScrubber(secrets);
  if (loaded.errors.length) {
    const n = loaded.errors.length;
    process.stderr.write(`envmux: ${n} problem${n === 1 ? '' : 's'}; ${outcome}:\n`);
    for (const line of describeProblems(loaded.errors, (text) => scrubber.scrub(text))) {
      process.stderr.write(`  - ${line}\n`);
    }
    return false;
  }
  const tooLarge = oversized(loaded);
  if (tooLarge) {
    process.stderr.write(`envmux: ${tooLarge.describe()}\n`);
    return false;
  }
  return true;
}

type Ended = { code: number | null; signal: NodeJS.Signals | null };

/** A started command: its process, its exit, and its masked output relays. */
interface Started {
  child?: ChildProcess;
  /** Resolves once the command ended and its output is written. */
  ended: Promise<Ended>;
}

/** Start the command with a load's environment; SIGINT, SIGTERM and SIGHUP are forwarded to it. */
async function startChild(
  cmd: string,
  args: string[],
  flags: RunFlags,
  { loaded, served }: CommandLoad,
  forward = true,
): Promise<Started> {
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
    return { ended: Promise.resolve({ code: 1, signal: null }) };
  }
  const outputs = mask
    ? [
        relay(child, child.stdout!, process.stdout, masker),
        relay(child, child.stderr!, process.stderr, masker),
      ]
    : [];
  const pass = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  if (forward) for (const signal of FORWARDED) process.on(signal, pass);
  const ended = new Promise<Ended>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      process.stderr.write(`envmux: cannot run "${cmd}": ${error.code ?? error.message}\n`);
      resolve({ code: error.code === 'ENOENT' ? 127 : 126, signal: null });
    });
    child.on('exit', (code, signal) => resolve({ code, signal }));
  }).then(async (result) => {
    await Promise.all(outputs);
    if (forward) for (const signal of FORWARDED) process.off(signal, pass);
    return result;
  });
  return { child, ended };
}

/** The long-lived resolver of `run --watch` and what its loads fetched. */
interface WatchSetup {
  resolver: Resolver;
  requests: Map<string, SecretRequest>;
  interval: number;
  grace: number;
  signal: NodeJS.Signals;
  close(): Promise<void>;
}

function watchSetup(options: CommandLoadOptions, flags: RunFlags): WatchSetup {
  const interval = parseDuration(flags.watchInterval, 30_000);
  const grace = parseDuration(flags.grace, 10_000);
  const signal = (flags.signal ?? 'SIGTERM').toUpperCase();
  const named = signal.startsWith('SIG') ? signal : `SIG${signal}`;
  if (!(named in constants.signals) || named === 'SIGKILL') {
    throw new EnvmuxError(
      'CONFIG',
      `--signal ${flags.signal} is not a signal envmux can send first`,
      {
        hint: 'e.g. --signal SIGTERM, SIGINT, SIGHUP or SIGUSR2 (SIGKILL follows after --grace)',
      },
    );
  }
  const env = options.env ?? options.processEnv ?? process.env;
  const inner = createResolver({ ...options, env, audit: options.audit ?? { source: 'cli' } });
  const requests = new Map<string, SecretRequest>();
  return {
    resolver: recordingResolver(inner, requests),
    requests,
    interval,
    grace,
    signal: named as NodeJS.Signals,
    close: () => inner.close(),
  };
}

/**
 * `run --watch`: run the command, re-read the secrets it was given every interval, and restart it
 * when one really changed (content digest) and the new environment loads: the graceful signal,
 * SIGKILL after the grace period, the reason on stderr (names and providers, never values). Ends
 * when the command ends on its own (or by a forwarded signal) with its status.
 */
async function runWatching(
  cmd: string,
  args: string[],
  flags: RunFlags,
  first: CommandLoad,
  options: CommandLoadOptions,
  watching: WatchSetup,
): Promise<Ended> {
  let load = first;
  let current = await startChild(cmd, args, flags, load, false);
  let stopping = false;
  let restarting: Started | undefined;
  let finish!: (ended: Ended) => void;
  const finished = new Promise<Ended>((resolve) => {
    finish = resolve;
  });
  const follow = (started: Started) => {
    void started.ended.then((ended) => {
      if (restarting === started && !stopping) return; // a restart ended it
      stopping = true;
      finish(ended);
    });
  };
  follow(current);
  const pass = (signal: NodeJS.Signals) => {
    stopping = true;
    const child = current.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, pass);

  const reloads = watchReloads(
    watching.resolver,
    [...watching.requests.values()],
    // A change must still be there one settle later (a file read half-written restarts nothing).
    { interval: watching.interval, debounce: Math.min(watching.interval, 1_000) },
    async (changes) => {
      if (stopping) return;
      let next: CommandLoad;
      try {
        next = await loadForCommand({ ...options, resolver: watching.resolver });
      } catch (error) {
        process.stderr.write(`envmux: ${asProblem(error).describe()}\n`);
        return;
      }
      const what = changes
        .map((c) => `"${c.key}"${c.provider ? ` (${c.provider})` : ''}`)
        .join(', ');
      if (!usable(next, `${what} changed; the command keeps running with the environment it has`))
        return;
      const keys = [...new Set([...load.loaded.values.keys(), ...next.loaded.values.keys()])]
        .filter((k) => load.loaded.values.get(k) !== next.loaded.values.get(k))
        .sort();
      if (!keys.length || stopping) return;
      const grace = formatDuration(watching.grace);
      process.stderr.write(
        `envmux: secret${changes.length === 1 ? '' : 's'} ${what} changed (${keys.join(', ')}): restarting the command (${watching.signal}, then SIGKILL after ${grace})\n`,
      );
      restarting = current;
      await stop(current, watching.signal, watching.grace);
      if (stopping) return;
      load = next;
      current = await startChild(cmd, args, flags, load, false);
      restarting = undefined;
      follow(current);
    },
  );
  const ended = await finished;
  reloads.close();
  for (const signal of FORWARDED) process.off(signal, pass);
  await watching.close();
  return ended;
}

/** Send `signal`, then SIGKILL when the command has not ended within `grace` ms. */
async function stop(started: Started, signal: NodeJS.Signals, grace: number): Promise<void> {
  const child = started.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    await started.ended;
    return;
  }
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), grace);
  });
  if ((await Promise.race([started.ended, late])) === 'late') {
    process.stderr.write(
      `envmux: the command did not end within ${formatDuration(grace)} of ${signal}; sending SIGKILL\n`,
    );
    child.kill('SIGKILL');
  }
  clearTimeout(timer);
  await started.ended;
}

/** `1500` → `1.5s`, `600000` → `10m`. */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000 || ms % 60_000) return `${ms / 1000}s`;
  return `${ms / 60_000}m`;
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
