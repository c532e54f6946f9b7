// A dead store costs one timeout: the per-provider circuit breaker, retries budgeted within one
// call timeout, and failover past a hanging or refusing store, through loadConfig and createResolver.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createResolver, defineProvider, loadConfig } from '../../src/index.js';
import { memory } from '../../src/providers/index.js';

const NAMES = Array.from({ length: 100 }, (_, i) => `s${i}`);
const VALUES = Object.fromEntries(NAMES.map((n) => [n, `v-${n}`]));
const GOOD_LATENCY = 50;

function envDir(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-breaker-'));
  writeFileSync(join(dir, '.env'), `${lines.join('\n')}\n`);
  return dir;
}

const hundredRefs = () => envDir(NAMES.map((n, i) => `K${i}=$<secret:${n}>`));

function deadAndGood(mode: 'hang' | 'refuse', deadOptions: { batch?: boolean } = {}) {
  const dead = memory({ id: 'dead', values: {}, ...deadOptions });
  if (mode === 'hang') dead.hang();
  else dead.outage('UNAVAILABLE');
  const good = memory({ id: 'good', values: VALUES, latency: GOOD_LATENCY });
  return { dead, good };
}

const deadCalls = (dead: ReturnType<typeof memory>) => dead.calls.get + dead.calls.getMany;

describe('a dead store costs one timeout (loadConfig)', () => {
  it('[hang, good] with the default timeout and deadline: failover reaches good in one timeout', async () => {
    const { dead, good } = deadAndGood('hang');
    const started = performance.now();
    const config = await loadConfig({
      cwd: hundredRefs(),
      providers: [dead, good],
      processEnv: {},
      env: {},
      configFile: false,
      audit: false,
    });
    const elapsed = performance.now() - started;
    expect(config.K0).toBe('v-s0');
    expect(config.K99).toBe('v-s99');
    // One call timeout (5 s) plus good's latency, with a generous margin: not 15 s.
    expect(elapsed).toBeLessThan(5000 + GOOD_LATENCY + 3000);
    expect(deadCalls(dead)).toBeLessThanOrEqual(3);
  });

  it('[hang, good]: 100 references cost one call timeout and at most `attempts` calls to dead', async () => {
    const { dead, good } = deadAndGood('hang');
    const timeout = 2000;
    const started = performance.now();
    const config = await loadConfig({
      cwd: hundredRefs(),
      providers: [dead, good],
      timeout,
      processEnv: {},
      env: {},
      configFile: false,
      audit: false,
    });
    const elapsed = performance.now() - started;
    expect(Object.keys(config)).toHaveLength(100);
    expect(elapsed).toBeLessThan(timeout + GOOD_LATENCY + 2000);
    expect(deadCalls(dead)).toBeLessThanOrEqual(3);
    expect(good.calls.getMany).toBe(1);
  });

  it('[refuse, good]: at most `attempts` calls to dead, and none in the next load (cool-down)', async () => {
    const { dead, good } = deadAndGood('refuse');
    const load = () =>
      loadConfig({
        cwd: hundredRefs(),
        providers: [dead, good],
        processEnv: {},
        env: {},
        configFile: false,
        audit: false,
      });
    const started = performance.now();
    expect(Object.keys(await load())).toHaveLength(100);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(deadCalls(dead)).toBeLessThanOrEqual(3);
    dead.resetCalls();
    expect((await load()).K42).toBe('v-s42');
    expect(deadCalls(dead)).toBe(0);
  });

  it('a refusing store without batching is not called once per key and attempt', async () => {
    const { dead, good } = deadAndGood('refuse', { batch: false });
    const config = await loadConfig({
      cwd: hundredRefs(),
      providers: [dead, good],
      concurrency: 10,
      processEnv: {},
      env: {},
      configFile: false,
      audit: false,
    });
    expect(Object.keys(config)).toHaveLength(100);
    // The first calls are in flight before the first refusal comes back; no retry, no queued call
    // goes out once the breaker is open (it was 300 calls: 100 keys × 3 attempts).
    expect(dead.calls.get).toBeLessThanOrEqual(10);
  });

  it('a pinned reference to an open provider names the breaker; secret: still fails over', async () => {
    const { dead, good } = deadAndGood('hang');
    const cwd = envDir(['A=$<secret:s1>', 'B=$<dead:s2>']);
    const load = () =>
      loadConfig({
        cwd,
        providers: [dead, good],
        timeout: 300,
        processEnv: {},
        env: {},
        configFile: false,
        audit: false,
      }).catch((e) => e);
    const first = await load();
    expect(first.errors.map((e: { key: string; code: string }) => [e.key, e.code])).toEqual([
      ['B', 'TIMEOUT'],
    ]);
    const calls = deadCalls(dead);
    const second = await load();
    expect(deadCalls(dead)).toBe(calls);
    expect(second.errors).toHaveLength(1);
    expect(second.errors[0]).toMatchObject({ key: 'B', code: 'UNAVAILABLE', provider: 'dead' });
    expect(second.errors[0].message).toMatch(
      /skipped: \d+ consecutive failures?.*retry after \d{4}-/,
    );
  });
});

