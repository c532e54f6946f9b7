// The preload (`node -r envmux/register`, `--import`, or a first `import`): fills process.env before
// the app's first line. Thin by design — on every process's critical path: reference-free files cost
// a dotenv parse; synchronous stores resolve in-thread; only async stores start a worker, which the
// main thread waits on with Atomics.wait. Writes nothing to stdout, ever; fails closed.

import { findConfigFile, readJsonConfig } from './config-file.js';
import { parseDuration } from './durations.js';
import { EnvmuxError, type ErrorCode, isEnvmuxError } from './errors.js';
import type { Provider } from './providers/provider.js';
import { buildProviderSync, detectChain } from './providers/registry.js';
import type { WorkerReply, WorkerRequest } from './register-protocol.js';
import { displayPath, envFilesFor, readEnvFiles } from './resolver/files.js';
import { Evaluation, type Lookup, type Resolution, resolveSync } from './resolver/resolve.js';

const FLAG = Symbol.for('envmux.registered');
const FAILOVER: ErrorCode[] = ['NOT_FOUND', 'UNAVAILABLE', 'TIMEOUT', 'THROTTLED'];

function truthy(value: string | undefined): boolean {
  return !!value && !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
}

function register(): void {
  const g = globalThis as { [FLAG]?: boolean };
  const { isMainThread } = process.getBuiltinModule(
    'node:worker_threads',
  ) as typeof import('node:worker_threads');
  if (g[FLAG] || !isMainThread || truthy(process.env.ENVMUX_DISABLE)) return;
  g[FLAG] = true;
  const env = process.env;
  const debug = truthy(env.ENVMUX_DEBUG) || /(^|,)envmux(,|$)/.test(env.DEBUG ?? '');
  const strict = env.ENVMUX_STRICT === undefined || truthy(env.ENVMUX_STRICT);
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`envmux: ${line}\n`);

  let resolution: Resolution & { files: string[] };
  try {
    resolution = resolveHere(env, debug ? log : undefined) ?? resolveInWorker(env);
  } catch (error) {
    const e = isEnvmuxError(error)
      ? error
      : new EnvmuxError('CONFIG', String((error as Error)?.message ?? error));
    resolution = { values: new Map(), kept: [], errors: [e], sources: new Map(), files: [] };
  }
  const { values, errors } = resolution;
  if (errors.length && strict) {
    log(`${errors.length} problem${errors.length === 1 ? '' : 's'}; the app was not started:`);
    for (const e of errors) process.stderr.write(`  - ${describe(e)}\n`);
    process.stderr.write('  (set ENVMUX_STRICT=false to start anyway with these keys unset)\n');
    process.exit(1);
  }
  for (const e of errors) log(`warning: ${describe(e)} (left unset)`);
  for (const [key, value] of values) env[key] = value;
  if (debug) {
    log(
      `read ${resolution.files.join(', ') || 'no env files'}; set ${values.size} key(s), kept ${resolution.kept.length} from the environment in ${(performance.now() - started).toFixed(1)} ms`,
    );
    for (const [key, s] of resolution.sources) {
      log(
        `  ${key} ← ${s.entry.file}${s.entry.line ? `:${s.entry.line}` : ''}${s.providers.length ? ` via ${s.providers.join(', ')}` : ''}`,
      );
    }
  }
}

function describe(e: EnvmuxError): string {
  if (typeof e.describe === 'function') return e.describe();
  const where = [e.file && (e.line ? `${e.file}:${e.line}` : e.file), e.key, e.reference]
    .filter(Boolean)
    .join(' ');
  return `${where ? `${where}: ` : ''}${e.code}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`;
}

/** Settings the preload takes without code: env vars and a JSON config (file or package.json). */
interface Settings {
  files?: string[];
  providers?: string[];
  override?: boolean;
  expand?: boolean;
  deadline?: string | number;
}

/**
 * Resolve in this thread when every store involved answers synchronously; `undefined` when a
 * worker is needed (a JS config file, or a reference to an asynchronous store).
 */
