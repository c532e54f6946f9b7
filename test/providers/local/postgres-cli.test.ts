// `envmux vault …` against a PostgreSQL vault, unchanged but for the URL (`--url` or
// ENVMUX_VAULT_URL): init, set (value from stdin), get, list, versions, rm. The CLI runs bundled
// from src (rolldown; packages resolved from the project). Values appear only on `get`'s stdout.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, postgresSkipReason, startPostgres } from './postgres-server.js';

const skip = postgresSkipReason();
const here = dirname(fileURLToPath(import.meta.url));
const KEY = Buffer.alloc(32, 4).toString('base64');
const VALUE = 'cli-plaintext-marker-91c2';
let cli: string;
let server: PostgresServer;

beforeAll(async () => {
  if (skip) return;
  const base = join(here, '../../../.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'pg-cli-'));
  const { build } = await import('rolldown');
  await build({
    input: join(here, '../../../src/cli/main.ts'),
    platform: 'node',
    logLevel: 'silent',
    external: [/^[^./]/],
    output: { file: join(dir, 'cli.mjs'), format: 'esm', codeSplitting: false },
  });
  cli = join(dir, 'cli.mjs');
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

function run(args: string[], env: Record<string, string>, input?: string) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_')),
  );
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    input: input ?? '',
    env: { ...clean, ...env },
    cwd: mkdtempSync(join(here, '../../../.tmp/pg-cli-cwd-')),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!!skip)('envmux vault against PostgreSQL', () => {
  it('init, set, get, list, versions and rm with ENVMUX_VAULT_URL', () => {
    const url = server.createDatabase();
    const env = { ENVMUX_VAULT_URL: url, ENVMUX_VAULT_KEY: KEY };
    const init = run(['vault', 'init'], env);
    expect(init.stderr + init.stdout).toContain('created the vault in');
    expect(init.code).toBe(0);
    expect(run(['vault', 'set', 'db/password', '--description', 'primary'], env, VALUE).code).toBe(
      0,
    );
    expect(run(['vault', 'set', 'db/password'], env, `${VALUE}-2`).code).toBe(0);
    const get = run(['vault', 'get', 'db/password'], env);
    expect(get.code).toBe(0);
    expect(get.stdout.trim()).toBe(`${VALUE}-2`);
    expect(run(['vault', 'get', 'db/password?version=previous'], env).stdout.trim()).toBe(VALUE);
    const list = run(['vault', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('db/password');
    expect(list.stdout + list.stderr).not.toContain(VALUE);
    const versions = run(['vault', 'versions', 'db/password'], env);
    expect(versions.stdout).toMatch(/\b2\b/);
    expect(run(['vault', 'rm', 'db/password', '--yes'], env).code).toBe(0);
    expect(run(['vault', 'get', 'db/password'], env).code).not.toBe(0);
    // The CLI's operations are in the audit table: names and outcomes, never a value.
    const audit = server.dump(new URL(url).pathname.slice(1));
    expect(audit).toMatch(/\bcli\b.*\bget\b.*db\/password/);
    expect(audit).not.toContain(VALUE);
  }, 60_000);

  it('--url selects the database; a second init is refused', () => {
    const url = server.createDatabase();
    const env = { ENVMUX_VAULT_KEY: KEY };
    expect(run(['vault', 'init', '--url', url], env).code).toBe(0);
    const again = run(['vault', 'init', '--url', url], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('CONFIG');
    expect(run(['vault', 'set', 'a', '--url', url], env, VALUE).code).toBe(0);
    expect(run(['vault', 'get', 'a', '--url', url], env).stdout.trim()).toBe(VALUE);
  }, 60_000);
});
