// Stale-while-revalidate and stale-if-error in a long-lived resolver, on fake timers: an expired
// entry within the window is served at once and refreshed once in the background; a failed refresh
// falls back to stale-if-error's bound; an auth error never leaves a stale value behind.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { memory } from '../../src/providers/memory.js';
import { createResolver } from '../../src/resolver/client.js';

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await vi.advanceTimersByTimeAsync(0);
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'hrtime'] });
  // lru-cache treats a start time of 0 as "no TTL": leave the fake clock's origin.
  vi.advanceTimersByTime(1000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('stale-while-revalidate', () => {
  it('serves the expired value at once and refreshes it once in the background', async () => {
    const store = memory({ values: { db: 'pw-one-1' }, batch: false });
    const log = new AuditLog();
    const resolver = createResolver({
      providers: [store],
      cache: { ttl: 1000, staleWhileRevalidate: '30s' },
      retry: { attempts: 1 },
      audit: { log },
    });
    expect(await resolver.get('db')).toBe('pw-one-1');
    expect(store.calls.get).toBe(1);
    await store.set!('db', 'pw-two-2', {});
    await vi.advanceTimersByTimeAsync(1500);
    // Ten hot reads past the TTL: all answered from the cache, one refresh between them.
    const reads = await Promise.all(Array.from({ length: 10 }, () => resolver.get('db')));
    expect(reads).toEqual(Array(10).fill('pw-one-1'));
    await flush();
    expect(store.calls.get).toBe(2);
    expect(await resolver.get('db')).toBe('pw-two-2');
    expect(store.calls.get).toBe(2);
    expect(log.query({ key: 'db' }).filter((e) => e.cache === 'stale').length).toBeGreaterThan(0);
    expect(resolver.cacheStats().stale).toBe(10);
    await resolver.close();
  });

  it('past the window a read waits for the store (no stale value)', async () => {
    const store = memory({ values: { db: 'pw-one-1' }, batch: false });
    const resolver = createResolver({
      providers: [store],
      cache: { ttl: 1000, staleWhileRevalidate: 5000 },
      audit: false,
    });
    await resolver.get('db');
    await store.set!('db', 'pw-two-2', {});
    await vi.advanceTimersByTimeAsync(1000 + 5001);
    expect(await resolver.get('db')).toBe('pw-two-2');
    expect(store.calls.get).toBe(2);
    await resolver.close();
  });

  it('ENVMUX_CACHE_SWR turns it on', async () => {
    const store = memory({ values: { db: 'pw-one-1' }, batch: false, ttl: 1000 });
    const resolver = createResolver({
      providers: [store],
      env: { ENVMUX_CACHE_SWR: '10s' },
      audit: false,
    });
    await resolver.get('db');
    await store.set!('db', 'pw-two-2', {});
    await vi.advanceTimersByTimeAsync(2000);
    expect(await resolver.get('db')).toBe('pw-one-1');
    await flush();
    expect(await resolver.get('db')).toBe('pw-two-2');
    await resolver.close();
  });

  it('a failed refresh keeps the stale value only within maxStale; the breaker applies', async () => {
    const store = memory({ values: { db: 'pw-one-1' }, batch: false });
    const resolver = createResolver({
      providers: [store],
      cache: { ttl: 1000, staleWhileRevalidate: '60s', maxStale: 10_000 },
      retry: { attempts: 1 },
      breaker: { threshold: 1, coolDown: '1h' },
      audit: false,
    });
    await resolver.get('db');
    store.outage('UNAVAILABLE');
    await vi.advanceTimersByTimeAsync(2000);
    expect(await resolver.get('db')).toBe('pw-one-1'); // SWR serve; refresh fails
    await flush();
    expect(store.calls.get).toBe(2);
    // The breaker is open: further refreshes do not reach the store.
    expect(await resolver.get('db')).toBe('pw-one-1');
    await flush();
    expect(store.calls.get).toBe(2);
    // Past maxStale (11 s after expiry) but inside the SWR window: the error, not the stale value.
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(resolver.get('db')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await resolver.close();
  });

  it('an auth error on refresh drops the stale entry: the next read fails closed', async () => {
    const store = memory({ values: { db: 'pw-one-1' }, batch: false });
    const resolver = createResolver({
      providers: [store],
      cache: { ttl: 1000, staleWhileRevalidate: '60s', maxStale: 60_000 },
      retry: { attempts: 1 },
      audit: false,
    });
    await resolver.get('db');
    store.fail('db', 'ACCESS_DENIED');
    await vi.advanceTimersByTimeAsync(2000);
    expect(await resolver.get('db')).toBe('pw-one-1');
    await flush();
    await expect(resolver.get('db')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await resolver.close();
  });

  it('a secret deleted from the store is not served stale after the refresh saw it gone', async () => {
    const store = memory({ values: { db: 'pw-one-1' }, batch: false });
    const resolver = createResolver({
      providers: [store],
      cache: { ttl: 1000, staleWhileRevalidate: '60s' },
      audit: false,
    });
    await resolver.get('db');
    await store.delete!('db', {});
    await vi.advanceTimersByTimeAsync(2000);
    expect(await resolver.get('db')).toBe('pw-one-1');
    await flush();
    await expect(resolver.get('db')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await resolver.close();
  });
});

describe('stale-if-error', () => {
  it('serves an expired value while the store is down only within maxStale', async () => {
    const store = memory({ values: { db: 'pw-one-1' }, batch: false });
    const resolver = createResolver({
      providers: [store],
      cache: { ttl: 1000, maxStale: 5000 },
      retry: { attempts: 1 },
      breaker: false,
      audit: false,
    });
    await resolver.get('db');
    store.outage('TIMEOUT');
    await vi.advanceTimersByTimeAsync(1000 + 4000);
    expect(await resolver.get('db')).toBe('pw-one-1');
    expect(store.calls.get).toBe(2); // it did ask the store first
    await vi.advanceTimersByTimeAsync(2000);
    await expect(resolver.get('db')).rejects.toMatchObject({ code: 'TIMEOUT' });
    await resolver.close();
  });
});
