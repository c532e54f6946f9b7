// The in-process cache tier: LRU with TTL (lru-cache). Holds fetched documents (fields are picked
// after), keeps expired entries for stale-if-error, and is invalidated by name on writes.
// lru-cache is loaded by the first lookup that goes to a store (`ready()`), not on import; a cache
// that lives for one load (a preload, `run`, `loadConfig`) is a plain Map and never loads it.

import type { LRUCache } from 'lru-cache';
import { monotonicMs } from '../resolver/clock.js';
import { parseDuration } from '../resolver/durations.js';

/** A cached answer: the value and the provider that served it. */
export interface CachedSecret {
  value: string;
  provider: string;
  /** The provider answered a map entry (`Provider.isEntry`): the field rule to read it with. */
  entry?: boolean | 'lines';
}

export interface CacheOptions {
  /** Most entries; default 1,000. */
  max?: number;
  /** Default time-to-live in ms; default 5 minutes. */
  ttl?: number;
  /**
   * How long past its TTL an entry may still be served when its provider is down (stale-if-error),
   * in ms; default 0 (never). Serving stale is audited.
   */
  maxStale?: number;
  /**
   * Stale-while-revalidate window past an entry's TTL (ms or `30s`); default 0, off
   * (`ENVMUX_CACHE_SWR`). Within it a lookup is answered from the expired entry at once while one
   * background read refreshes it (docs/architecture.md, "Resolution").
   */
  staleWhileRevalidate?: number | string;
}

export interface CacheStats {
  /** Lookups the in-process tier answered. */
  hits: number;
  /** Second-tier (Redis) hits: lookups the in-process tier missed and Redis answered. */
  l2Hits: number;
  /** Lookups neither tier answered (a provider was asked). */
  misses: number;
  /** Expired entries served while their provider was down. */
  stale: number;
  /** (hits + l2Hits) / lookups. */
  hitRate: number;
  /** Entries in the in-process tier. */
  size: number;
}

/**
 * How long the cache's resolver lives. `one load`: it answers one load and is closed, so nothing
 * expires or is evicted within its life (the load asks each secret once) and a Map holds it.
 */
export type CacheLifetime = 'lasting' | 'one load';

/** Cache keys are `target\0name\0version`; `target` is `secret` (the chain) or a provider id. */
export class SecretCache {
  /** Absent until {@link ready} has loaded lru-cache: the cache is empty until then. */
  private lru?: LRUCache<string, CachedSecret>;
  /** The entries of a cache that lives for one load (no lru-cache, no TTL, no stale serving). */
  private readonly oneLoad?: Map<string, CachedSecret>;
  private loading?: Promise<void>;
  private readonly options: CacheOptions;
  private readonly maxStale: number;
  private readonly swr: number;
  /** Keys whose last read from the stores failed (cleared by the next {@link set}). */
  private readonly failing = new Set<string>();
  private hits = 0;
  private misses = 0;
  private staleServed = 0;

  constructor(options: CacheOptions = {}, lifetime: CacheLifetime = 'lasting') {
    this.options = options;
    if (lifetime === 'one load') this.oneLoad = new Map();
    this.maxStale = options.maxStale ?? 0;
    this.swr = parseDuration(options.staleWhileRevalidate, 0);
  }

  /**
   * Load the LRU; `undefined` once it is loaded. Await it before the first {@link set}: a value
   * set earlier is not kept. (Lookups before it are misses: nothing can be cached yet.)
   */
  ready(): Promise<void> | undefined {
    if (this.lru || this.oneLoad) return undefined;
    this.loading ??= import('lru-cache').then(({ LRUCache }) => {
      this.lru = new LRUCache({
        max: this.options.max ?? 1000,
        ttl: this.options.ttl ?? 5 * 60_000,
        // Keep expired entries until evicted, so stale-if-error and SWR have something to serve.
        noDeleteOnStaleGet: this.maxStale > 0 || this.swr > 0,
        // Read the clock at each call (fake timers in tests replace process.hrtime).
        perf: { now: () => monotonicMs() },
      });
    });
    return this.loading;
  }

  get(key: string): CachedSecret | undefined {
    const hit = this.entries?.get(key);
    if (hit) this.hits++;
    else this.misses++;
    return hit;
  }

  set(key: string, value: CachedSecret, ttl?: number): void {
    this.failing.delete(key);
    if (this.oneLoad) this.oneLoad.set(key, value);
    else this.lru?.set(key, value, ttl === undefined ? undefined : { ttl });
  }

  /**
   * A read of `key` from the stores failed. Transient (`retryable`): SWR serves it only within
   * `maxStale` from now on. Otherwise (auth, access, gone) the entry is dropped: nothing stale is
   * served after such an answer.
   */
  failed(key: string, retryable: boolean): void {
    if (!retryable) {
      this.failing.delete(key);
      this.entries?.delete(key);
    } else if (this.swr > 0) this.failing.add(key);
  }

  /**
   * An expired entry within the stale-while-revalidate window, to serve while it is refreshed
   * (counted as a stale serve instead of the miss {@link get} counted). After a failed refresh the
   * window shrinks to `maxStale` (stale-if-error's bound).
   */
  revalidating(key: string): CachedSecret | undefined {
    if (this.swr <= 0 || !this.lru) return undefined;
    const remaining = this.lru.getRemainingTTL(key);
    if (remaining >= 0) return undefined;
    const window = this.failing.has(key) ? Math.min(this.swr, this.maxStale) : this.swr;
    if (-remaining > window) return undefined;
    const hit = this.lru.get(key, { allowStale: true });
    if (hit) {
      this.misses--;
      this.staleServed++;
    }
    return hit;
  }

  /** An expired entry no older than `maxStale` past its TTL, for when the provider is down. */
  stale(key: string): CachedSecret | undefined {
    if (this.maxStale <= 0 || !this.lru) return undefined;
    const remaining = this.lru.getRemainingTTL(key);
    if (remaining === 0 || -remaining > this.maxStale) return undefined;
    const hit = this.lru.get(key, { allowStale: true });
    if (hit) this.staleServed++;
    return hit;
  }

  /** Forget every entry for `name` (any target, any version). */
  invalidate(name: string): void {
    const entries = this.entries;
    if (!entries) return;
    for (const key of [...entries.keys()]) {
      if (key.split('\0')[1] === name) {
        entries.delete(key);
        this.failing.delete(key);
      }
    }
  }

  /** Whichever store holds the entries (none before lru-cache is loaded). */
  private get entries(): Map<string, CachedSecret> | LRUCache<string, CachedSecret> | undefined {
    return this.oneLoad ?? this.lru;
  }

  clear(): void {
    this.failing.clear();
    this.entries?.clear();
  }

  stats(): CacheStats {
    const total = this.hits + this.misses;
    return {
      hits: this.hits,
      l2Hits: 0,
      misses: this.misses,
      stale: this.staleServed,
      hitRate: total ? this.hits / total : 0,
      size: this.entries?.size ?? 0,
    };
  }
}
