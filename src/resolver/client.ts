// The resolver client (`createResolver`): the provider chain with dedupe, in-flight sharing, cache,
// batching, a concurrency limit, retries, failover and audit. `loadConfig` fetches through it; apps
// keep one for run-time reads. Never logs or audits a value.

import {
  type AuditFilter,
  type AuditLog,
  type AuditSink,
  type AuditSource,
  jsonLinesSink,
  processAuditLog,
} from '../audit/audit-log.js';
import {
  type RedisTierOptions,
  redisTier,
  type SecondTier,
  wantsRedisTier,
} from '../cache/redis-tier.js';
import {
  type CachedSecret,
  type CacheOptions,
  type CacheStats,
  SecretCache,
} from '../cache/secret-cache.js';
import { parseDuration } from '../durations.js';
import { EnvmuxAggregateError, EnvmuxError, type ErrorCode, toEnvmuxError } from '../errors.js';
import {
  asProvider,
  type HealthResult,
  type Provider,
  type ProviderDefinition,
  type SecretInfo,
  type VersionInfo,
  type WriteContext,
} from '../providers/provider.js';
import { buildProvider, detectChain, type Env, isProviderType } from '../providers/registry.js';
import { BatchLoader } from './batch.js';
import { callProvider, type RetryOptions } from './call.js';
import { pickEntryField, pickField } from './fields.js';
import { createLimiter } from './limit.js';
import { requestKey, type SecretAnswer, type SecretRequest } from './resolve.js';

/** A chain entry: a provider, a `defineProvider` definition, or a type built from env vars. */
export type ProviderInput = Provider | ProviderDefinition | string;

export interface ResolverOptions {
  /**
   * The chain, in order. Default: auto-detected from the environment (DESIGN.md §3), or
   * `ENVMUX_PROVIDERS`. Strings are provider types built from conventional env vars.
   */
  providers?: ProviderInput[];
  /** Environment used for auto-detection and provider settings; default `process.env`. */
  env?: Env;
  /**
   * Cache options, or `false` for none. Default: 1,000 entries, 5 min TTL (`ENVMUX_CACHE_TTL`).
   * `redis` (or `ENVMUX_REDIS_URL` + `ENVMUX_REDIS_KEY`) adds an encrypted, shared second tier.
   */
  cache?: false | (CacheOptions & { redis?: RedisTierOptions });
  /** Retry policy for transient errors; default 3 attempts, 100 ms doubling with jitter. */
  retry?: RetryOptions;
  /** Per-call timeout (ms or `5s`); default 5 s (`ENVMUX_TIMEOUT`). */
  timeout?: number | string;
  /** Most provider calls in flight at once; default 50. */
  concurrency?: number;
  /**
   * Which error codes move a `secret:` lookup on to the next provider. Default
   * NOT_FOUND, UNAVAILABLE, TIMEOUT, THROTTLED; `false` = the first provider's answer is final.
   */
  failover?: boolean | ErrorCode[];
  /** Audit settings, or `false` to record nothing. Default: the process-wide ring buffer. */
  audit?: false | { log?: AuditLog; file?: string; onEntry?: AuditSink; source?: AuditSource };
  /** Writes go to the first writable provider (default) or to every writable one. */
  writeTo?: 'first' | 'all';
}

export interface GetOptions {
  /** Pin a provider id instead of walking the chain. */
  provider?: string;
  version?: string;
  /** JSON field path of the value. */
  field?: string;
  /** `false` skips the cache for this call (the fresh value is still cached). */
  cache?: boolean;
  signal?: AbortSignal;
}

export interface WriteOutcome {
  provider: string;
  version?: string;
  error?: EnvmuxError;
}

/** The long-lived secrets client. */
export interface Resolver {
  /** The value of `name`; throws `NOT_FOUND` when no provider has it. */
  get(name: string, options?: GetOptions): Promise<string>;
  /** Several values at once (batched); throws one aggregate error naming every failure. */
  getMany(names: string[], options?: Omit<GetOptions, 'field'>): Promise<Record<string, string>>;
  set(
    name: string,
    value: string,
    options?: WriteContext & { provider?: string },
  ): Promise<WriteOutcome[]>;
  delete(name: string, options?: { provider?: string; force?: boolean }): Promise<WriteOutcome[]>;
  list(
    prefix?: string,
    options?: { provider?: string },
  ): Promise<Array<SecretInfo & { provider: string }>>;
  versions(name: string, options?: { provider?: string }): Promise<VersionInfo[]>;
  rotate(
    name: string,
    options?: { provider?: string; generate?: () => string | Promise<string> },
  ): Promise<WriteOutcome[]>;
  health(): Promise<Array<HealthResult & { provider: string }>>;
  cacheStats(): CacheStats;
  clearCache(): void;
  audit(filter?: AuditFilter): ReturnType<AuditLog['query']>;
  clearAudit(): void;
  /** The providers of the chain, built. */
  chain(): Promise<Provider[]>;
  /**
   * Answer many requests together (deduped, batched, cached). Used by `loadConfig`; answers never
   * reject: errors come back as `{ error }`.
   */
  fetch(requests: SecretRequest[], signal?: AbortSignal): Promise<Map<string, SecretAnswer>>;
  /** Whether `word` is a scheme this resolver answers (`secret`, `env`, a provider id or type). */
  isScheme(word: string): boolean;
  close(): Promise<void>;
}

