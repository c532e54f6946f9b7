// The Redis tier when Redis is refused, black-holed or killed: a load pays at most one bounded
// wait, answers come from the providers, health() says so, and close() stops every reconnection.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, loadConfig } from '../../src/index.js';
import { memory } from '../../src/providers/index.js';
import { redisSkipReason, startRedis } from './redis-server.js';

const skip = redisSkipReason();
const key = randomBytes(32).toString('base64');

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A TCP server that accepts connections and never answers (a black hole). */
async function blackHole(port = 0): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.resume(); // read (and drop) what comes, so a hang-up is seen
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.close();
  }
});

function project(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-redis-outage-'));
  writeFileSync(
    join(dir, '.env'),
    names.map((n) => `${n.toUpperCase()}=$<secret:${n}>`).join('\n'),
  );
  return dir;
}

const names = Array.from({ length: 30 }, (_, i) => `k${i}`);
const values = Object.fromEntries(names.map((n) => [n, `value-of-${n}`]));

describe.skipIf(skip)('Redis tier outages', () => {
  beforeAll(async () => {
    await import('ioredis'); // loading the module is not what the bounds below measure
  });

  it('refused: each load answers from the providers without waiting for Redis', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const cwd = project(names);
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const config = await loadConfig({
        cwd,
        configFile: false,
        providers: [memory({ values })],
        // A longer command timeout than the default makes a wait on the connection obvious.
        cache: { redis: { url, key, commandTimeout: 600 } },
        audit: false,
      });
      expect(config.K0).toBe('value-of-k0');
      // A refused connection is known at once; nothing waits for the command timeout.
      expect(performance.now() - started).toBeLessThan(600);
    }
  });

  it('black-holed: one load pays at most the connect timeout, once, and close() hangs up', async () => {
    const hole = await blackHole();
    servers.push(hole.server);
    const store = memory({ values });
    const resolver = createResolver({
      providers: [store],
      cache: { redis: { url: `redis://127.0.0.1:${hole.port}`, key, connectTimeout: 300 } },
      audit: false,
    });
    const started = performance.now();
    expect(await resolver.getMany(names)).toEqual(values);
    const first = performance.now() - started;
    expect(first).toBeLessThan(300 + 1500);
    // The tier is known down: the next reads do not wait again.
    const again = performance.now();
    expect(await resolver.get('k1', { cache: false })).toBe('value-of-k1');
    expect(performance.now() - again).toBeLessThan(250);
    const rows = await resolver.health();
    expect(rows.find((r) => r.provider === 'cache:redis')).toMatchObject({ ok: false });
    await resolver.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(hole.sockets.every((s) => s.destroyed || s.readableEnded)).toBe(true);
  });

  it('killed mid-run: misses without waiting, and close() stops reconnecting', async () => {
    const own = await startRedis();
    const store = memory({ values: { a: 'A', b: 'B' } });
    const resolver = createResolver({
      providers: [store],
      cache: { ttl: 1, redis: { url: own.url, key } },
      audit: false,
    });
    expect(await resolver.get('a')).toBe('A');
    await own.stop();
    const started = performance.now();
    expect(await resolver.get('b')).toBe('B');
    expect(await resolver.get('a')).toBe('A');
    expect(performance.now() - started).toBeLessThan(1500);
    const rows = await resolver.health();
    expect(rows.find((r) => r.provider === 'cache:redis')).toMatchObject({ ok: false });
    await resolver.close();
    // Nothing may come back to the port after close(): listen there and wait past any backoff.
    const listener = await blackHole(own.port);
    servers.push(listener.server);
    await new Promise((r) => setTimeout(r, 2500));
    expect(listener.sockets).toHaveLength(0);
  });

  it('a Redis that stops answering mid-run costs one command timeout, then none', async () => {
    const own = await startRedis();
    const store = memory({ values });
    const resolver = createResolver({
      providers: [store],
      cache: { redis: { url: own.url, key, commandTimeout: 400 } },
      audit: false,
    });
    expect(await resolver.get('k0')).toBe('value-of-k0');
    own.process.kill('SIGSTOP');
    try {
      const started = performance.now();
      expect(await resolver.getMany(names.slice(1, 20))).toHaveProperty('k1', 'value-of-k1');
      expect(performance.now() - started).toBeLessThan(400 + 1500);
      const next = performance.now();
      expect(await resolver.getMany(names.slice(20), { cache: false })).toHaveProperty('k20');
      // Known down: no second wait for the command timeout.
      expect(performance.now() - next).toBeLessThan(300);
      await resolver.close();
    } finally {
      own.process.kill('SIGCONT');
      await own.stop();
    }
  });

  it('a health row for a tier that cannot start (no key) says CONFIG', async () => {
    const resolver = createResolver({
      providers: [memory({ values: { a: '1' } })],
      cache: { redis: { url: `redis://127.0.0.1:${await closedPort()}` } },
      env: {},
      audit: false,
    });
    const rows = await resolver.health();
    expect(rows.find((r) => r.provider === 'cache:redis')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('CONFIG'),
    });
    await resolver.close();
  });
});
