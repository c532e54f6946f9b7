// The preload's resolution, loaded only when an env file holds a reference (or a JS config file
// exists): synchronous stores resolve in this thread; async stores in a worker the main thread
// waits on with Atomics.wait. Writes nothing to stdout; returns problems instead of printing them.

import { EnvmuxError, type ErrorCode, isEnvmuxError } from '../errors.js';
import { registerLocalSyncBuilder } from '../providers/local/sync-builder.js';
import type { Provider } from '../providers/provider.js';
import { buildProviderSync, detectChain } from '../providers/registry.js';
import type { EnvEntry } from '../resolver/parse.js';
import { Evaluation, type Lookup, type Resolution, resolveSync } from '../resolver/resolve.js';
import { SeenValues } from '../resolver/scrub.js';
import { resolveInWorker } from './bridge.js';

registerLocalSyncBuilder();

const FAILOVER: ErrorCode[] = ['NOT_FOUND', 'UNAVAILABLE', 'TIMEOUT', 'THROTTLED'];

/** A resolution for the preload; `notices` are lines for stderr (the last-known-good line). */
export type RegisterResolution = Resolution & { files: string[]; notices?: string[] };

/** What the thin preload already read: the settings and the files. */
export interface RegisterInput {
  settings: RegisterSettings;
  entries: Map<string, EnvEntry>;
  fileErrors: EnvmuxError[];
  files: string[];
}

/** Settings the preload takes without code: env vars and a JSON config (file or package.json). */
export interface RegisterSettings {
  files?: string[];
  providers?: string[];
  override?: boolean;
  expand?: boolean;
}

/** Resolve the references for the preload: in this thread if it can, else in a worker. */
export function resolveForRegister(
  env: NodeJS.ProcessEnv,
  input: RegisterInput,
  worker: (env: NodeJS.ProcessEnv) => RegisterResolution = resolveInWorker,
  debug?: (line: string) => void,
): RegisterResolution {
  try {
    return resolveHere(env, input, debug) ?? worker(env);
  } catch (error) {
    const e = isEnvmuxError(error)
      ? error
      : new EnvmuxError('CONFIG', String((error as Error)?.message ?? error));
    return { values: new Map(), kept: [], errors: [e], sources: new Map(), files: input.files };
  }
}

/**
 * Resolve in this thread when every store involved answers synchronously; `undefined` when a
 * worker is needed (a reference to an asynchronous store).
 */
function resolveHere(
  env: NodeJS.ProcessEnv,
  { settings, entries, fileErrors, files }: RegisterInput,
  debug?: (line: string) => void,
): RegisterResolution | undefined {
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
  const seen = new SeenValues();
  const lookup: Lookup = (request) => {
    const providers = request.scheme === 'secret' ? chain! : [provider(request.scheme)!];
    let lastError: EnvmuxError | undefined;
    for (const p of providers) {
      try {
        const value = p.getSync!(request.name, { version: request.version });
        seen.add(value);
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
  // A store's message is untrusted: no value this load has seen may reach a problem's text.
  for (const [key, source] of resolution.sources) {
    if (source.providers.length) seen.add(resolution.values.get(key));
  }
  for (const error of resolution.errors) seen.error(error);
  return { ...resolution, errors: [...fileErrors, ...resolution.errors], files };
}
