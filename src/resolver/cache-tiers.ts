// The resolver's cache tiers: the in-process LRU (first tier) and, when configured, the encrypted
// Redis tier (second tier), connected on first use; its code is loaded then, never before. See
// docs/architecture.md, "Resolution".

import type { RedisTierOptions, SecondTier } from '../cache/redis-tier.js';
import {
  type CachedSecret,
  type CacheLifetime,
  type CacheOptions,
  type CacheStats,
  SecretCache,
} from '../cache/secret-cache.js';
import { chainScope, isProcessLocal, pinnedScope } from '../cache/tier-scope.js';
import { toEnvmuxError } from '../errors.js';
import type { HealthResult, Provider } from '../providers/provider.js';
import type { Env } from '../providers/registry.js';
import type { Chain } from './chain.js';
import { parseDuration } from './durations.js';
import type { SecretRequest } from './resolve.js';

/** The provider name of the second tier's row in `health()`. */
export const REDIS_HEALTH_ROW = 'cache:redis';

export interface CacheTiers {
  /** The first tier, absent with `cache: false`. */
  memory?: SecretCache;
  /** The second tier when one is configured (connecting on first call), else `undefined`. */
  second(): Promise<SecondTier> | undefined;
  /**
   * The second tier's answer to `request` (under the scope of the stores that may answer it),
   * counted as an L2 hit; rejects only when the tier is misconfigured (`CONFIG`).
   */
  readSecond(
    request: SecretRequest,
    cacheKey: string,
    useCache: boolean,
  ): Promise<{ entry: CachedSecret; ttl?: number } | undefined>;
  /** Store `provider`'s fresh answer in the second tier, in the background (close() waits). */
  writeSecond(
    request: SecretRequest,
    cacheKey: string,
    entry: CachedSecret,
    provider: Provider,
  ): void;
  /** The second tier's health row, when one is configured. */
  health(): Promise<(HealthResult & { provider: string }) | undefined>;
  /** TTL of entries whose provider sets none, ms. */
  defaultTtl: number;
  stats(): CacheStats;
  close(): Promise<void>;
}

/** Whether a Redis tier is configured by options or environment. */
function wantsRedisTier(options: RedisTierOptions | undefined, env: Env): boolean {
  return !!(options?.client || options?.url || env.ENVMUX_REDIS_URL);
}

export function createCacheTiers(
  options: false | (CacheOptions & { redis?: RedisTierOptions }) | undefined,
  environment: Env,
  context: { chain: Chain; failover: readonly string[] | false; lifetime: CacheLifetime },
): CacheTiers {
  const { chain, failover } = context;
  const defaultTtl =
    (options ? options.ttl : undefined) ?? parseDuration(environment.ENVMUX_CACHE_TTL, 5 * 60_000);
  const staleWhileRevalidate = parseDuration(
    (options ? options.staleWhileRevalidate : undefined) ?? environment.ENVMUX_CACHE_SWR,
    0,
  );
  const memory =
    options === false
      ? undefined
      : new SecretCache({ ...options, ttl: defaultTtl, staleWhileRevalidate }, context.lifetime);
  const redisOptions = options ? options.redis : undefined;
  let tierPromise: Promise<SecondTier> | undefined;
  let l2Hits = 0;
  const writes = new Set<Promise<unknown>>();

  const second = () => {
    if (options === false || !wantsRedisTier(redisOptions, environment)) return undefined;
    tierPromise ??= import('../cache/redis-tier.js').then(async ({ redisTier }) => {
      const tier = await redisTier(redisOptions, environment);
      // Another process's write: drop this process's copy (all of them after a missed message).
      tier.onInvalidate((name) =>
        name === undefined ? memory?.clear() : memory?.invalidate(name),
      );
      return tier;
    });
    return tierPromise;
  };

  /** The scope a request's entry lives under, or undefined when it is not shared. */
  const scopeOf = async (request: SecretRequest): Promise<string | undefined> => {
    try {
      return request.scheme === 'secret'
        ? chainScope(await chain.providers(), failover)
        : pinnedScope(await chain.pinned(request.scheme));
    } catch {
      return undefined; // the chain itself fails: the read path reports that
    }
  };

  return {
    memory,
    defaultTtl,
    second,
    async readSecond(request, cacheKey, useCache) {
      const pending = second();
      if (!pending) return undefined;
      const tier = await pending;
      if (!useCache) return undefined;
      const scope = await scopeOf(request);
      if (scope === undefined) return undefined;
      const entry = await tier.get(scope, cacheKey, request.name);
      if (!entry) return undefined;
      l2Hits++;
      const ttl = (await chain.providers()).find((p) => p.id === entry.provider)?.ttl;
      return { entry, ttl };
    },
    writeSecond(request, cacheKey, entry, provider) {
      const pending = second();
      if (!pending || isProcessLocal(provider)) return;
      const write = (async () => {
        const tier = await pending;
        const scope = await scopeOf(request);
        if (scope === undefined) return;
        await tier.set(scope, cacheKey, request.name, entry, provider.ttl ?? defaultTtl);
      })().catch(() => {});
      writes.add(write);
      void write.finally(() => writes.delete(write));
    },
    async health() {
      const pending = second();
      if (!pending) return undefined;
      try {
        return { provider: REDIS_HEALTH_ROW, ...(await (await pending).health()) };
      } catch (error) {
        const e = toEnvmuxError(error);
        return {
          provider: REDIS_HEALTH_ROW,
          ok: false,
          latencyMs: 0,
          detail: `${e.code}: ${e.message}`,
        };
      }
    },
    stats() {
      const first = memory?.stats() ?? {
        hits: 0,
        l2Hits: 0,
        misses: 0,
        stale: 0,
        hitRate: 0,
        size: 0,
      };
      // The first tier counts a lookup Redis answered as its miss: it was a hit of the second.
      const lookups = first.hits + first.misses;
      return {
        ...first,
        l2Hits,
        misses: first.misses - l2Hits,
        hitRate: lookups ? (first.hits + l2Hits) / lookups : 0,
      };
    },
    async close() {
      await Promise.allSettled([...writes]);
      await (await tierPromise?.catch(() => undefined))?.close();
      memory?.clear();
    },
  };
}
