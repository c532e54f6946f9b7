// The read path of one resolver: a request goes through the first cache tier, in-flight sharing,
// the second tier, then the chain (batched per provider, with failover); errors may be answered by
// a stale entry. Never rejects and never records a value. See docs/architecture.md, "Resolution".

import type { AuditLog } from '../audit/audit-log.js';
import type { CachedSecret } from '../cache/secret-cache.js';
import { type EnvmuxError, type ErrorCode, toEnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
import { BatchLoader } from './batch.js';
import type { CacheTiers } from './cache-tiers.js';
import type { ProviderCaller } from './call.js';
import type { Chain } from './chain.js';
import { monotonicMs } from './clock.js';
import { requestKey, type SecretAnswer, type SecretRequest, shownName } from './resolve.js';

export interface ReadPathOptions {
  chain: Chain;
  call: ProviderCaller;
  tiers: CacheTiers;
  /** Codes that move a `secret:` lookup on to the next provider; `false`: the first answer is final. */
  failover: ErrorCode[] | false;
  record: AuditLog['record'];
}

/**
 * Answer one request (see the header): a first-tier hit synchronously (no promise, no microtask:
 * the warm read path), anything else as a promise. {@link answerAsync} makes it a promise always.
 */
export type Answer = (
  request: SecretRequest,
  signal?: AbortSignal,
  useCache?: boolean,
) => SecretAnswer | Promise<SecretAnswer>;

/** An {@link Answer} as a promise. */
export async function answerAsync(
  answer: Answer,
  request: SecretRequest,
  signal?: AbortSignal,
  useCache?: boolean,
): Promise<SecretAnswer> {
  return answer(request, signal, useCache);
}

type ChainResult = { value: string | undefined; provider?: Provider };

export function createReadPath(options: ReadPathOptions): Answer {
  const { chain, call, tiers, record } = options;
  const cache = tiers.memory;
  const loaders = new Map<Provider, BatchLoader>();
  const inflight = new Map<string, Promise<SecretAnswer>>();

  const readSingle = (provider: Provider, name: string, version?: string, signal?: AbortSignal) =>
    call(provider, `get "${name}"`, (s) => provider.get(name, { version, signal: s }), signal);

  /** One provider read: batched through the provider's loader unless a version is pinned. */
  const read = (provider: Provider, name: string, version?: string, signal?: AbortSignal) => {
    if (version !== undefined || !provider.getMany) {
      return readSingle(provider, name, version, signal);
    }
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

  /** Walk the chain (or the pinned provider) with failover. */
  const fetchThroughChain = async (
    request: SecretRequest,
    signal?: AbortSignal,
  ): Promise<ChainResult> => {
    const walking = request.scheme === 'secret';
    const providers = walking ? await chain.providers() : [await chain.pinned(request.scheme)];
    let lastError: EnvmuxError | undefined;
    for (const [i, provider] of providers.entries()) {
      if (walking && options.failover === false && i > 0) break;
      try {
        const value = await read(provider, request.name, request.version, signal);
        if (value !== undefined) return { value, provider };
      } catch (error) {
        const e = toEnvmuxError(error, { provider: provider.id });
        if (!walking || !options.failover || !options.failover.includes(e.code)) throw e;
        lastError = e;
      }
    }
    if (lastError) throw lastError;
    return { value: undefined };
  };

  /** The second tier first (when configured and allowed), then the providers. */
  const readThrough = async (
    request: SecretRequest,
    key: string,
    useCache: boolean,
    signal?: AbortSignal,
  ): Promise<{ tierHit: CachedSecret; ttl?: number } | ChainResult> => {
    const hit = await tiers.readSecond(request, key, useCache);
    if (hit) return { tierHit: hit.entry, ttl: hit.ttl };
    return fetchThroughChain(request, signal);
  };

  /** Read through the tiers and the chain, shared by every caller of the same request key. */
  const load = (
    request: SecretRequest,
    key: string,
    signal: AbortSignal | undefined,
    useCache: boolean,
  ): Promise<SecretAnswer> => {
    const shared = inflight.get(key);
    if (shared) return shared;
    const started = monotonicMs();
    // The first tier's LRU loads alongside the first read (nothing is set before it is ready).
    const loading = cache?.ready();
    const read = readThrough(request, key, useCache, signal);
    const promise = (loading ? Promise.all([read, loading]).then(([result]) => result) : read)
      .then((result): SecretAnswer => {
        if ('tierHit' in result) {
          cache?.set(key, result.tierHit, result.ttl);
          record({
            action: 'get',
            key: shownName(request),
            provider: result.tierHit.provider,
            outcome: 'ok',
            cache: 'hit',
          });
          return result.tierHit;
        }
        const durationMs = monotonicMs() - started;
        const cacheState = !cache ? undefined : useCache ? 'miss' : 'bypass';
        if (result.value === undefined) {
          cache?.failed(key, false);
          record({
            action: 'get',
            key: shownName(request),
            outcome: 'miss',
            code: 'NOT_FOUND',
            durationMs,
            cache: cacheState,
          });
          return { value: undefined };
        }
        const provider = result.provider!;
        const entry: CachedSecret = { value: result.value, provider: provider.id };
        const rule = provider.isEntry?.(request.name);
        if (rule) entry.entry = rule;
        cache?.set(key, entry, provider.ttl);
        tiers.writeSecond(request, key, entry, provider);
        record({
          action: 'get',
          key: shownName(request),
          provider: provider.id,
          outcome: 'ok',
          durationMs,
          cache: cacheState,
        });
        return entry;
      })
      .catch((error): SecretAnswer => {
        const e = toEnvmuxError(error);
        cache?.failed(key, e.retryable);
        const stale = cache?.stale(key);
        if (stale && e.retryable) {
          record({
            action: 'get',
            key: shownName(request),
            provider: stale.provider,
            outcome: 'ok',
            code: e.code,
            cache: 'stale',
          });
          return stale;
        }
        record({
          action: 'get',
          key: shownName(request),
          provider: e.provider,
          outcome: 'error',
          code: e.code,
          durationMs: monotonicMs() - started,
        });
        return { error: e };
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, promise);
    return promise;
  };

  return (request, signal, useCache = true) => {
    const key = requestKey(request);
    if (cache && useCache) {
      const hit = cache.get(key);
      if (hit) {
        record({
          action: 'get',
          key: shownName(request),
          provider: hit.provider,
          outcome: 'ok',
          cache: 'hit',
        });
        return hit;
      }
      // Stale-while-revalidate: the expired entry now, one background refresh (single-flight).
      const stale = cache.revalidating(key);
      if (stale) {
        record({
          action: 'get',
          key: shownName(request),
          provider: stale.provider,
          outcome: 'ok',
          cache: 'stale',
        });
        if (!inflight.has(key)) void load(request, key, undefined, true);
        return stale;
      }
    }
    return load(request, key, signal, useCache);
  };
}
