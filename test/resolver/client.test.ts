// The resolver client: dedupe, batching, concurrency, in-flight sharing, cache, retries,
// failover, deadlines, stale-if-error, batch fallback, re-authentication and the audit log.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AuditLog,
  createResolver,
  defineProvider,
  EnvmuxError,
  loadConfig,
} from '../../src/index.js';
import { memory } from '../../src/providers/index.js';

const fast = { minDelay: 1, maxDelay: 5 };

function envFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-client-'));
  writeFileSync(join(dir, '.env'), content);
  return dir;
}

describe('fetching', () => {
  it('fetches each unique reference once per load, in getMany batches of batchSize', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `s${i}`);
    const store = memory({
      values: Object.fromEntries(names.map((n) => [n, `v-${n}`])),
      batchSize: 100,
    });
    const lines = names.flatMap((n, i) => [`K${i}=$<secret:${n}>`, `J${i}=$<secret:${n}>`]);
    const config = await loadConfig({
      cwd: envFile(lines.join('\n')),
      providers: [store],
      processEnv: {},
      configFile: false,
      audit: false,
    });
    expect(config.K7).toBe('v-s7');
    expect(config.J249).toBe('v-s249');
    expect(store.calls.get).toBe(0);
    expect(store.calls.batches.map((b) => b.length)).toEqual([100, 100, 50]);
  });

  it('several #fields of one secret cost one fetch', async () => {
    const store = memory({ values: { db: '{"u":"a","p":"b"}' }, batch: false });
    const config = await loadConfig({
      cwd: envFile('U=$<secret:db#u>\nP=$<secret:db#p>\nURL=$<secret:db#u>:$<secret:db#p>\n'),
      providers: [store],
      processEnv: {},
      configFile: false,
      audit: false,
    });
    expect(config).toEqual({ U: 'a', P: 'b', URL: 'a:b' });
    expect(store.calls.get).toBe(1);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    let active = 0;
    let peak = 0;
    const slow = defineProvider({
      id: 'slow',
      async get(name) {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        return `v-${name}`;
      },
    });
    const resolver = createResolver({ providers: [slow], concurrency: 4, audit: false });
    const all = await resolver.getMany(Array.from({ length: 20 }, (_, i) => `n${i}`));
    expect(Object.keys(all)).toHaveLength(20);
    expect(peak).toBe(4);
  });

  it('shares one in-flight fetch between concurrent requests for a key', async () => {
    const store = memory({ values: { a: '1' }, latency: 20, batch: false });
    const resolver = createResolver({ providers: [store], cache: false, audit: false });
    const results = await Promise.all([resolver.get('a'), resolver.get('a'), resolver.get('a')]);
    expect(results).toEqual(['1', '1', '1']);
    expect(store.calls.get).toBe(1);
  });

  it('loads 100 references at 50 ms latency in about one round trip (batched)', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `s${i}`);
    const store = memory({ values: Object.fromEntries(names.map((n) => [n, n])), latency: 50 });
    const config = await loadConfig({
      cwd: envFile(names.map((n) => `${n.toUpperCase()}=$<secret:${n}>`).join('\n')),
      providers: [store],
      processEnv: {},
      configFile: false,
      audit: false,
    });
    expect(Object.keys(config)).toHaveLength(100);
    expect(store.calls.getMany).toBe(1);
  });
});

