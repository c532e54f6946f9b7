// The Redis second tier against a real redis-server: shared across resolvers (processes), entries
// encrypted with names hashed, invalidated by writes, and a Redis that dies mid-run is a miss.

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/index.js';
import { memory } from '../../src/providers/index.js';
import { type RedisServer, redisSkipReason, startRedis } from './redis-server.js';

const skip = redisSkipReason();
const key = randomBytes(32).toString('base64');
const SECRET = 'redis-tier-secret-value-77';

describe.skipIf(skip)('Redis cache tier', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const resolverWith = (store: ReturnType<typeof memory>, extra: object = {}) =>
    createResolver({
      providers: [store],
      cache: { redis: { url: server.url, key, prefix: 't1:' }, ...extra },
      audit: false,
    });

  it('a second resolver (another process) is served from Redis, not the provider', async () => {
    const store = memory({ values: { 'db/password': SECRET } });
    const first = resolverWith(store);
    expect(await first.get('db/password')).toBe(SECRET);
    await new Promise((r) => setTimeout(r, 50)); // the tier write is fire-and-forget
    const second = resolverWith(store);
    expect(await second.get('db/password')).toBe(SECRET);
    expect(store.calls.get + store.calls.getMany).toBe(1);
    await first.close();
    await second.close();
  });

  it('stores neither the value nor the name in clear', async () => {
    const redis = new Redis(server.url);
    const keys = await redis.keys('t1:*');
    expect(keys.length).toBeGreaterThan(0);
    const dump = JSON.stringify(await Promise.all(keys.map((k) => redis.hgetall(k)))) + keys.join();
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain('db/password');
    expect(dump).not.toContain(Buffer.from(SECRET).toString('base64'));
    await redis.quit();
  });

  it('is invalidated by a write', async () => {
    const store = memory({ values: { rotating: 'v1' } });
    const a = resolverWith(store);
    expect(await a.get('rotating')).toBe('v1');
    await new Promise((r) => setTimeout(r, 50));
    await a.set('rotating', 'v2');
    const b = resolverWith(store);
    expect(await b.get('rotating')).toBe('v2');
    await a.close();
    await b.close();
  });

  it('entries under another key are a miss, not an error', async () => {
    const store = memory({ values: { 'db/password': SECRET } });
    const other = createResolver({
      providers: [store],
      cache: { redis: { url: server.url, key: randomBytes(32), prefix: 't1:' } },
      audit: false,
    });
    expect(await other.get('db/password')).toBe(SECRET);
    expect(store.calls.get + store.calls.getMany).toBe(1);
    await other.close();
  });

  it('a Redis that dies mid-run turns into misses, without waiting', async () => {
    const own = await startRedis();
    const store = memory({ values: { a: 'A', b: 'B' } });
    const resolver = createResolver({
      providers: [store],
      cache: { ttl: 1, redis: { url: own.url, key, commandTimeout: 200 } },
      audit: false,
    });
    expect(await resolver.get('a')).toBe('A');
    await own.stop();
    const started = Date.now();
    expect(await resolver.get('b')).toBe('B');
    expect(await resolver.get('a')).toBe('A');
    expect(Date.now() - started).toBeLessThan(3000);
    await resolver.close();
  });

  it('refuses to run without an encryption key', async () => {
    const resolver = createResolver({
      providers: [memory({ values: { a: '1' } })],
      cache: { redis: { url: server.url } },
      env: {},
      audit: false,
    });
    await expect(resolver.get('a')).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
