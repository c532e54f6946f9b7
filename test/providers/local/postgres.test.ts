// The local vault on a real PostgreSQL (Debian's server, started per run): the conformance suite,
// the envelope (versions, expiry, tampered rows, wrong key, key rotation in one transaction), one
// query per load, the schema's migrations under concurrent starters, the audit table, and a
// pg_dump that holds no plaintext value or key.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { toEnvmuxError } from '../../../src/errors.js';
import { initVault } from '../../../src/providers/local/init.js';
import { local } from '../../../src/providers/local/local.js';
import { MIGRATIONS, postgresStorage } from '../../../src/providers/local/postgres-storage.js';
import { providerConformance } from '../../../src/testing/index.js';
import { type PostgresServer, postgresSkipReason, startPostgres } from './postgres-server.js';

const skip = postgresSkipReason();
const SECRET = 'p@$$w0rd $<secret:x> ${HOME} ünï 🔑 plaintext-marker-7f3a';
const KEY = Buffer.alloc(32, 7);

let server: PostgresServer;
beforeAll(async () => {
  if (!skip) server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

async function newVault(key: Uint8Array = KEY): Promise<string> {
  const url = server.createDatabase();
  await initVault({ path: '', url, key });
  return url;
}

async function codeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
}

/** A plain pg client on the same database, for the store's "own tooling" and inspection. */
async function sql<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []) {
  // @ts-expect-error pg ships no types of its own
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

describe.skipIf(!!skip)('local vault on PostgreSQL', () => {
  it('round trip with versions, metadata, expiry; no getSync; one query per load', async () => {
    const url = await newVault();
    const p = local({ url, key: KEY, env: {}, audit: false });
    expect(p.storage).toBe('postgres');
    expect(p.getSync).toBeUndefined();
    expect(await p.set('db/password', SECRET, { description: 'primary' })).toEqual({
      version: '1',
    });
    expect(await p.set('db/password', 'second')).toEqual({ version: '2' });
    expect(await p.get('db/password')).toBe('second');
    expect(await p.get('db/password', { version: 'previous' })).toBe(SECRET);
    expect(await p.get('db/password', { version: '1' })).toBe(SECRET);
    expect(await p.get('absent')).toBeUndefined();
    const list = await p.list('db/');
    expect(list.map((s) => [s.name, s.version, s.description])).toEqual([
      ['db/password', '2', 'primary'],
    ]);
    await p.set('old', 'x', { expiresAt: new Date(Date.now() - 1000) });
    expect(await codeOf(() => p.get('old'))).toBe('EXPIRED');
    expect((await p.versions('db/password')).map((v) => v.version)).toEqual(['1', '2']);
    await p.restore('db/password', '1');
    expect(await p.get('db/password')).toBe(SECRET);
    await p.deleteVersion('db/password', '2');
    expect((await p.versions('db/password')).map((v) => v.version)).toEqual(['1', '3']);
    await p.delete('old');
    expect(await p.get('old')).toBeUndefined();
    await p.close();
  });

  it('reads all names of a load in one query', async () => {
    const url = await newVault();
    const storage = postgresStorage(url);
    const p = local({ url, key: KEY, env: {}, audit: false });
    const names = Array.from({ length: 100 }, (_, i) => `app/k${i}`);
    for (const name of names.slice(0, 50)) await p.set(name, `v-${name}`);
    await p.close();
    const header = await storage.load({ names: [] });
    expect(header.doc.records).toEqual([]);
    const before = storage.queries;
    const loaded = await storage.load({ names, latest: true });
    expect(storage.queries - before).toBe(1);
    expect(loaded.byName.size).toBe(50);
    await storage.close?.();
    const reader = local({ url, key: KEY, env: {}, audit: false });
    const values = await reader.getMany(names);
    expect(values.size).toBe(50);
    expect(values.get('app/k3')).toBe('v-app/k3');
    await reader.close();
  });

  it('refuses a wrong key and a tampered row, naming no value', async () => {
    const url = await newVault();
    const p = local({ url, key: KEY, env: {}, audit: false });
    await p.set('a', SECRET);
    await p.close();
    const wrong = local({ url, key: Buffer.alloc(32, 8), env: {}, audit: false });
    expect(await codeOf(() => wrong.get('a'))).toBe('DECRYPTION_FAILED');
    await wrong.close();
    // A ciphertext moved to another name does not decrypt (the name is bound as AAD).
    await sql(
      url,
      "INSERT INTO envmux_secrets SELECT 'b', version, created, expires, description, metadata, nonce, data FROM envmux_secrets WHERE name = 'a'",
    );
    const reader = local({ url, key: KEY, env: {}, audit: false });
    let error: unknown;
    try {
      await reader.get('b');
    } catch (e) {
      error = e;
    }
    expect(toEnvmuxError(error).code).toBe('DECRYPTION_FAILED');
    expect(JSON.stringify(error) + String(error)).not.toContain('plaintext-marker');
    await reader.close();
  });

  it('rotates the key in one transaction: every row under the new key', async () => {
    const url = await newVault();
    const p = local({ url, key: KEY, env: {}, audit: false });
    for (let i = 0; i < 20; i++) await p.set(`k${i}`, `v${i}`);
    const before = await sql<{ nonce: Buffer }>(url, 'SELECT nonce FROM envmux_secrets');
    const rotated = await p.rotateKey({ key: Buffer.alloc(32, 9) });
    expect(rotated.records).toBe(20);
    const after = await sql<{ nonce: Buffer }>(url, 'SELECT nonce FROM envmux_secrets');
    const old = new Set(before.map((r) => r.nonce.toString('hex')));
    expect(after.filter((r) => old.has(r.nonce.toString('hex')))).toEqual([]);
    await p.close();
    const fresh = local({ url, key: Buffer.alloc(32, 9), env: {}, audit: false });
    expect(await fresh.get('k7')).toBe('v7');
    await fresh.close();
    const stale = local({ url, key: KEY, env: {}, audit: false });
    expect(await codeOf(() => stale.get('k7'))).toBe('DECRYPTION_FAILED');
    await stale.close();
  });

  it('a rotation that fails half-way changes nothing', async () => {
    const url = await newVault();
    const p = local({ url, key: KEY, env: {}, audit: false });
    for (let i = 0; i < 5; i++) await p.set(`k${i}`, `v${i}`);
    // A row the old key cannot open stops the rotation before anything is written.
    await sql(
      url,
      "UPDATE envmux_secrets SET data = set_byte(data, 0, get_byte(data, 0) # 1) WHERE name = 'k3'",
    );
    expect(await codeOf(() => p.rotateKey({ key: Buffer.alloc(32, 9) }))).toBe('DECRYPTION_FAILED');
    const header = await sql<{ check: string }>(url, 'SELECT "check" FROM envmux_vault');
    await p.close();
    const again = local({ url, key: KEY, env: {}, audit: false });
    expect(await again.get('k1')).toBe('v1');
    expect((await sql<{ check: string }>(url, 'SELECT "check" FROM envmux_vault'))[0]!.check).toBe(
      header[0]!.check,
    );
    await again.close();
  });

  it('migrates once under concurrent starters, and again is a no-op', async () => {
    const url = server.createDatabase();
    const header = (await import('../../../src/providers/local/cipher.js')).makeCheck;
    const h = {
      envmux: 'vault' as const,
      format: 1,
      id: Buffer.alloc(16, 1).toString('base64'),
      kdf: { name: 'none' as const },
      check: '',
    };
    h.check = header(KEY, h);
    const starters = Array.from({ length: 5 }, () => postgresStorage(url));
    const created = await Promise.all(starters.map((s) => s.create(h)));
    expect(created.filter(Boolean)).toHaveLength(1);
    await Promise.all(starters.map((s) => s.close?.()));
    const versions = await sql<{ version: number }>(
      url,
      'SELECT version FROM envmux_schema_version',
    );
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('names a database without a vault, and an unreachable server, by code', async () => {
    const url = server.createDatabase();
    const p = local({ url, key: KEY, env: {}, audit: false });
    expect(await codeOf(() => p.get('a'))).toBe('CONFIG');
    await p.close();
    const down = local({
      url: 'postgres://u:hunter2@127.0.0.1:1/none',
      key: KEY,
      env: {},
      audit: false,
    });
    let error: unknown;
    try {
      await down.get('a');
    } catch (e) {
      error = e;
    }
    expect(toEnvmuxError(error).code).toBe('UNAVAILABLE');
    expect(String(error) + JSON.stringify(error)).not.toContain('hunter2');
    await down.close();
  });

  it('keeps the audit trail in a table, each entry once: names and outcomes, never a value', async () => {
    const url = await newVault();
    const log = new AuditLog();
    const p = local({ url, key: KEY, env: {}, audit: { log, source: 'cli' } });
    // A second provider on the same vault and log: each entry is still written once.
    const twin = local({ url, key: KEY, env: {}, audit: { log, source: 'cli' } });
    await p.set('x', SECRET);
    await p.restore('x', '1');
    await p.rotateKey({ key: Buffer.alloc(32, 3) });
    await p.close();
    await twin.close();
    const rows = await sql<Record<string, unknown>>(url, 'SELECT * FROM envmux_audit ORDER BY id');
    expect(rows.map((r) => [r.action, r.name, r.outcome, r.source])).toEqual([
      ['set', 'x', 'ok', 'cli'],
      ['rotate', '*', 'ok', 'cli'],
    ]);
    expect(JSON.stringify(rows)).not.toContain('plaintext-marker');
  });

  it('pg_dump holds no plaintext value and no key', async () => {
    const url = await newVault();
    const p = local({ url, key: KEY, env: {}, audit: false });
    await p.set('db/password', SECRET, { description: 'shown in the dump' });
    await p.close();
    const dump = server.dump(new URL(url).pathname.slice(1));
    expect(dump).toContain('envmux_secrets');
    expect(dump).toContain('shown in the dump');
    expect(dump).not.toContain('plaintext-marker');
    for (const form of [KEY.toString('base64'), KEY.toString('hex'), `\\x${KEY.toString('hex')}`])
      expect(dump).not.toContain(form);
  });
});

if (!skip) {
  let conformanceUrl: string | undefined;
  providerConformance(
    { describe, it, expect },
    {
      name: 'local (PostgreSQL)',
      async create() {
        conformanceUrl ??= await newVault();
        const url = conformanceUrl;
        await sql(url, 'TRUNCATE envmux_secrets');
        const provider = local({ url, key: KEY, env: {}, audit: false });
        const seeder = local({ url, key: KEY, env: {}, audit: false });
        return {
          provider,
          seed: async (name, value) => {
            await seeder.set(name, value);
          },
          cleanup: async () => {
            await provider.close();
            await seeder.close();
          },
        };
      },
    },
  );
}

describe('the preload and a database vault', () => {
  it('detects ENVMUX_VAULT_URL with a key, and resolves its references in the worker, not in-thread', async () => {
    const { detectChain } = await import('../../../src/providers/registry.js');
    const { resolveForRegister } = await import('../../../src/register/resolve-in-thread.js');
    const { parseEnvSource } = await import('../../../src/resolver/parse.js');
    const env = {
      ENVMUX_VAULT_URL: 'postgres://app@127.0.0.1:1/vault',
      ENVMUX_VAULT_KEY: KEY.toString('base64'),
    };
    expect(detectChain(env).map((d) => d.type)).toContain('local');
    expect(
      detectChain({ ENVMUX_VAULT_URL: env.ENVMUX_VAULT_URL }).map((d) => d.type),
    ).not.toContain('local');
    const entries = new Map(
      parseEnvSource('DB=$<local:db/password>\n', '.env').map((e) => [e.key, e]),
    );
    let inWorker = 0;
    const resolution = resolveForRegister(
      env,
      { settings: {}, entries, fileErrors: [], files: ['.env'] },
      () => {
        inWorker++;
        return { values: new Map(), kept: [], errors: [], sources: new Map(), files: ['.env'] };
      },
    );
    expect(resolution.errors).toEqual([]);
    expect(inWorker).toBe(1);
  });
});
