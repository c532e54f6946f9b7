// Stage 4–5 driver: files → entries → resolution (through a resolver client when a reference needs
// a provider) → validation → a frozen config. Reports every problem of a load in one error.

import { setMaxListeners } from 'node:events';
import { type AuditInput, processAuditLog } from '../audit/audit-log.js';
import { EnvmuxAggregateError, type EnvmuxError, isEnvmuxError, toEnvmuxError } from '../errors.js';
import { shownPath } from '../providers/local/format.js';
import { isProviderType, leftOutOfChain } from '../providers/registry.js';
import { createResolver, type Resolver, type ResolverOptions, resolverFor } from './client.js';
import { findConfigFile, readConfigFile } from './config-file.js';
import {
  type ConfigWatchOptions,
  changedKeys,
  recordingResolver,
  type WatchedConfig,
  watchReloads,
} from './config-watch.js';
import { parseDuration } from './durations.js';
import { envFilesFor, type FileOptions, readEnvFiles } from './files.js';
import {
  everyStoreUnreachable,
  formatAge,
  type LastKnownGood,
  type LastKnownGoodOptions,
  lastKnownGoodOf,
  type OpenedCopy,
  readLastKnownGood,
  saveLastKnownGood,
} from './last-known-good.js';
import { suggestNearNames } from './near-names.js';
import { ownString } from './own-string.js';
import type { EnvEntry } from './parse.js';
import { Evaluation, type Resolution, resolveAsync, type SecretRequest } from './resolve.js';
import { SeenValues } from './scrub.js';
import { type InferOutput, type StandardSchemaV1, validate } from './validate.js';

export interface LoadOptions<S extends StandardSchemaV1 | undefined = undefined>
  extends ResolverOptions,
    FileOptions {
  /** A zod 4 object (or any Standard Schema); the result's type is inferred from it. */
  schema?: S;
  /** The environment `$<env:...>` reads and that wins over files; default `process.env`. Never written. */
  processEnv?: Record<string, string | undefined>;
  /** Let file values replace variables the environment already has; default false. */
  override?: boolean;
  /** Expand `${NAME}` / `$NAME` from other keys (dotenv-expand semantics); default false. */
  expand?: boolean;
  /** The whole load's deadline (ms or `15s`); default `ENVMUX_DEADLINE`, else 15 s. */
  deadline?: number | string;
  /** Reuse a resolver client (its chain, cache and audit) instead of creating one. */
  resolver?: Resolver;
  /** A config file to merge under these options, or `false` to read none; default: found in cwd. */
  configFile?: string | false;
  /**
   * Keep an encrypted last-known-good copy of the values the stores served (opt-in; also
   * `ENVMUX_LKG_PATH` / `ENVMUX_LKG_MAX_AGE`), used only when every store is unreachable
   * (docs/architecture.md, "Resolution"). `false` turns it off whatever the environment says.
   */
  lastKnownGood?: LastKnownGoodOptions | false;
  /** Where a load's notices go (the last-known-good line); default stderr with an `envmux: ` prefix. */
  onNotice?: (line: string) => void;
}

/** What a load produced, before validation. */
export interface LoadedEnvironment extends Resolution {
  /** Every entry read, by key (highest-precedence file's). */
  entries: Map<string, EnvEntry>;
  /** Files read, as displayed in messages. */
  files: string[];
  /** The schema's output when the options hold a schema and the load has no problem. */
  config?: unknown;
  /** Every value the load has seen (what its problems were scrubbed of). */
  seen: SeenValues;
}

/** Result type of `loadConfig`: the schema's output, or the file keys as strings. */
export type LoadedConfig<S> = S extends StandardSchemaV1 ? InferOutput<S> : Record<string, string>;

/** Options from the config file (if any) under the given ones. */
export async function withConfigFile<
  T extends { cwd?: string; configFile?: string | false; env?: Record<string, string | undefined> },
