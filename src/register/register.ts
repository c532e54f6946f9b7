// The preload (`node -r envmux/register`, `--import`, or a first `import`): fills process.env before
// the app's first line. On every process's critical path, so it is thin: reference-free files cost
// a dotenv parse and nothing else; resolution code loads only when a value holds a `$`.
// Writes nothing to stdout, ever; fails closed. See docs/architecture.md, "The preload".

import { describeProblems, EnvmuxError, isEnvmuxError } from '../errors.js';
import { monotonicMs } from '../resolver/clock.js';
import { findConfigFile, readJsonConfig } from '../resolver/config-file.js';
import { parseDuration } from '../resolver/durations.js';
import { parseBoolean } from '../resolver/env-flags.js';
import { displayPath, envFilesFor, readEnvFiles } from '../resolver/files.js';
import { isOpValue } from '../resolver/op-value.js';
import { ownString } from '../resolver/own-string.js';
import { resolveInWorker } from './bridge.js';
import type { RegisterResolution, RegisterSettings } from './resolve-in-thread.js';

const FLAG = Symbol.for('envmux.registered');
/** Set by register.mjs when `node --import` loaded it: async loads are awaited, not bridged. */
const AWAIT = Symbol.for('envmux.register.await');

/** A load left to the caller that can await it (register.mjs under `node --import`). */
export interface PendingLoad {
  cwd: string;
  deadline: number;
  /** Apply the awaited resolution exactly as an in-thread one (or exit 1 listing its problems). */
  settle(resolution: RegisterResolution): void;
}

let pending: PendingLoad | undefined;

/** The load register.mjs must await, once; `undefined` when everything was settled in-thread. */
export function takePendingLoad(): PendingLoad | undefined {
  const p = pending;
  pending = undefined;
  return p;
}

/** A boolean variable; one the parser does not understand stops the app (fail closed). */
function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  try {
    return parseBoolean(env, name, fallback);
  } catch (error) {
    process.stderr.write(`envmux: the app was not started: ${(error as EnvmuxError).describe()}\n`);
    process.exit(1);
  }
}

/**
 * Worker threads inherit `-r envmux/register`; the main thread has already filled the environment
 * they copy. (`process.chdir` is replaced in workers; `require('node:worker_threads')` would cost
 * ~1 ms on every start.)
 */
function inWorkerThread(): boolean {
  return process.chdir.name === 'unavailableInWorker';
}

function register(): void {
  const g = globalThis as { [FLAG]?: boolean; [AWAIT]?: boolean };
  const env = process.env;
  if (g[FLAG] || inWorkerThread() || flag(env, 'ENVMUX_DISABLE', false)) return;
  g[FLAG] = true;
  const debug = flag(env, 'ENVMUX_DEBUG', false) || /(^|,)envmux(,|$)/.test(env.DEBUG ?? '');
  const strict = flag(env, 'ENVMUX_STRICT', true);
  const started = monotonicMs();
  const log = (line: string) => process.stderr.write(`envmux: ${line}\n`);

  let deferred = false;
  // Under `node --import` the async load is awaited by register.mjs on this thread: no worker.
  const worker = g[AWAIT]
    ? (): RegisterResolution => {
        deferred = true;
        return { values: new Map(), kept: [], errors: [], sources: new Map(), files: [] };
      }
    : resolveInWorker;
  let resolution: RegisterResolution;
  try {
    resolution = resolve(env, worker, debug ? log : undefined);
  } catch (error) {
    const e = isEnvmuxError(error)
      ? error
      : new EnvmuxError('CONFIG', String((error as Error)?.message ?? error));
    resolution = { values: new Map(), kept: [], errors: [e], sources: new Map(), files: [] };
  }
  const settle = (r: RegisterResolution) => apply(r, env, strict, debug, started, log);
  if (!deferred) {
    settle(resolution);
    return;
  }
  if (debug) log('loaded by --import: awaiting the load on the main thread');
  pending = { cwd: process.cwd(), deadline: parseDuration(env.ENVMUX_DEADLINE, 15_000), settle };
}

/** Fill process.env with a resolution, or list its problems and exit 1 (fail closed). */
function apply(
  resolution: RegisterResolution,
  env: NodeJS.ProcessEnv,
  strict: boolean,
  debug: boolean,
  started: number,
  log: (line: string) => void,
): void {
  const { values, errors } = resolution;
  for (const line of resolution.notices ?? []) log(line);
  // The files and keys, names only: also when the load fails, before the app is refused.
  if (debug && errors.length && strict) debugLines(resolution, 0, started, log);
  if (errors.length && strict) {
    log(`${errors.length} problem${errors.length === 1 ? '' : 's'}; the app was not started:`);
    for (const line of describeProblems(errors)) process.stderr.write(`  - ${line}\n`);
    process.stderr.write('  (set ENVMUX_STRICT=false to start anyway with these keys unset)\n');
    process.exit(1);
  }
  for (const e of errors) {
    log(`warning: ${e.describe()} (left unset)`);
    if (e.key) values.delete(e.key);
  }
  for (const [key, value] of values) env[key] = value;
  if (debug) debugLines(resolution, values.size, started, log);
}

/** The ENVMUX_DEBUG lines of a load: the files read, how many keys, where each came from (names only). */
function debugLines(
  resolution: RegisterResolution,
  set: number,
  started: number,
  log: (line: string) => void,
): void {
  const ms = (monotonicMs() - started).toFixed(1);
  log(
    `read ${resolution.files.join(', ') || 'no env files'}; set ${set} key(s), kept ${resolution.kept.length} from the environment, in ${ms} ms`,
  );
  for (const [key, s] of resolution.sources) {
    const where = `${s.entry.file}${s.entry.line ? `:${s.entry.line}` : ''}`;
    log(`  ${key} ← ${where}${s.providers.length ? ` via ${s.providers.join(', ')}` : ''}`);
  }
}

/** Read the configuration and the env files, and resolve what they reference. */
function resolve(
  env: NodeJS.ProcessEnv,
  worker: (env: NodeJS.ProcessEnv) => RegisterResolution,
  debug?: (line: string) => void,
): RegisterResolution {
  const cwd = process.cwd();
  const found = findConfigFile(cwd, env);
  if (found?.kind === 'module') {
    // Only a worker can load a JS config (it may define async providers): start it at once, and
    // let it read the env files as well.
    debug?.(`config ${displayPath(found.path)} is a module: resolving asynchronously`);
    return worker(env);
  }
  const settings = (found ? readJsonConfig(found) : {}) as RegisterSettings;
  const { entries, errors, read } = readEnvFiles(envFilesFor({ files: settings.files }, env), cwd);
  let needsResolution = false;
  // `quote` last: asking it places every assignment of the file (a second pass over the text).
  for (const entry of entries.values())
    needsResolution ||=
      entry.value.includes('$') || (isOpValue(entry.value) && entry.quote !== "'");
  if (needsResolution) {
    const { resolveForRegister } =
      require('./register-resolve.cjs') as typeof import('./resolve-in-thread.js');
    const input = { settings, entries, fileErrors: errors, files: read };
    return resolveForRegister(env, input, worker, debug);
  }
  // No references: dotenv's populate rule (the environment wins unless override).
  const values = new Map<string, string>();
  const kept: string[] = [];
  for (const [key, entry] of entries) {
    if (ownString(env, key) !== undefined && !settings.override) kept.push(key);
    else values.set(key, entry.value);
  }
  return { values, kept, errors, sources: new Map(), files: read };
}

register();
