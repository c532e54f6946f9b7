// The Redis tier's invalidation subscriber in one process (two resolvers = two tiers, as two
// processes would have): a write through one drops the other's first-tier entry; after Redis comes
// back from a restart the subscription is re-opened by itself and the first tier is dropped (messages
// may have been missed meanwhile), as it is when the first subscription comes up.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/index.js';
import { memory } from '../../src/providers/index.js';
import { redisSkipReason, startRedis } from './redis-server.js';

const skip = redisSkipReason();
const key = randomBytes(32).toString('base64');

async function until(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(skip)('Redis tier invalidation subscriber', () => {
  it("a write through one tier drops another tier's first-tier entry", async () => {
    const redis = await startRedis();
    const store = memory({ id: 'shared', values: { token: 'one' } });
    const make = () =>
      createResolver({
        providers: [store],
        cache: { ttl: 600_000, redis: { url: redis.url, key } },
        audit: false,
      });
    const a = make();
    const b = make();
    try {
      expect(await a.get('token')).toBe('one');
      expect(await b.get('token')).toBe('one');
      await a.set('token', 'two');
      await until(async () => (await b.get('token')) === 'two');
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
  });

  it('re-subscribes after Redis restarts, and drops the first tier then', async () => {
    const redis = await startRedis();
    const store = memory({ id: 'restart', values: { token: 'v1' } });
    const resolver = createResolver({
      providers: [store],
      cache: { ttl: 600_000, redis: { url: redis.url, key } },
      audit: false,
    });
    try {
      expect(await resolver.get('token')).toBe('v1');
      // The first subscription drops the first tier too; a read after it fills it again (from Redis).
      await until(async () => {
        expect(await resolver.get('token')).toBe('v1');
        return resolver.cacheStats().l2Hits >= 1;
      });
      await redis.stop();
      await new Promise((r) => setTimeout(r, 200));
      const again = await startRedis(redis.port);
      try {
        const calls = store.calls.get + store.calls.getMany;
        // The first tier still answers...
        expect(await resolver.get('token')).toBe('v1');
        expect(store.calls.get + store.calls.getMany).toBe(calls);
        // ...until the subscriber is back (1 s back-off, doubling) and drops it: then the store.
        // (Bounded generously: on a loaded machine the reconnect and re-subscribe take seconds.)
        await until(async () => {
          await resolver.get('token');
          return store.calls.get + store.calls.getMany > calls;
        }, 40_000);
      } finally {
        await again.stop();
      }
    } finally {
      await resolver.close();
    }
  }, 90_000);
});
