// The preload (`node -r envmux/register`, `--import`, or a first `import`): fills process.env before
// the app's first line. On every process's critical path, so it is thin: reference-free files cost
// a dotenv parse and nothing else; resolution code loads only when a value holds a `$`.
// Writes nothing to stdout, ever; fails closed.

import { EnvmuxError, isEnvmuxError } from '../errors.js';
import { findConfigFile, readJsonConfig } from '../resolver/config-file.js';
import { displayPath, envFilesFor, readEnvFiles } from '../resolver/files.js';
import { ownString } from '../resolver/own-string.js';
import { resolveInWorker } from './bridge.js';
import type { RegisterResolution, RegisterSettings } from './resolve-in-thread.js';

const FLAG = Symbol.for('envmux.registered');

function truthy(value: string | undefined): boolean {
  return !!value && !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
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
  const g = globalThis as { [FLAG]?: boolean };
  const env = process.env;
  if (g[FLAG] || truthy(env.ENVMUX_DISABLE) || inWorkerThread()) return;
  g[FLAG] = true;
  const debug = truthy(env.ENVMUX_DEBUG) || /(^|,)envmux(,|$)/.test(env.DEBUG ?? '');
  const strict = env.ENVMUX_STRICT === undefined || truthy(env.ENVMUX_STRICT);
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`envmux: ${line}\n`);

  let resolution: RegisterResolution;
  try {
    resolution = resolve(env, debug ? log : undefined);
  } catch (error) {
    const e = isEnvmuxError(error)
      ? error
      : new EnvmuxError('CONFIG', String((error as Error)?.message ?? error));
    resolution = { values: new Map(), kept: [], errors: [e], sources: new Map(), files: [] };
  }

  const { values, errors } = resolution;
  if (errors.length && strict) {
    log(`${errors.length} problem${errors.length === 1 ? '' : 's'}; the app was not started:`);
    for (const e of errors) process.stderr.write(`  - ${e.describe()}\n`);
    process.stderr.write('  (set ENVMUX_STRICT=false to start anyway with these keys unset)\n');
    process.exit(1);
  }
  for (const e of errors) {
    log(`warning: ${e.describe()} (left unset)`);
    if (e.key) values.delete(e.key);
  }
  for (const [key, value] of values) env[key] = value;
  if (debug) {
    const ms = (performance.now() - started).toFixed(1);
    log(
      `read ${resolution.files.join(', ') || 'no env files'}; set ${values.size} key(s), kept ${resolution.kept.length} from the environment, in ${ms} ms`,
    );
    for (const [key, s] of resolution.sources) {
      const where = `${s.entry.file}${s.entry.line ? `:${s.entry.line}` : ''}`;
      log(`  ${key} ← ${where}${s.providers.length ? ` via ${s.providers.join(', ')}` : ''}`);
    }
  }
}

/** Read the configuration and the env files, and resolve what they reference. */
function resolve(env: NodeJS.ProcessEnv, debug?: (line: string) => void): RegisterResolution {
  const cwd = process.cwd();
  const found = findConfigFile(cwd, env);
  if (found?.kind === 'module') {
    // Only a worker can load a JS config (it may define async providers): start it at once, and
    // let it read the env files as well.
    debug?.(`config ${displayPath(found.path)} is a module: resolving in a worker`);
    return resolveInWorker(env);
  }
  const settings = (found ? readJsonConfig(found) : {}) as RegisterSettings;
  const { entries, errors, read } = readEnvFiles(envFilesFor({ files: settings.files }, env), cwd);
  let needsResolution = false;
  for (const entry of entries.values()) needsResolution ||= entry.value.includes('$');
  if (needsResolution) {
    const { resolveForRegister } =
      require('./register-resolve.cjs') as typeof import('./resolve-in-thread.js');
    return resolveForRegister(env, { settings, entries, fileErrors: errors, files: read }, debug);
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