describe('cache', () => {
  it('serves hits from the cache, with stats, clear and bypass', async () => {
    const store = memory({ values: { a: '1' }, batch: false });
    const resolver = createResolver({ providers: [store], audit: false });
    await resolver.get('a');
    await resolver.get('a');
    expect(store.calls.get).toBe(1);
    expect(resolver.cacheStats()).toMatchObject({ hits: 1, misses: 1, size: 1, hitRate: 0.5 });
    await resolver.get('a', { cache: false });
    expect(store.calls.get).toBe(2);
    resolver.clearCache();
    await resolver.get('a');
    expect(store.calls.get).toBe(3);
  });

  it('expires entries after their TTL (per-provider TTL wins)', async () => {
    const store = memory({ values: { a: '1' }, batch: false, ttl: 20 });
    const resolver = createResolver({ providers: [store], cache: { ttl: 60_000 }, audit: false });
    await resolver.get('a');
    await new Promise((r) => setTimeout(r, 40));
    await resolver.get('a');
    expect(store.calls.get).toBe(2);
  });

  it('is invalidated by set, delete and rotate', async () => {
    const store = memory({ values: { a: '1' } });
    const resolver = createResolver({ providers: [store], audit: false });
    expect(await resolver.get('a')).toBe('1');
    await resolver.set('a', '2');
    expect(await resolver.get('a')).toBe('2');
    await resolver.rotate('a', { generate: () => '3' });
    expect(await resolver.get('a')).toBe('3');
    await resolver.delete('a');
    await expect(resolver.get('a')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('serves a stale value while the provider is down, within maxStale, and audits it', async () => {
    const store = memory({ values: { a: '1' }, batch: false, ttl: 10 });
    const log = new AuditLog();
    const resolver = createResolver({
      providers: [store],
      cache: { maxStale: 60_000 },
      retry: { attempts: 1 },
      audit: { log },
    });
    await resolver.get('a');
    await new Promise((r) => setTimeout(r, 20));
    store.outage('UNAVAILABLE');
    expect(await resolver.get('a')).toBe('1');
    expect(log.query({ key: 'a' }).some((e) => e.cache === 'stale')).toBe(true);
    store.outage(false);
    store.fail('a', 'ACCESS_DENIED');
    await new Promise((r) => setTimeout(r, 20));
    // Never fall back after an access or auth error.
    await expect(resolver.get('a')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });
});

describe('retries and failover', () => {
  it('retries transient errors and succeeds', async () => {
    let calls = 0;
    const flaky = defineProvider({
      id: 'flaky',
      async get() {
        if (++calls < 3) throw Object.assign(new Error('throttled'), { status: 429 });
        return 'ok';
      },
    });
    const resolver = createResolver({ providers: [flaky], retry: fast, audit: false });
    expect(await resolver.get('x')).toBe('ok');
    expect(calls).toBe(3);
  });

  it('does not retry ACCESS_DENIED or AUTH_FAILED, and does not fail over on them', async () => {
    let calls = 0;
    const denied = defineProvider({
      id: 'denied',
      async get() {
        calls++;
        throw Object.assign(new Error('nope'), { status: 403 });
      },
    });
    const backup = memory({ id: 'backup', values: { x: 'from-backup' } });
    const resolver = createResolver({ providers: [denied, backup], retry: fast, audit: false });
    await expect(resolver.get('x')).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      provider: 'denied',
      retryable: false,
    });
    expect(calls).toBe(1);
    expect(backup.calls.getMany + backup.calls.get).toBe(0);
  });

  it('fails over on NOT_FOUND / UNAVAILABLE / TIMEOUT / THROTTLED', async () => {
    for (const code of ['UNAVAILABLE', 'TIMEOUT', 'THROTTLED'] as const) {
      const primary = memory({ id: 'primary', values: { x: 'p' } });
      primary.fail('x', code);
      const resolver = createResolver({
        providers: [primary, memory({ id: 'backup', values: { x: 'b' } })],
        retry: { attempts: 1 },
        audit: false,
      });
      expect(await resolver.get('x')).toBe('b');
    }
  });

  it('failover: false makes the first answer final; failover: [codes] names the codes', async () => {
    const primary = memory({ id: 'primary', values: {} });
    const backup = memory({ id: 'backup', values: { x: 'b' } });
    await expect(
      createResolver({ providers: [primary, backup], failover: false, audit: false }).get('x'),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    primary.fail('x', 'UNAVAILABLE');
    const onlyMissing = createResolver({
      providers: [primary, backup],
      failover: ['NOT_FOUND'],
      retry: { attempts: 1 },
      audit: false,
    });
    await expect(onlyMissing.get('x')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('the load deadline holds when a provider hangs forever', async () => {
    const hung = memory({ id: 'hung', values: { x: '1' } });
    hung.hang();
    const started = Date.now();
    const error = await loadConfig({
      cwd: envFile('A=$<secret:x>\nB=plain\n'),
      providers: [hung],
      deadline: 200,
      timeout: 10_000,
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors[0]).toMatchObject({ code: 'TIMEOUT', key: 'A', line: 1 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a per-call timeout holds even if the provider ignores its signal', async () => {
    const hung = memory({ values: { x: '1' } });
    hung.hang();
    const resolver = createResolver({
      providers: [hung],
      timeout: 30,
      retry: { attempts: 2, ...fast },
      audit: false,
    });
    await expect(resolver.get('x')).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('a TIMEOUT names the store, the attempts made and the setting to change', async () => {
    const hung = memory({ values: { x: '1' } });
    hung.hang();
    const resolver = createResolver({
      providers: [hung],
      timeout: 30,
      retry: { attempts: 2, ...fast },
      audit: false,
    });
    const error = await resolver.get('x').catch((e) => e);
    expect(error.message).toBe('batch of 1: no answer within 30 ms (provider "memory", 1 attempt)');
    expect(error.hint).toBe(
      'a slow store? raise ENVMUX_TIMEOUT (each call, retries included; now 30 ms) or the timeout option',
    );
  });

  it('a load deadline TIMEOUT says which setting bounds the whole load', async () => {
    const hung = memory({ values: { x: '1' } });
    hung.hang();
    const error = await loadConfig({
      cwd: envFile('A=$<secret:x>\n'),
      providers: [hung],
      deadline: 200,
      timeout: 10_000,
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors[0].message).toBe(
      'batch of 1: the load deadline passed (provider "memory", 1 attempt)',
    );
    expect(error.errors[0].hint).toBe(
      'a slow store? raise ENVMUX_DEADLINE (the whole load) or the deadline option',
    );
  });

  it('falls back to single reads for the rest of the process when a batch is refused, audited once', async () => {
    const store = memory({ values: { a: '1', b: '2', c: '3' } });
    const original = store.getMany!;
    (store as { getMany: typeof original }).getMany = async () => {
      throw new EnvmuxError('ACCESS_DENIED', 'batch not allowed');
    };
    const log = new AuditLog();
    const resolver = createResolver({ providers: [store], audit: { log } });
    expect(await resolver.getMany(['a', 'b'])).toEqual({ a: '1', b: '2' });
    expect(await resolver.get('c')).toBe('3');
    expect(store.calls.get).toBe(3);
    expect(log.query({ action: 'batch-fallback' })).toHaveLength(1);
  });

  it('re-authenticates once after SESSION_EXPIRED, then retries', async () => {
    let session = 0;
    let logins = 0;
    const provider = defineProvider({
      id: 'sess',
      async authenticate() {
        logins++;
        session = 1;
      },
      async get() {
        if (!session) throw new EnvmuxError('SESSION_EXPIRED', 'token expired');
        return 'ok';
      },
    });
    const resolver = createResolver({ providers: [provider], audit: false });
    expect(await resolver.get('x')).toBe('ok');
    expect(logins).toBe(1);
  });

  it('a failed re-login after SESSION_EXPIRED is final: AUTH_FAILED, not retried', async () => {
    let logins = 0;
    let reads = 0;
    const provider = defineProvider({
      id: 'sess',
      async authenticate() {
        logins++;
        throw new EnvmuxError('AUTH_FAILED', 'bad credentials');
      },
      async get() {
        reads++;
        throw new EnvmuxError('SESSION_EXPIRED', 'token expired');
      },
    });
    const resolver = createResolver({ providers: [provider], retry: fast, audit: false });
    await expect(resolver.get('x')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect([logins, reads]).toEqual([1, 1]);
  });

  it('maps what a custom provider throws to stable codes', async () => {
    const cases: Array<[unknown, string]> = [
      [Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'UNAVAILABLE'],
      [Object.assign(new Error('x'), { statusCode: 401 }), 'AUTH_FAILED'],
      [Object.assign(new Error('x'), { status: 404 }), 'NOT_FOUND'],
      [new TypeError('bug'), 'CONFIG'],
    ];
    for (const [thrown, code] of cases) {
      const p = defineProvider({
        id: 'p',
        async get() {
          throw thrown;
        },
      });
      await expect(
        createResolver({
          providers: [p],
          retry: { attempts: 1 },
          failover: false,
          audit: false,
        }).get('x'),
      ).rejects.toMatchObject({ code });
    }
  });
});

describe('management and audit', () => {
  it('writes go to the first writable provider, or all with writeTo: all', async () => {
    const a = memory({ id: 'a' });
    const b = memory({ id: 'b' });
    expect(await createResolver({ providers: [a, b], audit: false }).set('k', 'v')).toEqual([
      { provider: 'a', version: '1' },
    ]);
    const outcomes = await createResolver({ providers: [a, b], writeTo: 'all', audit: false }).set(
      'k',
      'w',
    );
    expect(outcomes.map((o) => o.provider)).toEqual(['a', 'b']);
    expect(
      await createResolver({ providers: [a, b], audit: false }).set('k', 'x', { provider: 'b' }),
    ).toEqual([{ provider: 'b', version: '2' }]);
  });

  it('lists, versions and health', async () => {
    const store = memory({ values: { 'app/a': ['1', '2'], 'app/b': 'x', other: 'y' } });
    const resolver = createResolver({ providers: [store], audit: false });
    expect((await resolver.list('app/')).map((i) => i.name)).toEqual(['app/a', 'app/b']);
    expect((await resolver.versions('app/a')).map((v) => v.version)).toEqual(['1', '2']);
    expect(await resolver.health()).toMatchObject([{ provider: 'memory', ok: true }]);
  });

  it('records operations with filters, and never a value', async () => {
    const secret = 'the-secret-value-42';
    const log = new AuditLog();
    const store = memory({ values: { a: secret, 'b/c': secret } });
    const resolver = createResolver({ providers: [store], audit: { log } });
    await resolver.get('a');
    await resolver.get('a');
    await resolver.get('b/c');
    await resolver.get('missing').catch(() => {});
    await resolver.set('a', `${secret}-2`);
    expect(log.query({ key: 'a' }).map((e) => `${e.action}:${e.outcome}:${e.cache ?? ''}`)).toEqual(
      ['get:ok:miss', 'get:ok:hit', 'set:ok:'],
    );
    expect(log.query({ outcome: 'miss' })).toHaveLength(1);
    expect(log.query({ key: /^b\// })).toHaveLength(1);
    expect(log.query({ action: 'set', provider: 'memory' })).toHaveLength(1);
    expect(log.query({ since: Date.now() + 1000 })).toHaveLength(0);
    const entry = log.query()[0]!;
    expect(entry).toMatchObject({ source: 'api', pid: process.pid });
    expect(typeof entry.actor).toBe('string');
    expect(JSON.stringify(log.query())).not.toContain(secret);
    resolver.clearAudit();
    expect(log.query()).toHaveLength(0);
  });

  it('keeps only the newest entries (ring buffer)', () => {
    const log = new AuditLog(3);
    for (let i = 0; i < 5; i++) log.record({ action: 'get', key: `k${i}`, outcome: 'ok' });
    expect(log.query().map((e) => e.key)).toEqual(['k2', 'k3', 'k4']);
  });
});

describe('configuration errors', () => {
  it('names a chain entry that is not a provider', async () => {
    const resolver = createResolver({ providers: [memory(), 42 as never], audit: false });
    await expect(resolver.get('x')).rejects.toMatchObject({
      code: 'CONFIG',
      message: 'providers[1] is not a provider (number)',
    });
  });
});
