// The last-known-good copy through loadConfig: written sealed (no plaintext, 0600) after a good
// load; used only when every store is unreachable, within maxAge, with one notice and an audit
// entry; never after an auth, access or not-found answer; a modified or too old copy fails closed.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, type EnvmuxAggregateError, loadConfig } from '../../src/index.js';
import { type MemoryProvider, memory } from '../../src/providers/memory.js';

const VALUES = { db: 'db-secret-value-1', api: 'api-secret-value-2' };

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-lkg-'));
  writeFileSync(
    join(dir, '.env'),
    'DB=$<secret:db>\nAPI=$<secret:api>\nURL=postgres://app:$<secret:db>@db/app\nPLAIN=plain\n',
  );
  return dir;
}

function setup(maxAge: string | number = '24h') {
  const cwd = project();
  const path = join(cwd, 'lkg.json');
  const env = { ENVMUX_VAULT_KEY: randomBytes(32).toString('base64') };
  const log = new AuditLog();
  const notices: string[] = [];
  const load = (store: MemoryProvider | MemoryProvider[], extra: object = {}) =>
    loadConfig({
      cwd,
      env,
      processEnv: {},
      configFile: false,
      providers: Array.isArray(store) ? store : [store],
      retry: { attempts: 1 },
      breaker: false,
      audit: { log },
      lastKnownGood: { path, maxAge },
      onNotice: (line) => notices.push(line),
      ...extra,
    });
  return { cwd, path, env, log, notices, load };
}

const codesOf = async (p: Promise<unknown>) =>
  p.then(
    () => [],
    (e: EnvmuxAggregateError) => (e.errors ?? [e]).map((x) => x.code),
  );

describe('last-known-good copy', () => {
  it('is written sealed and 0600, and used when every store is unreachable', async () => {
    const t = setup();
    const store = memory({ values: VALUES });
    const good = await t.load(store);
    expect(existsSync(t.path)).toBe(true);
    expect(statSync(t.path).mode & 0o777).toBe(0o600);
    const text = readFileSync(t.path, 'utf8');
    for (const v of [...Object.values(VALUES), 'postgres://app:']) expect(text).not.toContain(v);
    expect(t.notices).toEqual([]);

    store.outage('UNAVAILABLE');
    const config = await t.load(store);
    expect(config).toEqual(good);
    expect(t.notices).toHaveLength(1);
    expect(t.notices[0]).toMatch(
      /^every store unreachable; using last-known-good copy from \d+s ago \(max 24h\)$/,
    );
    expect(t.log.query({ action: 'last-known-good' })).toMatchObject([{ outcome: 'ok' }]);

    store.outage('TIMEOUT');
    expect(await t.load(store)).toEqual(good);
  });

  it('is never used after an auth, access or not-found answer', async () => {
    const t = setup();
    const store = memory({ values: VALUES });
    await t.load(store);
    for (const code of ['AUTH_FAILED', 'ACCESS_DENIED'] as const) {
      store.outage(code);
      expect(await codesOf(t.load(store))).toContain(code);
    }
    store.outage(false);
    await store.delete!('api', {});
    expect(await codesOf(t.load(store))).toEqual(['NOT_FOUND']);
    expect(t.notices).toEqual([]);
  });

  it('is not used when one store of the chain answered (only some are down)', async () => {
    const t = setup();
    const first = memory({ id: 'first', values: { db: VALUES.db } });
    const second = memory({ id: 'second', values: { api: VALUES.api } });
    await t.load([first, second]);
    second.outage('UNAVAILABLE');
    expect(await codesOf(t.load([first, second]))).toEqual(['UNAVAILABLE']);
    expect(t.notices).toEqual([]);
  });

  it('fails closed when the copy is older than maxAge', async () => {
    const t = setup(20);
    const store = memory({ values: VALUES });
    await t.load(store);
    await new Promise((r) => setTimeout(r, 40));
    store.outage('UNAVAILABLE');
    expect(await codesOf(t.load(store))).toEqual([
      'UNAVAILABLE',
      'UNAVAILABLE',
      'UNAVAILABLE',
      'EXPIRED',
    ]);
    expect(t.notices).toEqual([]);
    expect(t.log.query({ action: 'last-known-good' })).toMatchObject([
      { outcome: 'error', code: 'EXPIRED' },
    ]);
  });

  it('fails closed with DECRYPTION_FAILED when the copy was modified or the key differs', async () => {
    const t = setup();
    const store = memory({ values: VALUES });
    await t.load(store);
    const text = readFileSync(t.path, 'utf8');
    store.outage('UNAVAILABLE');
    // A flipped character in the sealed data.
    const data = /"data":"([^"]+)"/.exec(text)![1]!;
    const flipped = (data[5] === 'A' ? 'B' : 'A') + data.slice(6);
    writeFileSync(t.path, text.replace(data, data.slice(0, 5) + flipped));
    expect(await codesOf(t.load(store))).toContain('DECRYPTION_FAILED');
    // A later time written into the record (its date is authenticated).
    writeFileSync(
      t.path,
      text.replace(/"created":"[^"]+"/, `"created":"${new Date().toISOString()}"`),
    );
    expect(await codesOf(t.load(store))).toContain('DECRYPTION_FAILED');
    // Another key.
    writeFileSync(t.path, text);
    t.env.ENVMUX_VAULT_KEY = randomBytes(32).toString('base64');
    expect(await codesOf(t.load(store))).toContain('DECRYPTION_FAILED');
    expect(t.notices).toEqual([]);
  });

  it('ENVMUX_LKG_PATH and ENVMUX_LKG_MAX_AGE turn it on; lastKnownGood: false turns it off', async () => {
    const t = setup();
    const store = memory({ values: VALUES });
    const env = { ...t.env, ENVMUX_LKG_PATH: 'from-env.json', ENVMUX_LKG_MAX_AGE: '2h' };
    await t.load(store, { env, lastKnownGood: undefined });
    expect(existsSync(join(t.cwd, 'from-env.json'))).toBe(true);
    store.outage('UNAVAILABLE');
    expect((await t.load(store, { env, lastKnownGood: undefined })).DB).toBe(VALUES.db);
    expect(t.notices[0]).toMatch(/\(max 2h\)$/);
    expect(await codesOf(t.load(store, { env, lastKnownGood: false }))).toEqual([
      'UNAVAILABLE',
      'UNAVAILABLE',
      'UNAVAILABLE',
    ]);
  });
});

describe('formatAge', () => {
  it('says hours and minutes, days from two on', async () => {
    const { formatAge } = await import('../../src/resolver/last-known-good.js');
    expect(formatAge(2 * 3_600_000 + 14 * 60_000 + 5000)).toBe('2h14m');
    expect(formatAge(90_000)).toBe('1m30s');
    expect(formatAge(24 * 3_600_000)).toBe('24h');
    expect(formatAge(3 * 86_400_000)).toBe('3d');
  });
});