>(options: T): Promise<T> {
  if (options.configFile === false) return options;
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const found = findConfigFile(
    cwd,
    options.configFile ? { ...env, ENVMUX_CONFIG: options.configFile } : env,
  );
  if (!found) return options;
  // An option passed as `undefined` means "not given": it must not hide the file's value.
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...(await readConfigFile(found)), ...given } as T;
}

/**
 * Read the env files and resolve every reference. Problems come back in `errors`; nothing throws
 * for a bad file or reference. Used by `loadConfig`, the register preload's worker and the CLI.
 */
export async function loadEnvironment(
  options: LoadOptions<StandardSchemaV1 | undefined>,
): Promise<LoadedEnvironment> {
  const processEnv = options.processEnv ?? process.env;
  const env = options.env ?? processEnv;
  const cwd = options.cwd ?? process.cwd();
  const { entries, errors: fileErrors, read } = readEnvFiles(envFilesFor(options, env), cwd);
  const configuredIds = new Set(
    (options.providers ?? []).map((p) => (typeof p === 'string' ? p : p.id)),
  );
  const isScheme =
    options.resolver?.isScheme ??
    ((w: string) => w === 'secret' || w === 'env' || configuredIds.has(w) || isProviderType(w));
  let chainText: string | undefined;
  const evaluation = new Evaluation(entries.values(), {
    processEnv,
    override: options.override,
    expand: options.expand,
    isScheme,
    chainText: () => chainText,
  });
  const schemes = evaluation.schemes();
  const needsProviders = [...schemes].some((s) => s !== 'env');
  const seen = new SeenValues();
  let resolution: Resolution;
  if (!needsProviders) {
    resolution = await resolveAsync(evaluation, async () => new Map());
  } else {
    const resolver = options.resolver ?? resolverFor({ ...options, env }, 'one load');
    const deadline = AbortSignal.timeout(
      parseDuration(options.deadline ?? env.ENVMUX_DEADLINE, 15_000),
    );
    // Every in-flight call listens to the deadline; hundreds at once are expected, not a leak.
    setMaxListeners(0, deadline);
    try {
      resolution = await resolveAsync(
        evaluation,
        async (requests) => {
          const answers = await resolver.fetch(requests, deadline);
          for (const answer of answers.values()) if ('value' in answer) seen.add(answer.value);
          if (!chainText && requests.some((r) => r.scheme === 'secret')) {
            const ids = await resolver.chain().then(
              (providers) => providers.map((p) => p.id).join(', '),
              () => '',
            );
            // An auto-detected chain also says which local stores it left out, and why.
            const leftOut = options.providers ? [] : leftOutOfChain(env);
            chainText = leftOut.length && ids ? `${ids}; left out: ${leftOut.join(', ')}` : ids;
          }
          return answers;
        },
        deadline,
      );
      // Suggestions only while the deadline holds: a load past it reports at once.
      if (!deadline.aborted) await suggestNearNames(resolution.errors, resolver);
    } finally {
      if (!options.resolver) await resolver.close();
    }
  }
  for (const [key, source] of resolution.sources) {
    if (source.providers.length) seen.add(resolution.values.get(key));
  }
  if (needsProviders) await keepLastKnownGood(options, env, cwd, entries, resolution, seen);
  const loaded: LoadedEnvironment = {
    ...resolution,
    errors: [...fileErrors, ...resolution.errors],
    entries,
    files: read,
    seen,
  };
  if (options.schema) await validateLoaded(loaded, options.schema, processEnv);
  // A store's message is untrusted: no value this load has seen may reach a problem's text.
  for (const error of loaded.errors) seen.error(error);
  return loaded;
}

/**
 * The last-known-good copy of a load (when configured): written after a load without problems from
 * what the stores served; read, in place of the stores, only when every store was unreachable.
 * Anything that stops it from being used (too old, modified, wrong key) joins the load's problems.
 */