function resolveHere(
  env: NodeJS.ProcessEnv,
  debug?: (line: string) => void,
): (Resolution & { files: string[] }) | undefined {
  const cwd = process.cwd();
  const found = findConfigFile(cwd, env);
  if (found?.kind === 'module') {
    debug?.(`config ${displayPath(found.path)} is a module: resolving in a worker`);
    return undefined;
  }
  const settings = (found ? readJsonConfig(found) : {}) as Settings;
  const { entries, errors, read } = readEnvFiles(envFilesFor({ files: settings.files }, env), cwd);
  const types = settings.providers ?? detectChain(env).map((d) => d.type);
  const isScheme = (w: string) =>
    w === 'secret' || w === 'env' || types.includes(w) || buildProviderSync(w, env) !== undefined;
  const evaluation = new Evaluation(entries.values(), {
    processEnv: env,
    override: settings.override,
    expand: settings.expand,
    isScheme,
  });
  const schemes = evaluation.schemes();
  const built = new Map<string, Provider | undefined>();
  const provider = (type: string) => {
    if (!built.has(type)) built.set(type, buildProviderSync(type, env));
    return built.get(type);
  };
  let chain: Provider[] | undefined;
  for (const scheme of schemes) {
    if (scheme === 'env') continue;
    if (scheme === 'secret') {
      const providers = types.map(provider);
      if (providers.some((p) => !p?.getSync)) {
        debug?.(`the chain (${types.join(', ')}) has an asynchronous store: resolving in a worker`);
        return undefined;
      }
      chain = providers as Provider[];
    } else if (!provider(scheme)?.getSync) {
      debug?.(`provider "${scheme}" is asynchronous: resolving in a worker`);
      return undefined;
    }
  }
  const lookup: Lookup = (request) => {
    const providers = request.scheme === 'secret' ? chain! : [provider(request.scheme)!];
    let lastError: EnvmuxError | undefined;
    for (const p of providers) {
      try {
        const value = p.getSync!(request.name, { version: request.version });
        if (value !== undefined) return { value, provider: p.id };
      } catch (error) {
        const e = isEnvmuxError(error)
          ? error
          : new EnvmuxError('UNAVAILABLE', String(error), { provider: p.id });
        if (request.scheme !== 'secret' || !FAILOVER.includes(e.code)) return { error: e };
        lastError = e;
      }
    }
    return lastError ? { error: lastError } : { value: undefined };
  };
  const resolution = resolveSync(evaluation, lookup);
  return { ...resolution, errors: [...errors, ...resolution.errors], files: read };
}

/** Resolve in a worker thread; this thread sleeps in Atomics.wait until it answers or the deadline. */
function resolveInWorker(env: NodeJS.ProcessEnv): Resolution & { files: string[] } {
  const { Worker, MessageChannel, receiveMessageOnPort } = process.getBuiltinModule(
    'node:worker_threads',
  ) as typeof import('node:worker_threads');
  const path = process.getBuiltinModule('node:path') as typeof import('node:path');
  const deadline = parseDuration(env.ENVMUX_DEADLINE, 15_000);
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const request: WorkerRequest = { signal, port: port2, cwd: process.cwd(), deadline };
  const worker = new Worker(path.join(__dirname, 'register-worker.cjs'), {
    workerData: request,
    transferList: [port2],
    // The worker must not preload envmux again (execArgv and NODE_OPTIONS are inherited).
    execArgv: [],
    env: { ...env, NODE_OPTIONS: '' },
    stdout: true,
  });
  // Whatever a custom provider prints goes to stderr: stdout belongs to the app.
  worker.stdout.pipe(process.stderr);
  worker.unref();
  // Wait without spinning: one Atomics.wait with the load's deadline plus a grace period.
  const outcome = Atomics.wait(signal, 0, 0, deadline + 2000);
  const message = receiveMessageOnPort(port1)?.message as WorkerReply | undefined;
  port1.close();
  void worker.terminate();
  if (!message) {
    const why =
      outcome === 'timed-out'
        ? `no answer within ${deadline} ms`
        : 'the worker stopped without an answer';
    throw new EnvmuxError('TIMEOUT', `resolving references in the worker failed: ${why}`, {
      hint: 'check provider connectivity, or raise ENVMUX_DEADLINE',
    });
  }
  const errors = message.errors.map((e) => {
    const { code, message: text, ...context } = e;
    return new EnvmuxError(code, text, context);
  });
  return {
    values: new Map(message.values),
    kept: message.kept,
    errors,
    sources: new Map(),
    files: message.files,
  };
}

register();