describe('fail closed past a skipped store', () => {
  it('a default is not used because the store that may hold the key is down', async () => {
    const { dead, good } = deadAndGood('refuse');
    const error = await loadConfig({
      cwd: envDir(['A=$<secret:absent:-fallback>']),
      providers: [dead, good],
      retry: { attempts: 1 },
      processEnv: {},
      env: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors[0]).toMatchObject({ key: 'A', code: 'UNAVAILABLE', provider: 'dead' });
  });
});

describe('the circuit breaker (createResolver)', () => {
  it('[hang, good]: getMany of 100 names costs one timeout; breakers() reports it open', async () => {
    const { dead, good } = deadAndGood('hang');
    const resolver = createResolver({
      providers: [dead, good],
      timeout: 1000,
      env: {},
      audit: false,
    });
    const started = performance.now();
    const all = await resolver.getMany(NAMES);
    expect(performance.now() - started).toBeLessThan(1000 + GOOD_LATENCY + 2000);
    expect(all.s7).toBe('v-s7');
    expect(deadCalls(dead)).toBeLessThanOrEqual(3);
    const states = await resolver.breakers();
    expect(states.find((s) => s.provider === 'dead')).toMatchObject({ state: 'open' });
    expect(states.find((s) => s.provider === 'good')).toMatchObject({
      state: 'closed',
      failures: 0,
    });
    await expect(resolver.get('x', { provider: 'dead' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/skipped/),
    });
  });

  it('[refuse, good] opens after `threshold` failures; a half-open probe closes it', async () => {
    const { dead, good } = deadAndGood('refuse');
    const resolver = createResolver({
      providers: [dead, good],
      breaker: { threshold: 2, coolDown: 100 },
      retry: { attempts: 5, minDelay: 1, maxDelay: 5 },
      cache: false,
      env: {},
      audit: false,
    });
    expect(await resolver.get('s1')).toBe('v-s1');
    expect(deadCalls(dead)).toBe(2);
    expect((await resolver.breakers())[0]).toMatchObject({ provider: 'dead', state: 'open' });
    expect(await resolver.get('s2')).toBe('v-s2');
    expect(deadCalls(dead)).toBe(2);
    dead.outage(false);
    await new Promise((r) => setTimeout(r, 150));
    expect((await resolver.breakers())[0]).toMatchObject({ state: 'half-open' });
    // The probe reaches dead (now healed, without s3), which answers "not here": closed again.
    expect(await resolver.get('s3')).toBe('v-s3');
    expect(deadCalls(dead)).toBe(3);
    expect((await resolver.breakers())[0]).toMatchObject({ state: 'closed', failures: 0 });
  });

  it('a failed probe opens it again for another cool-down', async () => {
    const { dead, good } = deadAndGood('refuse');
    const resolver = createResolver({
      providers: [dead, good],
      breaker: { threshold: 1, coolDown: 300 },
      retry: { attempts: 3, minDelay: 1, maxDelay: 5 },
      cache: false,
      env: {},
      audit: false,
    });
    await resolver.get('s1');
    expect(deadCalls(dead)).toBe(1);
    await new Promise((r) => setTimeout(r, 350));
    await resolver.get('s2');
    expect(deadCalls(dead)).toBe(2);
    expect((await resolver.breakers())[0]).toMatchObject({ state: 'open' });
  });

  it('breaker: false turns it off (every attempt goes out)', async () => {
    const { dead, good } = deadAndGood('refuse');
    const resolver = createResolver({
      providers: [dead, good],
      breaker: false,
      retry: { attempts: 3, minDelay: 1, maxDelay: 5 },
      cache: false,
      env: {},
      audit: false,
    });
    await resolver.get('s1');
    await resolver.get('s2');
    expect(deadCalls(dead)).toBe(6);
  });

  it('retries fit in one call timeout: a slow failing store is not retried past it', async () => {
    let calls = 0;
    const slow = defineProvider({
      id: 'slow',
      async get() {
        calls++;
        await new Promise((r) => setTimeout(r, 150));
        throw Object.assign(new Error('bad gateway'), { status: 502 });
      },
    });
    const resolver = createResolver({
      providers: [slow],
      timeout: 400,
      retry: { attempts: 10, minDelay: 1, maxDelay: 5 },
      breaker: false,
      env: {},
      audit: false,
    });
    const started = performance.now();
    await expect(resolver.get('x')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(performance.now() - started).toBeLessThan(400 + 1000);
    expect(calls).toBeLessThanOrEqual(3);
  });
});

describe('network failures of a custom provider', () => {
  /** A loopback port nothing listens on (bound, then closed). */
  async function closedPort(): Promise<number> {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('a real fetch to a closed port is UNAVAILABLE, retried, and fails over', async () => {
    const port = await closedPort();
    let calls = 0;
    const http = defineProvider({
      id: 'http',
      async get(name, { signal }) {
        calls++;
        const res = await fetch(`http://127.0.0.1:${port}/secrets/${name}`, { signal });
        return res.ok ? res.text() : undefined;
      },
    });
    const backup = memory({ id: 'backup', values: { db: 'from-backup' } });
    const resolver = createResolver({
      providers: [http, backup],
      retry: { attempts: 2, minDelay: 1, maxDelay: 5 },
      env: {},
      audit: false,
    });
    expect(await resolver.get('db')).toBe('from-backup');
    expect(calls).toBe(2);
    const pinned = createResolver({
      providers: [http],
      retry: { attempts: 1 },
      env: {},
      audit: false,
    });
    await expect(pinned.get('db')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      provider: 'http',
    });
  });

  it.each([
    ['ECONNREFUSED in cause', new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })],
    [
      'ENOTFOUND two causes deep',
      new Error('lookup', {
        cause: new Error('x', {
          cause: Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }),
        }),
      }),
    ],
    [
      'ECONNRESET in an AggregateError',
      new AggregateError([Object.assign(new Error('reset'), { code: 'ECONNRESET' })], 'x'),
    ],
    ['bare fetch failed', new TypeError('fetch failed')],
    [
      'SyntaxError of an HTML 502',
      Object.assign(new SyntaxError('Unexpected token <'), { status: 502 }),
    ],
  ])('%s → UNAVAILABLE', async (_, thrown) => {
    const p = defineProvider({
      id: 'p',
      async get() {
        throw thrown;
      },
    });
    await expect(
      createResolver({ providers: [p], retry: { attempts: 1 }, env: {}, audit: false }).get('x'),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });

  it('a programming error stays CONFIG (not retried, no failover)', async () => {
    const p = defineProvider({
      id: 'p',
      async get() {
        throw new TypeError('cannot read properties of undefined');
      },
    });
    await expect(
      createResolver({ providers: [p], retry: { attempts: 1 }, env: {}, audit: false }).get('x'),
    ).rejects.toMatchObject({ code: 'CONFIG', retryable: false });
  });
});
