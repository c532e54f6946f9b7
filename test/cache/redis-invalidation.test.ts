// Cross-process invalidation through the Redis tier, with real processes and a real redis-server: a
// rotation in one process is seen by another within a bound (its first tier is dropped by a message
// on the tier's channel, which carries HMACs only); killing Redis mid-run loses no load and the
// process still exits by itself; 8 processes starting together make one provider call per key.

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildChild,
  type Child,
  type CountingStore,
  countingStore,
  startChild,
} from './redis-processes.js';
import { type RedisServer, redisSkipReason, startRedis } from './redis-server.js';

const skip = redisSkipReason();
const key = randomBytes(32).toString('base64');
const keys = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `value-k${i}`]));

describe.skipIf(skip)('Redis tier across processes', () => {
  let program: string;
  let redis: RedisServer;
  let store: CountingStore;
  const children: Child[] = [];
  beforeAll(async () => {
    [program, redis, store] = await Promise.all([
      buildChild(),
      startRedis(),
      countingStore({ ...keys, 'db/password': 'old-password-1' }),
    ]);
  }, 60_000);
  afterAll(async () => {
    for (const c of children) c.process.kill('SIGKILL');
    await redis?.stop();
    await store?.close();
  });

  const start = async (server: RedisServer, ttl: number, options?: object) => {
    const child = await startChild(program, {
      store: store.url,
      redis: server.url,
      key,
      ttl,
      options,
    });
    children.push(child);
    return child;
  };

  it('a rotation in one process invalidates the other within a bound', async () => {
    const wire = new Redis(redis.url);
    const messages: string[] = [];
    await wire.subscribe('envmux:invalidate');
    wire.on('message', (_channel, message) => messages.push(message));
    // A TTL far longer than the test: only an invalidation can make B read the new value.
    const [a, b] = await Promise.all([start(redis, 600_000), start(redis, 600_000)]);
    expect(await a.send('get db/password')).toEqual({ value: 'old-password-1' });
    expect(await b.send('get db/password')).toEqual({ value: 'old-password-1' });
    const readsBefore = store.reads();
    expect(await b.send('get db/password')).toEqual({ value: 'old-password-1' });
    expect(store.reads()).toBe(readsBefore); // B's first tier answers

    expect(await a.send('rotate db/password new-password-2')).toEqual({ ok: true });
    const rotated = performance.now();
    let seen: unknown;
    while (performance.now() - rotated < 10_000) {
      seen = (await b.send('get db/password')).value;
      if (seen === 'new-password-2') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(seen).toBe('new-password-2');
    console.log(`B saw the rotation ${Math.round(performance.now() - rotated)} ms after it`);
    // What went over the wire: HMACs and a random process id, never a name or a value.
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) {
      expect(m).toMatch(/^[0-9a-f]{16} [0-9a-f]{64}$/);
      expect(m).not.toContain('db/password');
      expect(m).not.toContain('password-');
    }
    await wire.quit();
    expect(await a.end()).toBeLessThan(5000);
    expect(await b.end()).toBeLessThan(5000);
  }, 60_000);

  it('killing Redis mid-run loses no load, and the process still exits by itself', async () => {
    const own = await startRedis();
    // A 1 ms first-tier TTL: every round goes to Redis (then the store) while Redis lives.
    const child = await start(own, 1);
    expect(await child.send('load 5 50')).toMatchObject({ errors: 0 });
    const load = child.send('load 20 50');
    await new Promise((r) => setTimeout(r, 50));
    await own.stop();
    expect(await load).toMatchObject({ errors: 0 });
    expect(await child.send('load 5 50')).toMatchObject({ errors: 0 });
    // Neither the subscriber nor its re-subscription timer holds the process open.
    const exitMs = await child.end();
    console.log(`exit ${Math.round(exitMs)} ms after stdin ended, Redis killed`);
    expect(exitMs).toBeLessThan(5000);
  }, 60_000);

  it('8 processes × 1,000 resolutions of 50 keys make at most 50 provider calls', async () => {
    const own = await startRedis();
    try {
      const before = store.reads();
      // Bounds generous enough for a shared 2-core machine: a Redis command that waits past its
      // timeout counts Redis as down, and then every process reads the store.
      const slow = {
        timeout: 30_000,
        redis: { commandTimeout: 3000, connectTimeout: 3000, fillWait: 30_000 },
      };
      const procs = await Promise.all(Array.from({ length: 8 }, () => start(own, 600_000, slow)));
      for (const p of await Promise.all(procs.map((p) => p.send('warm')))) {
        expect(p).toEqual({ ok: true });
      }
      // Every process starts at the same moment: the cold start is the stampede. 20 rounds of the
      // 50 keys = 1,000 resolutions per process.
      const results = await Promise.all(procs.map((p) => p.send('load 20 50')));
      for (const r of results) expect(r).toMatchObject({ errors: 0 });
      const calls = store.reads() - before;
      console.log(
        `8 processes × 1,000 resolutions of 50 keys: ${calls} provider calls; ${results.map((r) => Math.round(r.ms as number)).join(', ')} ms`,
      );
      expect(calls).toBeLessThanOrEqual(50);
      await Promise.all(procs.map((p) => p.end()));
    } finally {
      await own.stop();
    }
  }, 120_000);
});
