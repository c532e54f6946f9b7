// The PostgreSQL vault over TLS, against a real server with ssl=on and a certificate from a throwaway
// CA: verify-full through the URL (sslrootcert) or local({ ssl: { ca } }) connects and works over an
// encrypted connection; a CA that did not sign the server's certificate is a coded CONFIG error
// naming the fix, in the API and the CLI (no stack), and the URL's password appears in neither.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { initVault } from '../../../src/providers/local/init.js';
import { local } from '../../../src/providers/local/local.js';
import { type PostgresServer, postgresSkipReason, startPostgres } from './postgres-server.js';

const skip = postgresSkipReason();
const here = dirname(fileURLToPath(import.meta.url));
const KEY = Buffer.alloc(32, 3);
const PASSWORD = 'hunter2-tls-password';
let server: PostgresServer;
let cli: string;

beforeAll(async () => {
  if (skip) return;
  const base = join(here, '../../../.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'pg-tls-'));
  const { build } = await import('rolldown');
  await build({
    input: join(here, '../../../src/cli/main.ts'),
    platform: 'node',
    logLevel: 'silent',
    external: [/^[^./]/],
    output: { file: join(dir, 'cli.mjs'), format: 'esm', codeSplitting: false },
  });
  cli = join(dir, 'cli.mjs');
  server = await startPostgres({ tls: true });
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

/** A database with a vault; its URL with the password (trust auth ignores it) and no TLS setting. */
async function newVault(): Promise<string> {
  const url = new URL(server.createDatabase());
  url.password = PASSWORD;
  await initVault({ path: '', url: url.toString(), key: KEY });
  return url.toString();
}

/** Whether the server has an encrypted connection open to `url`'s database. */
async function encryptedConnections(url: string): Promise<number> {
  // @ts-expect-error pg ships no types of its own
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url.replace(`:${PASSWORD}`, '') });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
       WHERE s.ssl AND a.datname = $1 AND a.pid <> pg_backend_pid()`,
      [new URL(url).pathname.slice(1)],
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

async function failure(fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe.skipIf(!!skip)('PostgreSQL vault over TLS', () => {
  it('verify-full with the CA in the URL (sslrootcert) connects encrypted and works', async () => {
    const url = await newVault();
    const tls = `${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(server.tls!.caFile)}`;
    const p = local({ url: tls, key: KEY, env: {}, audit: false });
    await p.set('db/password', 'over-tls');
    expect(await p.get('db/password')).toBe('over-tls');
    expect(await encryptedConnections(url)).toBeGreaterThan(0);
    await p.close();
  });

  it('local({ url, ssl: { ca } }) verifies against that CA, also beside sslmode=verify-full', async () => {
    const url = await newVault();
    for (const u of [url, `${url}?sslmode=verify-full`]) {
      const p = local({ url: u, key: KEY, env: {}, audit: false, ssl: { ca: server.tls!.ca } });
      await p.set('a', 'b');
      expect(await p.get('a')).toBe('b');
      expect(await encryptedConnections(url)).toBeGreaterThan(0);
      await p.close();
    }
  });

  it('a wrong CA is a CONFIG error naming the fix, without the password', async () => {
    const url = await newVault();
    const wrongInUrl = `${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(server.tls!.wrongCaFile)}`;
    for (const p of [
      local({ url: wrongInUrl, key: KEY, env: {}, audit: false }),
      local({ url, key: KEY, env: {}, audit: false, ssl: { ca: server.tls!.wrongCa } }),
    ]) {
      const error = toEnvmuxError(await failure(() => p.get('a')));
      expect(error.code).toBe('CONFIG');
      expect(error.message).toMatch(/TLS certificate was not trusted/);
      expect(error.hint).toContain('sslrootcert');
      expect(error.message).not.toContain(PASSWORD);
      expect(`${String(error)} ${JSON.stringify(error)} ${error.hint}`).not.toContain(PASSWORD);
      await p.close();
    }
  });

  it('the CLI prints the coded error and hint, no stack, no password', () => {
    const url = `${server.url('postgres').replace('postgres@', `postgres:${PASSWORD}@`)}?sslmode=verify-full&sslrootcert=${encodeURIComponent(server.tls!.wrongCaFile)}`;
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_')),
    );
    const r = spawnSync(process.execPath, [cli, 'vault', 'list', '--url', url], {
      encoding: 'utf8',
      env: { ...clean, ENVMUX_VAULT_KEY: KEY.toString('base64') },
      cwd: mkdtempSync(join(here, '../../../.tmp/pg-tls-cwd-')),
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^envmux: CONFIG: vault .*TLS certificate was not trusted/m);
    expect(r.stderr).toContain('hint:');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  }, 60_000);
});
