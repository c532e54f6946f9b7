// Round trips of the PostgreSQL vault, counted at `pg`'s client (every statement sent): set 2 after
// the first (which checks the schema once), get 1, a load of 100 references 1, list 1 and versions 1
// without decrypting anything. And a set racing a key rotation never lands a row under the old key.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { initVault } from '../../../src/providers/local/init.js';
import { local } from '../../../src/providers/local/local.js';
import { type PostgresServer, postgresSkipReason, startPostgres } from './postgres-server.js';

const skip = postgresSkipReason();
const KEY = Buffer.alloc(32, 6);

let server: PostgresServer;
beforeAll(async () => {
  if (!skip) server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

async function pgModule(): Promise<any> {
  // @ts-expect-error pg ships no types of its own
  return (await import('pg')).default;
}

/** `pg` whose clients count the statements they send (each one round trip). */
async function countingPg() {
  const pg = await pgModule();
  const counter = { sent: 0 };
  class Client extends pg.Client {
    query(...args: any[]) {
      counter.sent++;
      return super.query(...args);
    }
  }
  class Pool extends pg.Pool {
    constructor(config: Record<string, unknown>) {
      super({ ...config, Client });
    }
  }
  return { lib: { Pool }, counter };
}

async function sql(url: string, text: string, values: unknown[] = []) {
  const pg = await pgModule();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

async function newVault(): Promise<string> {
  const url = server.createDatabase();
  await initVault({ path: '', url, key: KEY });
  return url;
}

describe.skipIf(!!skip)('PostgreSQL vault round trips', () => {
  it('set 2 (3 for the first), get 1, 100 references 1, list 1, versions 1', async () => {
    const url = await newVault();
    const { lib, counter } = await countingPg();
    const p = local({ url, key: KEY, env: {}, audit: false, lib });
    const trips = async (fn: () => Promise<unknown>) => {
      const before = counter.sent;
      await fn();
      return counter.sent - before;
    };
    // The first write of a process checks the schema version once.
    expect(await trips(() => p.set('warm', 'x'))).toBe(3);
    expect(await trips(() => p.set('db/password', 'one', { description: 'd' }))).toBe(2);
    expect(await trips(() => p.set('db/password', 'two'))).toBe(2);
    expect(await trips(() => p.get('db/password'))).toBe(1);
    expect(await p.get('db/password')).toBe('two');
    const names = Array.from({ length: 100 }, (_, i) => `app/k${i}`);
    for (const name of names) await p.set(name, `v-${name}`);
    let values: Map<string, string | Error> | undefined;
    expect(
      await trips(async () => {
        values = await p.getMany(names);
      }),
    ).toBe(1);
    expect(values?.size).toBe(100);
    expect(await trips(() => p.list(''))).toBe(1);
    expect(await trips(() => p.versions('db/password'))).toBe(1);
    expect((await p.list('db/'))[0]).toMatchObject({ name: 'db/password', description: 'd' });
    await p.close();
  });

  it('list and versions serve metadata without opening a value', async () => {
    const url = await newVault();
    const p = local({ url, key: KEY, env: {}, audit: false });
    await p.set('a', 'value-a', { description: 'kept' });
    await p.set('a', 'value-a2');
    // A damaged value is reported by the read that opens it; list and versions open none.
    await sql(
      url,
      "UPDATE envmux_secrets SET data = set_byte(data, 0, get_byte(data, 0) # 1) WHERE name = 'a' AND version = 2",
    );
    expect((await p.list('')).map((s) => [s.name, s.version, s.description])).toEqual([
      ['a', '2', 'kept'],
    ]);
    expect((await p.versions('a')).map((v) => v.version)).toEqual(['1', '2']);
    let code: string | undefined;
    try {
      await p.get('a');
    } catch (error) {
      code = toEnvmuxError(error).code;
    }
    expect(code).toBe('DECRYPTION_FAILED');
    await p.close();
    // The wrong key still cannot list.
    const wrong = local({ url, key: Buffer.alloc(32, 1), env: {}, audit: false });
    await expect(wrong.list('')).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    await wrong.close();
  });

  it('a set waiting while the key is rotated inserts nothing under the old key', async () => {
    const url = await newVault();
    const p = local({ url, key: KEY, env: {}, audit: false, lockTimeout: 20_000 });
    await p.set('x', 'one');
    // Another connection holds the vault as a rotation does, so the set's statement waits.
    const pg = await pgModule();
    const rotation = new pg.Client({ connectionString: url });
    await rotation.connect();
    await rotation.query('BEGIN');
    await rotation.query('SELECT pg_advisory_xact_lock($1, 0)', [0x656e7600]);
    const pending = p.set('x', 'two').then(
      () => 'written',
      (error) => toEnvmuxError(error).code,
    );
    // Wait until the set's statement queues for the vault's lock (its snapshot is taken).
    for (let i = 0; i < 200; i++) {
      const waiting = await sql(
        url,
        "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
      );
      if (waiting.length) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // The "rotation" changes the header's key check and commits.
    await rotation.query(`UPDATE envmux_vault SET "check" = 'rotated'`);
    await rotation.query('COMMIT');
    await rotation.end();
    expect(await pending).not.toBe('written');
    const rows = await sql(url, "SELECT version FROM envmux_secrets WHERE name = 'x'");
    expect(rows.map((r) => r.version)).toEqual([1]);
    await p.close();
  });

  it('a set whose name another writer holds is LOCKED after lockTimeout, then goes through', async () => {
    const url = await newVault();
    const p = local({ url, key: KEY, env: {}, audit: false, lockTimeout: 300 });
    await p.set('busy', 'one');
    const pg = await pgModule();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [0x656e7601, 'busy']);
    const started = Date.now();
    await expect(p.set('busy', 'two')).rejects.toMatchObject({ code: 'LOCKED' });
    // Bounded by the lock timeout (generous margin for a loaded machine), not by the holder.
    expect(Date.now() - started).toBeLessThan(15_000);
    await holder.query('COMMIT');
    await holder.end();
    expect(await p.set('busy', 'two')).toEqual({ version: '2' });
    await p.close();
  });

  it('a URL asking for TLS from a server without it is CONFIG, not a retryable outage', async () => {
    const url = await newVault();
    const p = local({ url: `${url}?sslmode=require`, key: KEY, env: {}, audit: false });
    await expect(p.get('a')).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining('does not accept TLS'),
    });
    await p.close();
  });
});
