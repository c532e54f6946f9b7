// The Redis second tier against a real redis-server: shared across resolvers (processes), entries
// encrypted with names hashed, invalidated by writes, and a Redis that dies mid-run is a miss.

import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, defineProvider, type Provider } from '../../src/index.js';
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

  const resolverWith = (store: Provider, extra: object = {}) =>
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

  it('keys entries by a keyed hash: no SHA-256 of a name or request appears in Redis', async () => {
    const store = memory({ values: { 'guessable/name': SECRET } });
    const resolver = resolverWith(store);
    expect(await resolver.get('guessable/name')).toBe(SECRET);
    await resolver.close();
    const redis = new Redis(server.url);
    const keys = await redis.keys('t1:*');
    const fields = (await Promise.all(keys.map((k) => redis.hkeys(k)))).flat();
    await redis.quit();
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const dump = keys.join('\n') + fields.join('\n');
    for (const guess of ['guessable/name', 'secret\0guessable/name\0', 'db/password']) {
      expect(dump).not.toContain(sha(guess));
    }
  });

  it('counts a Redis hit as an L2 hit, not a miss', async () => {
    const store = memory({ values: { counted: SECRET } });
    const first = resolverWith(store);
    await first.get('counted');
    await first.close(); // flushes the tier write
    const second = resolverWith(store);
    expect(await second.get('counted')).toBe(SECRET);
    expect(second.cacheStats()).toMatchObject({ hits: 0, l2Hits: 1, misses: 0, hitRate: 1 });
    expect(await second.get('counted')).toBe(SECRET);
    expect(second.cacheStats()).toMatchObject({ hits: 1, l2Hits: 1, misses: 0, hitRate: 1 });
    expect(first.cacheStats()).toMatchObject({ hits: 0, l2Hits: 0, misses: 1, hitRate: 0 });
    await second.close();
  });

  it("two tenants with different chains never see each other's values", async () => {
    // Same Redis URL, key and prefix; same provider id and secret name; different stores.
    const tenantA = resolverWith(memory({ id: 'store', values: { 'db-password': 'tenant-A' } }));
    expect(await tenantA.get('db-password')).toBe('tenant-A');
    await tenantA.close();
    const storeB = memory({ id: 'store', values: { 'db-password': 'tenant-B' } });
    const tenantB = resolverWith(storeB);
    expect(await tenantB.get('db-password')).toBe('tenant-B');
    expect(await tenantB.get('db-password', { provider: 'store' })).toBe('tenant-B');
    await tenantB.close();
    // Custom providers without an identity are never shared either, even with the same id.
    const custom = (value: string) =>
      defineProvider({
        id: 'http',
        get: async (name) => (name === 'db-password' ? value : undefined),
      });
    const c1 = resolverWith(custom('custom-1'));
    expect(await c1.get('db-password')).toBe('custom-1');
    await c1.close();
    const c2 = resolverWith(custom('custom-2'));
    expect(await c2.get('db-password')).toBe('custom-2');
    await c2.close();
  });

  it('two processes with the same chain (same identities) share entries', async () => {
    let calls = 0;
    const shared = () =>
      defineProvider({
        id: 'http',
        identity: 'http|https://secrets.example|team-a',
        get: async () => {
          calls++;
          return 'shared-value';
        },
      });
    const one = resolverWith(shared());
    expect(await one.get('api-token')).toBe('shared-value');
    await one.close();
    const two = resolverWith(shared());
    expect(await two.get('api-token')).toBe('shared-value');
    expect(two.cacheStats().l2Hits).toBe(1);
    expect(calls).toBe(1);
    await two.close();
  });

  it('reports the tier in health()', async () => {
    const resolver = resolverWith(memory({ values: { a: '1' } }));
    const rows = await resolver.health();
    expect(rows.find((r) => r.provider === 'cache:redis')).toMatchObject({ ok: true });
    expect(rows.find((r) => r.provider === 'memory')).toMatchObject({ ok: true });
    await resolver.close();
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
