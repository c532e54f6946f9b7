// From the packed package, with ioredis installed beside it: an app whose ENVMUX_REDIS_URL points
// at a closed port loads its config without waiting for Redis, and its process exits by itself.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { installProject, runNodeAsync, writeCase } from '../e2e/consumer.js';
import { redisSkipReason, startRedis } from './redis-server.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Loads through loadConfig, reads through createResolver (closed unless CLOSE=no), reports. */
const APP = `
import { createResolver, defineProvider, loadConfig } from 'envmux';
// A network-like store (the tier caches only stores that are not process-local).
const api = defineProvider({ id: 'api', get: async (name) => process.env[name] });
const started = performance.now();
const config = await loadConfig({ configFile: false, providers: [api] });
const loadMs = performance.now() - started;
const resolver = createResolver({ providers: [api] });
const value = await resolver.get('APP_TOKEN');
if (process.env.CLOSE !== 'no') await resolver.close();
const done = performance.now();
process.on('exit', () =>
  console.log(JSON.stringify({
    ok: config.TOKEN === value,
    loadMs: Math.round(loadMs),
    exitMs: Math.round(performance.now() - done),
  })),
);
`;

interface Report {
  ok: boolean;
  loadMs: number;
  exitMs: number;
}

describe('Redis tier and process exit (packed package)', () => {
  let dir: string;
  beforeAll(() => {
    dir = installProject('redis-app', ['ioredis@^6']);
  }, 180_000);

  it('a load with Redis refused does not wait, and the process exits by itself', async () => {
    const app = writeCase(dir, 'refused', {
      'app.mjs': APP,
      '.env': 'TOKEN=$<secret:APP_TOKEN>\n',
    });
    const started = performance.now();
    const run = await runNodeAsync(['app.mjs'], app, {
      APP_TOKEN: 'token-from-env',
      ENVMUX_REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      ENVMUX_REDIS_KEY: randomBytes(32).toString('base64'),
    });
    const elapsed = performance.now() - started;
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0); // not killed by the 30 s spawn timeout
    const report = JSON.parse(run.stdout) as Report;
    expect(report.ok).toBe(true);
    // Reconnects would hold the process until the 30 s cap; ioredis's 2 s disconnect timer on a
    // socket that is closed already would show here.
    expect(report.exitMs).toBeLessThan(1500);
    console.log(
      `redis refused: load ${report.loadMs} ms, exit ${report.exitMs} ms after the last line, process ${Math.round(elapsed)} ms`,
    );
  });

  it.skipIf(redisSkipReason())(
    'a resolver never closed, connected to a live Redis, does not hold the process open',
    async () => {
      const redis = await startRedis();
      try {
        const app = writeCase(dir, 'never-closed', {
          'app.mjs': APP,
          '.env': 'TOKEN=$<secret:APP_TOKEN>\n',
        });
        const run = await runNodeAsync(['app.mjs'], app, {
          APP_TOKEN: 'token-from-env',
          CLOSE: 'no',
          ENVMUX_REDIS_URL: redis.url,
          ENVMUX_REDIS_KEY: randomBytes(32).toString('base64'),
        });
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        const report = JSON.parse(run.stdout) as Report;
        expect(report.ok).toBe(true);
        expect(report.exitMs).toBeLessThan(1500);
      } finally {
        await redis.stop();
      }
    },
  );
});