async function keepLastKnownGood(
  options: LoadOptions<StandardSchemaV1 | undefined>,
  env: Record<string, string | undefined>,
  cwd: string,
  entries: Map<string, EnvEntry>,
  resolution: Resolution,
  seen: SeenValues,
): Promise<void> {
  const notice = options.onNotice ?? ((line) => process.stderr.write(`envmux: ${line}\n`));
  const log = options.audit === false ? undefined : (options.audit?.log ?? processAuditLog());
  const source = options.audit ? options.audit.source : undefined;
  const audit = (entry: Omit<AuditInput, 'action'>) =>
    log?.record({ action: 'last-known-good', ...(source ? { source } : {}), ...entry });
  let settings: LastKnownGood | undefined;
  try {
    settings = lastKnownGoodOf(options.lastKnownGood, env, cwd);
  } catch (error) {
    if (isEnvmuxError(error)) resolution.errors.push(error);
    return;
  }
  if (!settings) return;
  if (!resolution.errors.length) {
    const served = new Map<string, string>();
    for (const [key, value] of resolution.values) {
      if (resolution.sources.get(key)?.providers.length) served.set(key, value);
    }
    if (!served.size) return;
    try {
      await saveLastKnownGood(settings, served);
    } catch (error) {
      const e = toEnvmuxError(error);
      notice(
        `cannot write the last-known-good copy ${shownPath(settings.path)}: ${e.code}: ${seen.text(e.message)}`,
      );
      audit({ outcome: 'error', code: e.code });
    }
    return;
  }
  if (!everyStoreUnreachable(resolution)) return;
  let copy: OpenedCopy;
  try {
    copy = await readLastKnownGood(settings);
  } catch (error) {
    const e = toEnvmuxError(error);
    audit({ outcome: 'error', code: e.code });
    if (e.code !== 'NOT_FOUND') resolution.errors.push(e);
    return;
  }
  // Every key the stores would have set comes from the copy, or nothing does (fail closed).
  const kept = new Set(resolution.kept);
  const missing = [...entries.keys()].filter(
    (k) => !resolution.values.has(k) && !kept.has(k) && !copy.values.has(k),
  );
  if (missing.length) {
    audit({ outcome: 'miss', code: 'NOT_FOUND' });
    return;
  }
  for (const key of entries.keys()) {
    const value = copy.values.get(key);
    if (resolution.values.has(key) || kept.has(key) || value === undefined) continue;
    resolution.values.set(key, value);
    seen.add(value);
    resolution.sources.set(key, {
      entry: entries.get(key)!,
      providers: ['last-known-good'],
      served: [value],
    });
  }
  resolution.errors.length = 0;
  notice(
    `every store unreachable; using last-known-good copy from ${formatAge(copy.ageMs)} ago (max ${formatAge(settings.maxAge)})`,
  );
  audit({ outcome: 'ok' });
}

/**
 * Validate a load with the schema (the config file's or the caller's): on every entry point, the
 * preload, `run`, `check` and `loadConfig` alike. Issues of keys that already failed are left out.
 */
async function validateLoaded(
  loaded: LoadedEnvironment,
  schema: StandardSchemaV1,
  processEnv: Record<string, string | undefined>,
): Promise<void> {
  const fileValues: Record<string, string> = {};
  for (const key of loaded.entries.keys()) {
    const value = loaded.values.get(key) ?? ownString(processEnv, key);
    if (value !== undefined) fileValues[key] = value;
  }
  const input = { ...processEnv, ...fileValues };
  try {
    loaded.config = await validate(schema, input, loaded.entries, loaded.seen);
  } catch (error) {
    const failed = new Set(loaded.errors.map((e) => e.key));
    const issues = error instanceof EnvmuxAggregateError ? error.errors : [error];
    for (const issue of issues) {
      if (!isEnvmuxError(issue)) throw issue;
      if (!issue.key || !failed.has(issue.key)) loaded.errors.push(issue);
    }
  }
}