const DEFAULT_FAILOVER: ErrorCode[] = ['NOT_FOUND', 'UNAVAILABLE', 'TIMEOUT', 'THROTTLED'];

/** Create a resolver client. */
export function createResolver(options: ResolverOptions = {}): Resolver {
  const environment = options.env ?? process.env;
  const defaultTtl =
    (options.cache ? options.cache.ttl : undefined) ??
    parseDuration(environment.ENVMUX_CACHE_TTL, 5 * 60_000);
  const cache =
    options.cache === false
      ? undefined
      : new SecretCache({
          ...options.cache,
          ttl: defaultTtl,
        });
  const redisOptions = options.cache ? options.cache.redis : undefined;
  let tierPromise: Promise<SecondTier> | undefined;
  /** The Redis tier when one is configured, connected on first use. */
  const secondTier = () => {
    if (options.cache === false || !wantsRedisTier(redisOptions, environment)) return undefined;
    tierPromise ??= redisTier(redisOptions, environment);
    return tierPromise;
  };
  const timeout = parseDuration(options.timeout ?? environment.ENVMUX_TIMEOUT, 5000);
  const retry = options.retry ?? {};
  const limit = createLimiter(options.concurrency ?? 50);
  const failover =
    options.failover === false
      ? []
      : options.failover === true || !options.failover
        ? DEFAULT_FAILOVER
        : options.failover;
  const audit = options.audit === false ? undefined : (options.audit?.log ?? processAuditLog());
  const auditSource = options.audit ? options.audit.source : undefined;
  if (audit && options.audit) {
    if (options.audit.file) audit.addSink(jsonLinesSink(options.audit.file));
    if (options.audit.onEntry) audit.addSink(options.audit.onEntry);
  }
  const record: AuditLog['record'] = audit
    ? (entry) => audit.record(auditSource ? { source: auditSource, ...entry } : entry)
    : () => {};

  const explicitIds = new Set(
    (options.providers ?? []).map((p) => (typeof p === 'string' ? p : p.id)),
  );
  let chainPromise: Promise<Provider[]> | undefined;
  const chain = () => {
    chainPromise ??= buildChain(options.providers, environment);
    return chainPromise;
  };
  const extra = new Map<string, Promise<Provider>>();
  /** A pinned provider: one of the chain by id, else a type built on demand. */
  const pinned = async (id: string): Promise<Provider> => {
    const found = (await chain()).find((p) => p.id === id);
    if (found) return found;
    if (!isProviderType(id)) {
      throw new EnvmuxError('INVALID_REFERENCE', `unknown provider "${id}"`, {
        hint: 'use secret:, env:, or the id of a configured provider',
      });
    }
    let built = extra.get(id);
    if (!built) {
      built = buildProvider(id, environment);
      extra.set(id, built);
    }
    return built;
  };

  const call = <T>(
    provider: Provider,
    what: string,
    fn: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ) =>
    limit(() =>
      callProvider(
        {
          provider,
          what,
          timeout,
          retry,
          signal,
          onRetry: (error) =>
            record({ action: 'get', provider: provider.id, outcome: 'error', code: error.code }),
        },
        fn,
      ),
    );

  const loaders = new Map<Provider, BatchLoader>();
  const readSingle = (
    provider: Provider,
    name: string,
    version: string | undefined,
    signal?: AbortSignal,
  ) => call(provider, `get "${name}"`, (s) => provider.get(name, { version, signal: s }), signal);
  const read = (
    provider: Provider,
    name: string,
    version: string | undefined,
    signal?: AbortSignal,
  ) => {
    if (version !== undefined || !provider.getMany)
      return readSingle(provider, name, version, signal);
    let loader = loaders.get(provider);
    if (!loader) {
      loader = new BatchLoader({
        provider,
        readMany: (names, s) =>
          call(
            provider,
            `batch of ${names.length}`,
            (cs) => provider.getMany!(names, { signal: cs }),
            s,
          ),
        readOne: (n, s) => readSingle(provider, n, undefined, s),
        onBatchRefused: (error) =>
          record({
            action: 'batch-fallback',
            provider: provider.id,
            outcome: 'error',
            code: error.code,
          }),
      });
      loaders.set(provider, loader);
    }
    return loader.load(name, signal);
  };

  const inflight = new Map<string, Promise<SecretAnswer>>();

  /** One request through cache, in-flight sharing, the chain and failover. Never rejects. */
  const answer = (
    request: SecretRequest,
    signal?: AbortSignal,
    useCache = true,
  ): Promise<SecretAnswer> => {
    const key = requestKey(request);
    if (cache && useCache) {
      const hit = cache.get(key);
      if (hit) {
        record({
          action: 'get',
          key: request.name,
          provider: hit.provider,
          outcome: 'ok',
          cache: 'hit',
        });
        return Promise.resolve(hit);
      }
    }
    const shared = inflight.get(key);
    if (shared) return shared;
    const started = performance.now();
    const promise = readThrough(request, key, useCache, signal)
      .then((result): SecretAnswer => {
        if ('tierHit' in result) {
          cache?.set(key, result.tierHit, result.ttl);
          record({
            action: 'get',
            key: request.name,
            provider: result.tierHit.provider,
            outcome: 'ok',
            cache: 'hit',
          });
          return result.tierHit;
        }
        const durationMs = performance.now() - started;
        const cacheState = !cache ? undefined : useCache ? 'miss' : 'bypass';
        if (result.value === undefined) {
          record({
            action: 'get',
            key: request.name,
            outcome: 'miss',
            code: 'NOT_FOUND',
            durationMs,
            cache: cacheState,
          });
          return { value: undefined };
        }
        const provider = result.provider!;
        const entry: CachedSecret = { value: result.value, provider: provider.id };
        if (provider.isEntry?.(request.name)) entry.entry = true;
        cache?.set(key, entry, provider.ttl);
        void secondTier()?.then((tier) =>
          tier.set(key, request.name, entry, provider.ttl ?? defaultTtl),
        );
        record({
          action: 'get',
          key: request.name,
          provider: provider.id,
          outcome: 'ok',
          durationMs,
          cache: cacheState,
        });
        return entry;
      })
      .catch((error): SecretAnswer => {
        const e = toEnvmuxError(error);
        const stale = cache?.stale(key);
        if (stale && e.retryable) {
          record({
            action: 'get',
            key: request.name,
            provider: stale.provider,
            outcome: 'ok',
            code: e.code,
            cache: 'stale',
          });
          return stale;
        }
        record({
          action: 'get',
          key: request.name,
          provider: e.provider,
          outcome: 'error',
          code: e.code,
          durationMs: performance.now() - started,
        });
        return { error: e };
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, promise);
    return promise;
  };

  /** The second tier first (when configured and allowed), then the providers. */
  const readThrough = async (
    request: SecretRequest,
    key: string,
    useCache: boolean,
    signal?: AbortSignal,
  ): Promise<
    { tierHit: CachedSecret; ttl?: number } | { value: string | undefined; provider?: Provider }
  > => {
    const tier = await secondTier();
    const hit = tier && useCache ? await tier.get(key, request.name) : undefined;
    if (hit) return { tierHit: hit, ttl: (await chain()).find((p) => p.id === hit.provider)?.ttl };
    return fetchThroughChain(request, signal);
  };

  const fetchThroughChain = async (
    request: SecretRequest,
    signal?: AbortSignal,
  ): Promise<{ value: string | undefined; provider?: Provider }> => {
    const providers = request.scheme === 'secret' ? await chain() : [await pinned(request.scheme)];
    let lastError: EnvmuxError | undefined;
    for (const [i, provider] of providers.entries()) {
      if (request.scheme === 'secret' && options.failover === false && i > 0) break;
      try {
        const value = await read(provider, request.name, request.version, signal);
        if (value !== undefined) return { value, provider };
      } catch (error) {
        const e = toEnvmuxError(error, { provider: provider.id });
        if (request.scheme !== 'secret' || !failover.includes(e.code)) throw e;
        lastError = e;
      }
    }
    if (lastError) throw lastError;
    return { value: undefined };
  };

  const writable = async (
    provider: string | undefined,
    capability: 'set' | 'delete' | 'rotate',
  ) => {
    if (provider) {
      const p = await pinned(provider);
      if (typeof p[capability] !== 'function' && !(capability === 'rotate' && p.set)) {
        throw new EnvmuxError('CONFIG', `provider "${p.id}" cannot ${capability}`, {
          provider: p.id,
        });
      }
      return [p];
    }
    const candidates = (await chain()).filter(
      (p) => typeof p[capability] === 'function' || (capability === 'rotate' && p.set),
    );
    if (!candidates.length) {
      throw new EnvmuxError('CONFIG', `no provider of the chain can ${capability}`, {
        hint: 'add a writable provider, or pin one with { provider }',
      });
    }
    return options.writeTo === 'all' ? candidates : candidates.slice(0, 1);
  };

  const writeEach = async (
    name: string,
    action: 'set' | 'delete' | 'rotate',
    providers: Provider[],
    fn: (p: Provider, signal: AbortSignal) => Promise<{ version?: string } | undefined>,
  ): Promise<WriteOutcome[]> => {
    const outcomes = await Promise.all(
      providers.map(async (p): Promise<WriteOutcome> => {
        const started = performance.now();
        try {
          const result = await call(p, `${action} "${name}"`, (s) => fn(p, s));
          record({
            action,
            key: name,
            provider: p.id,
            outcome: 'ok',
            durationMs: performance.now() - started,
          });
          return { provider: p.id, ...(result?.version ? { version: result.version } : {}) };
        } catch (error) {
          const e = toEnvmuxError(error, { provider: p.id });
          record({ action, key: name, provider: p.id, outcome: 'error', code: e.code });
          return { provider: p.id, error: e };
        } finally {
          cache?.invalidate(name);
          await (await secondTier()?.catch(() => undefined))?.invalidate(name);
        }
      }),
    );
    const failed = outcomes.filter((o) => o.error);
    if (failed.length === outcomes.length) {
      throw failed.length === 1
        ? failed[0]!.error!
        : new EnvmuxAggregateError(
            failed.map((o) => o.error!),
            `${action} "${name}" failed`,
          );
    }
    return outcomes;
  };

  const resolver: Resolver = {
    async get(name, getOptions = {}) {
      const request: SecretRequest = {
        scheme: getOptions.provider ?? 'secret',
        name,
        version: getOptions.version,
      };
      const result = await answer(request, getOptions.signal, getOptions.cache !== false);
      if ('error' in result) throw result.error;
      let value = result.value;
      if (value !== undefined && 'entry' in result && result.entry) {
        value = pickEntryField(value, getOptions.field, name);
      } else if (value !== undefined && getOptions.field !== undefined) {
        value = pickField(value, getOptions.field, name);
      }
      if (value === undefined) {
        throw new EnvmuxError(
          'NOT_FOUND',
          `secret "${name}"${getOptions.field ? ` (field "${getOptions.field}")` : ''} was not found`,
          {
            provider: getOptions.provider,
          },
        );
      }
      return value;
    },
    async getMany(names, getOptions = {}) {
      const requests = names.map(
        (name): SecretRequest => ({
          scheme: getOptions.provider ?? 'secret',
          name,
          version: getOptions.version,
        }),
      );
      const answers = await Promise.all(
        requests.map((r) => answer(r, getOptions.signal, getOptions.cache !== false)),
      );
      const out: Record<string, string> = {};
      const errors: EnvmuxError[] = [];
      answers.forEach((a, i) => {
        const name = names[i]!;
        if ('error' in a) errors.push(Object.assign(a.error, { key: a.error.key ?? name }));
        else if (a.value === undefined)
          errors.push(
            new EnvmuxError('NOT_FOUND', `secret "${name}" was not found`, { key: name }),
          );
        else out[name] = a.value;
      });
      if (errors.length) throw new EnvmuxAggregateError(errors, 'some secrets could not be read');
      return out;
    },
    async fetch(requests, signal) {
      const unique = new Map(requests.map((r) => [requestKey(r), r]));
      const entries = await Promise.all(
        [...unique].map(async ([k, r]) => [k, await answer(r, signal)] as const),
      );
      return new Map(entries);
    },
    async set(name, value, writeOptions = {}) {
      const { provider, ...ctx } = writeOptions;
      return writeEach(name, 'set', await writable(provider, 'set'), (p, signal) =>
        p.set!(name, value, { ...ctx, signal }),
      );
    },
    async delete(name, deleteOptions = {}) {
      return writeEach(
        name,
        'delete',
        await writable(deleteOptions.provider, 'delete'),
        async (p, signal) => {
          await p.delete!(name, { force: deleteOptions.force, signal });
          return undefined;
        },
      );
    },
    async rotate(name, rotateOptions = {}) {
      const generate =
        rotateOptions.generate ??
        (async () => (await import('node:crypto')).randomBytes(32).toString('base64url'));
      return writeEach(
        name,
        'rotate',
        await writable(rotateOptions.provider, 'rotate'),
        async (p, signal) =>
          p.rotate
            ? p.rotate(name, { generate, signal })
            : p.set!(name, await generate(), { signal }),
      );
    },
    async list(prefix = '', listOptions = {}) {
      const providers = listOptions.provider
        ? [await pinned(listOptions.provider)]
        : (await chain()).filter((p) => p.list);
      const lists = await Promise.all(
        providers.map(async (p) => {
          if (!p.list)
            throw new EnvmuxError('CONFIG', `provider "${p.id}" cannot list`, { provider: p.id });
          const items = await call(p, `list "${prefix}"`, (signal) => p.list!(prefix, { signal }));
          record({ action: 'list', key: prefix, provider: p.id, outcome: 'ok' });
          return items.map((item) => ({ ...item, provider: p.id }));
        }),
      );
      return lists.flat();
    },
    async versions(name, versionOptions = {}) {
      const providers = versionOptions.provider
        ? [await pinned(versionOptions.provider)]
        : (await chain()).filter((p) => p.versions);
      for (const p of providers) {
        if (!p.versions)
          throw new EnvmuxError('CONFIG', `provider "${p.id}" keeps no versions`, {
            provider: p.id,
          });
        const list = await call(p, `versions "${name}"`, (signal) => p.versions!(name, { signal }));
        record({ action: 'versions', key: name, provider: p.id, outcome: 'ok' });
        if (list.length || versionOptions.provider) return list;
      }
      throw new EnvmuxError('NOT_FOUND', `no provider keeps versions of "${name}"`);
    },
    async health() {
      return Promise.all(
        (await chain()).map(async (p) => {
          const started = performance.now();
          try {
            const result = p.health
              ? await call(p, 'health', (signal) => p.health!({ signal }))
              : { ok: true };
            record({ action: 'health', provider: p.id, outcome: result.ok ? 'ok' : 'error' });
            return {
              ...result,
              provider: p.id,
              latencyMs: result.latencyMs ?? performance.now() - started,
            };
          } catch (error) {
            const e = toEnvmuxError(error, { provider: p.id });
            record({ action: 'health', provider: p.id, outcome: 'error', code: e.code });
            return {
              ok: false,
              provider: p.id,
              detail: e.code,
              latencyMs: performance.now() - started,
            };
          }
        }),
      );
    },
    cacheStats: () => cache?.stats() ?? { hits: 0, misses: 0, stale: 0, hitRate: 0, size: 0 },
    clearCache: () => cache?.clear(),
    audit: (filter) => audit?.query(filter) ?? [],
    clearAudit: () => audit?.clear(),
    chain,
    isScheme: (word) =>
      word === 'secret' || word === 'env' || explicitIds.has(word) || isProviderType(word),
    async close() {
      const providers = [
        ...(chainPromise ? await chainPromise.catch(() => []) : []),
        ...(await Promise.all(extra.values()).catch(() => [])),
      ];
      await Promise.all(providers.map((p) => p.close?.()));
      await (await tierPromise?.catch(() => undefined))?.close();
      cache?.clear();
    },
  };
  return resolver;
}

/** Build the chain from explicit inputs, or auto-detect it. */
export async function buildChain(
  inputs: ProviderInput[] | undefined,
  environment: Env,
): Promise<Provider[]> {
  const list: ProviderInput[] = inputs ?? detectChain(environment).map((d) => d.type);
  if (!Array.isArray(list)) {
    throw new EnvmuxError('CONFIG', '`providers` must be an array', {
      hint: "e.g. providers: ['local', 'env'] or [aws(), defineProvider({ ... })]",
    });
  }
  const providers = await Promise.all(
    list.map((input, i) => {
      if (typeof input === 'string') return buildProvider(input, environment);
      if (!input || typeof input !== 'object' || typeof input.get !== 'function') {
        throw new EnvmuxError(
          'CONFIG',
          `providers[${i}] is not a provider (${input === null ? 'null' : typeof input})`,
          {
            hint: 'use a provider type name, a factory from envmux/providers, or defineProvider({ id, get })',
          },
        );
      }
      return asProvider(input);
    }),
  );
  const seen = new Set<string>();
  for (const p of providers) {
    if (seen.has(p.id)) {
      throw new EnvmuxError('CONFIG', `two providers of the chain share the id "${p.id}"`, {
        hint: 'give each instance its own id, e.g. aws({ id: "aws-east" })',
      });
    }
    seen.add(p.id);
  }
  return providers;
}
