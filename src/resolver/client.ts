// The resolver client (`createResolver`): composes the chain (chain.ts), the read path with its
// cache tiers, batching, retries and failover (read-path.ts), writes (writes.ts) and management
// reads (management.ts). `loadConfig` fetches through it; apps keep one for run-time reads.
// Never logs or audits a value. See docs/architecture.md, "Resolution".

import {
  type AuditFilter,
  type AuditLog,
  type AuditSink,
  type AuditSource,
  jsonLinesSink,
  processAuditLog,
} from '../audit/audit-log.js';
import type { RedisTierOptions } from '../cache/redis-tier.js';
import type { CacheLifetime, CacheOptions, CacheStats } from '../cache/secret-cache.js';
import { EnvmuxAggregateError, EnvmuxError, type ErrorCode } from '../errors.js';
import { asProvider, type Provider } from '../providers/provider.js';
import type { Env } from '../providers/registry.js';
import { type BreakerOptions, type BreakerState, breakerOf, breakerPolicy } from './breaker.js';
import { createCacheTiers } from './cache-tiers.js';
import { createCaller, type RetryOptions } from './call.js';
import { createChain, type ProviderInput } from './chain.js';
import { parseDuration } from './durations.js';
import { pickField, pickOfEntry } from './fields.js';
import { createManagement, type Management } from './management.js';
import { cacheMetricOf, type MetricListener, meteredCaller, safeListener } from './metrics.js';
import { answerAsync, createReadPath } from './read-path.js';
import { requestKey, type SecretAnswer, type SecretRequest } from './resolve.js';
import { startWatch, type WatchHandle, type WatchOptions } from './watch.js';
import { createWrites, type Writes } from './writes.js';

export type { BreakerOptions, BreakerState } from './breaker.js';
export { buildChain, type ProviderInput } from './chain.js';
export type {
  BreakerMetric,
  CacheMetric,
  MetricListener,
  ProviderCallMetric,
  ResolverMetric,
} from './metrics.js';
export type { ChangeEvent, WatchHandle, WatchOptions } from './watch.js';
export type { Retirement, RotateOptions, WriteOutcome } from './writes.js';