/** The frozen config of a load, or the one aggregate error listing every problem. */
function configOf<S>(
  loaded: LoadedEnvironment,
  options: LoadOptions<StandardSchemaV1 | undefined>,
): Readonly<LoadedConfig<S>> {
  if (loaded.errors.length) {
    const invalid = loaded.errors.every((e) => e.code === 'VALIDATION_FAILED');
    throw new EnvmuxAggregateError(
      loaded.errors as EnvmuxError[],
      invalid ? 'the configuration is not valid' : undefined,
    );
  }
  if (!options.schema) {
    const processEnv = options.processEnv ?? process.env;
    const fileValues: Record<string, string> = {};
    for (const key of loaded.entries.keys()) {
      const value = loaded.values.get(key) ?? ownString(processEnv, key);
      if (value !== undefined) fileValues[key] = value;
    }
    return Object.freeze(fileValues) as Readonly<LoadedConfig<S>>;
  }
  const output = loaded.config;
  return (output && typeof output === 'object' ? Object.freeze(output) : output) as Readonly<
    LoadedConfig<S>
  >;
}

/**
 * Load the env files, resolve every reference and return a frozen config: the schema's output
 * (types inferred from it), or the file keys as strings without a schema. Throws one
 * {@link EnvmuxAggregateError} listing every problem; never touches `process.env`.
 *
 * With `watch`, returns `{ config, watcher }`: the load's secrets are re-read on an interval and a
 * real change is reloaded and re-validated; a change that fails keeps the previous config and goes
 * to `watch.onError` (docs/architecture.md, "Resolution").
 */
export async function loadConfig<S extends StandardSchemaV1 | undefined = undefined>(
  options: LoadOptions<S> & { watch: ConfigWatchOptions },
): Promise<WatchedConfig<LoadedConfig<S>>>;
export async function loadConfig<S extends StandardSchemaV1 | undefined = undefined>(
  options?: LoadOptions<S> & { watch?: undefined },
): Promise<Readonly<LoadedConfig<S>>>;
export async function loadConfig<S extends StandardSchemaV1 | undefined = undefined>(
  options: LoadOptions<S> & { watch?: ConfigWatchOptions },
): Promise<Readonly<LoadedConfig<S>> | WatchedConfig<LoadedConfig<S>>>;
export async function loadConfig<S extends StandardSchemaV1 | undefined = undefined>(
  options: LoadOptions<S> & { watch?: ConfigWatchOptions } = {},
): Promise<Readonly<LoadedConfig<S>> | WatchedConfig<LoadedConfig<S>>> {
  const { watch, ...rest } = options;
  const merged = await withConfigFile(rest as LoadOptions<S>);
  if (!watch) return configOf<S>(await loadEnvironment(merged), merged);
  return watchConfig<S>(merged, watch);
}

/** `loadConfig({ watch })`: load through a long-lived resolver, then keep the config current. */
async function watchConfig<S>(
  options: LoadOptions<StandardSchemaV1 | undefined>,
  watch: ConfigWatchOptions,
): Promise<WatchedConfig<LoadedConfig<S>>> {
  const env = options.env ?? options.processEnv ?? process.env;
  const own = options.resolver ? undefined : createResolver({ ...options, env });
  const requests = new Map<string, SecretRequest>();
  const resolver = recordingResolver(options.resolver ?? own!, requests);
  let current: Readonly<LoadedConfig<S>>;
  try {
    current = configOf<S>(await loadEnvironment({ ...options, resolver }), options);
  } catch (error) {
    await own?.close();
    throw error;
  }
  const reloads = watchReloads(resolver, [...requests.values()], watch, async (changes) => {
    let next: Readonly<LoadedConfig<S>>;
    try {
      next = configOf<S>(await loadEnvironment({ ...options, resolver }), options);
    } catch (error) {
      if (isEnvmuxError(error)) watch.onError?.(error);
      return;
    }
    const keys = changedKeys(current as object, next as object);
    current = next;
    watch.onChange?.({ type: 'change', changes, keys });
  });
  return {
    config: current,
    watcher: {
      current: () => current,
      refreshNow: () => reloads.refreshNow(),
      async close() {
        reloads.close();
        await own?.close();
      },
    },
  };
}
