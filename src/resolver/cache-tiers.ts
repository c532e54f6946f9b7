// The resolver's cache tiers: the in-process LRU (first tier) and, when configured, the encrypted
// Redis tier (second tier), connected on first use. See docs/architecture.md, "Resolution".

import {
  type RedisTierOptions,
  redisTier,
  type SecondTier,
  wantsRedisTier,
} from '../cache/redis-tier.js';
import { type CacheOptions, type CacheStats, SecretCache } from '../cache/secret-cache.js';
import type { Env } from '../providers/registry.js';
import { parseDuration } from './durations.js';

export interface CacheTiers {
  /** The first tier, absent with `cache: false`. */
  memory?: SecretCache;
  /** The second tier when one is configured (connecting on first call), else `undefined`. */
  second(): Promise<SecondTier> | undefined;
  /** TTL of entries whose provider sets none, ms. */
  defaultTtl: number;
  stats(): CacheStats;
  close(): Promise<void>;
}

export function createCacheTiers(
  options: false | (CacheOptions & { redis?: RedisTierOptions }) | undefined,
  environment: Env,
): CacheTiers {
  const defaultTtl =
    (options ? options.ttl : undefined) ?? parseDuration(environment.ENVMUX_CACHE_TTL, 5 * 60_000);
  const memory = options === false ? undefined : new SecretCache({ ...options, ttl: defaultTtl });
  const redisOptions = options ? options.redis : undefined;
  let tierPromise: Promise<SecondTier> | undefined;
  return {
    memory,
    defaultTtl,
    second() {
      if (options === false || !wantsRedisTier(redisOptions, environment)) return undefined;
      tierPromise ??= redisTier(redisOptions, environment);
      return tierPromise;
    },
    stats: () => memory?.stats() ?? { hits: 0, misses: 0, stale: 0, hitRate: 0, size: 0 },
    async close() {
      await (await tierPromise?.catch(() => undefined))?.close();
      memory?.clear();
    },
  };
}