export interface ResolverOptions {
  /**
   * The chain, in order. Default: auto-detected from the environment (docs/architecture.md, "Provider chain"), or
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
  /**
   * Retry policy for transient errors; default 3 attempts, 100 ms doubling with jitter. Retries are
   * budgeted: all attempts of one call, backoff included, fit in one call `timeout`.
   */
  retry?: RetryOptions;
  /**
   * Per-call timeout (ms or `5s`); default 5 s (`ENVMUX_TIMEOUT`). The whole call, retries included,
   * gets this long; a call that runs out of it opens the provider's breaker.
   */
  timeout?: number | string;
  /**
   * The per-provider circuit breaker, or `false` for none. Default: opens after 3 consecutive
   * transient failures (or one call timeout), skips the provider for 30 s across loads of the
   * process (`ENVMUX_BREAKER_COOLDOWN`), then lets one probe call through.
   */
  breaker?: BreakerOptions | false;
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
  /**
   * Metrics hook: called with typed events (cache hit/miss/stale, provider call latency and outcome,
   * breaker state changes) — names and codes, never a value. A listener that throws is ignored.
   */
  onMetric?: MetricListener;
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

/** The long-lived secrets client. */
export interface Resolver extends Writes, Management {
  /** The value of `name`; throws `NOT_FOUND` when no provider has it. */
  get(name: string, options?: GetOptions): Promise<string>;
  /** Several values at once (batched); throws one aggregate error naming every failure. */
  getMany(names: string[], options?: Omit<GetOptions, 'field'>): Promise<Record<string, string>>;
  cacheStats(): CacheStats;
  clearCache(): void;
  audit(filter?: AuditFilter): ReturnType<AuditLog['query']>;
  clearAudit(): void;
  /** The providers of the chain, built. */
  chain(): Promise<Provider[]>;
  /** The circuit breaker of each provider built so far (empty with `breaker: false`). */
  breakers(): Promise<BreakerState[]>;
  /**
   * Answer many requests together (deduped, batched, cached). Used by `loadConfig`; answers never
   * reject: errors come back as `{ error }`.
   */
  fetch(requests: SecretRequest[], signal?: AbortSignal): Promise<Map<string, SecretAnswer>>;
  /** Whether `word` is a scheme this resolver answers (`secret`, `env`, a provider id or type). */
  isScheme(word: string): boolean;
  /**
   * Re-read `names` (or requests a load made) every `interval` (plus jitter; the store, not the
   * cache) and call `onChange` when a value's content really changed (SHA-256 digest) — names and
   * versions, never values.
   */
  watch(names: (string | SecretRequest)[], options: WatchOptions): WatchHandle;
  close(): Promise<void>;
}

const DEFAULT_FAILOVER: ErrorCode[] = ['NOT_FOUND', 'UNAVAILABLE', 'TIMEOUT', 'THROTTLED'];

/** What `get` returns for an answer: the value (its field picked), or throws its error. */
function gotValue(result: SecretAnswer, name: string, getOptions: GetOptions): string {
  if ('error' in result) throw result.error;
  let value = result.value;
  if (value !== undefined && 'entry' in result && result.entry) {
    value = pickOfEntry(value, getOptions.field, name, result.entry);
  } else if (value !== undefined && getOptions.field !== undefined) {
    value = pickField(value, getOptions.field, name);
  }
  if (value === undefined) {
    const field = getOptions.field ? ` (field "${getOptions.field}")` : '';
    throw new EnvmuxError('NOT_FOUND', `secret "${name}"${field} was not found`, {
      provider: getOptions.provider,
    });
  }
  return value;
}

/** Create a resolver client. */
export function createResolver(options: ResolverOptions = {}): Resolver {
  return resolverFor(options, 'lasting');
}

/**
 * A resolver whose in-process cache lives `lifetime`: `one load` for the resolver a load makes for
 * itself and closes after it (no lru-cache to load; see secret-cache.ts).
 */
export function resolverFor(options: ResolverOptions, lifetime: CacheLifetime): Resolver {
  const environment = options.env ?? process.env;
  const audit = options.audit === false ? undefined : (options.audit?.log ?? processAuditLog());
  const auditSource = options.audit ? options.audit.source : undefined;
  if (audit && options.audit) {
    if (options.audit.file) audit.addSink(jsonLinesSink(options.audit.file));
    if (options.audit.onEntry) audit.addSink(options.audit.onEntry);
  }
  const onMetric = safeListener(options.onMetric);
  const audited: AuditLog['record'] = audit
    ? (entry) => audit.record(auditSource ? { source: auditSource, ...entry } : entry)
    : () => {};
  // Cache events are the read path's audit entries, so both always agree.
  const record: AuditLog['record'] = onMetric
    ? (entry) => {
        const metric = cacheMetricOf(entry);
        audited(entry);
        if (metric) onMetric(metric);
      }
    : audited;
  const chain = createChain(options.providers, environment);
  const failover =
    options.failover === false
      ? false
      : options.failover === true || !options.failover
        ? DEFAULT_FAILOVER
        : options.failover;
  const tiers = createCacheTiers(options.cache, environment, { chain, failover, lifetime });
  const policy = breakerPolicy(options.breaker, environment);
  // A provider object handed in keeps its breaker across resolvers; one built from a type name
  // shares the breaker of every build from the same environment (see breaker.ts).
  const handedIn = new Set<Provider>(
    (options.providers ?? []).flatMap((p) => (p && typeof p === 'object' ? [asProvider(p)] : [])),
  );
  const breakerFor = (provider: Provider) =>
    breakerOf(provider, handedIn.has(provider) ? undefined : environment);
  const caller = createCaller({
    timeout: parseDuration(options.timeout ?? environment.ENVMUX_TIMEOUT, 5000),
    retry: options.retry ?? {},
    concurrency: options.concurrency ?? 50,
    onRetry: (provider, error) =>
      record({ action: 'get', provider: provider.id, outcome: 'error', code: error.code }),
    breakerOf: policy && ((provider) => ({ breaker: breakerFor(provider), policy })),
  });
  const call = onMetric
    ? meteredCaller(caller, onMetric, policy && ((p) => breakerFor(p).state(policy)))
    : caller;
  const answer = createReadPath({
    chain,
    call,
    tiers,
    record,
    failover,
  });

  return {
    ...createWrites({ chain, call, tiers, record, writeTo: options.writeTo }),
    ...createManagement({ chain, call, record, cacheHealth: tiers.health }),
    get(name, getOptions = {}) {
      try {
        const request: SecretRequest = {
          scheme: getOptions.provider ?? 'secret',
          name,
          version: getOptions.version,
        };
        const result = answer(request, getOptions.signal, getOptions.cache !== false);
        // A warm hit answers in one resolved promise, as an awaited no-op async function does.
        if (result instanceof Promise) return result.then((r) => gotValue(r, name, getOptions));
        return Promise.resolve(gotValue(result, name, getOptions));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async getMany(names, getOptions = {}) {
      const answers = await Promise.all(
        names.map((name) =>
          answerAsync(
            answer,
            { scheme: getOptions.provider ?? 'secret', name, version: getOptions.version },
            getOptions.signal,
            getOptions.cache !== false,
          ),
        ),
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
    cacheStats: () => tiers.stats(),
    clearCache: () => tiers.memory?.clear(),
    audit: (filter) => audit?.query(filter) ?? [],
    clearAudit: () => audit?.clear(),
    chain: () => chain.providers(),
    async breakers() {
      if (!policy) return [];
      return (await chain.built()).map((p) => breakerFor(p).state(policy));
    },
    isScheme: chain.isScheme,
    watch(names, watchOptions) {
      return startWatch(
        names,
        watchOptions,
        (request) => answerAsync(answer, request, undefined, false),
        async (id) => (await chain.built()).find((p) => p.id === id),
      );
    },
    async close() {
      await Promise.all((await chain.built()).map((p) => p.close?.()));
      await tiers.close();
    },
  };
}
