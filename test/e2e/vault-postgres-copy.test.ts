// `envmux copy` between the file vault and a PostgreSQL vault, both directions, from the packed
// package with `pg` installed beside it: `local:<where>` names each vault; --verify reads every copy
// back; values, descriptions, expiry and metadata are equal after the round trip; a re-run writes
// nothing; no value and no URL password in any output.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PostgresServer,
  postgresSkipReason,
  startPostgres,
} from '../providers/local/postgres-server.js';
import { installProject, type Run, runNode, writeCase } from './consumer.js';

const skip = postgresSkipReason();
const PASSWORD = 'pw-e2e-never-shown';
const KEY = randomBytes(32).toString('base64');
const VALUES: Record<string, string> = {
  'db/password': 'CopyCanary-db-Zq $<secret:x> ünï',
  'api/token': 'CopyCanary-api-Zq',
  plain: 'CopyCanary-plain-Zq',
};

// Prints each secret of a vault (a postgres URL or a file): versions, description, expiry,
// metadata and the value's digest (never the value).
const INSPECT = `import { createHash } from 'node:crypto';
import { local } from 'envmux/providers';
const where = process.argv[2];
const p = local(where.startsWith('postgres') ? { url: where } : { path: where });
const out = [];
for (const s of await p.list('')) {
  const value = await p.get(s.name);
  out.push({
    name: s.name,
    versions: (await p.versions(s.name)).length,
    description: s.description ?? null,
    expires: s.expires ? s.expires.toISOString() : null,
    metadata: s.metadata ?? null,
    digest: createHash('sha256').update(value).digest('hex'),
  });
}
await p.close();
console.log(JSON.stringify(out));
`;

let server: PostgresServer;
let dir: string;
let cli: string;

beforeAll(async () => {
  if (skip) return;
  server = await startPostgres();
  const project = installProject('pg-consumer', ['pg@^8']);
  dir = writeCase(project, 'copy-case', { 'inspect.mjs': INSPECT });
  cli = `${project}/node_modules/envmux/dist/cli.cjs`;
}, 300_000);
afterAll(async () => {
  await server?.stop();
});

const outputs: Run[] = [];
function envmux(args: string[], input = ''): Run {
  const r = runNode([cli, ...args], dir, { ENVMUX_VAULT_KEY: KEY }, { input });
  outputs.push(r);
  return r;
}

function inspect(where: string) {
  const r = runNode(['inspect.mjs', where], dir, { ENVMUX_VAULT_KEY: KEY });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
}

describe.skipIf(!!skip)('envmux copy between the file vault and a PostgreSQL vault', () => {
  it('file → database → file with --verify: values, versions, metadata equal; re-runs write nothing', () => {
    const url = server.createDatabase().replace('postgres@', `postgres:${PASSWORD}@`);
    const shown = url.replace(`:${PASSWORD}`, '');
    expect(envmux(['vault', 'init']).status).toBe(0);
    expect(
      envmux(
        [
          'vault',
          'set',
          'db/password',
          '--description',
          'primary database',
          '--expires-in',
          '90d',
          '--meta',
          'owner=team-a',
          '--meta',
          'rotation=monthly',
        ],
        'old-value',
      ).status,
    ).toBe(0);
    for (const [name, value] of Object.entries(VALUES)) {
      const extra = name === 'db/password' ? [] : ['--description', `about ${name}`];
      expect(envmux(['vault', 'set', name, ...extra], value).status).toBe(0);
    }
    const file = inspect('.envmux/vault.json');
    expect(file.map((s) => s.name)).toEqual(['api/token', 'db/password', 'plain']);
    expect(file.find((s) => s.name === 'db/password')).toMatchObject({
      versions: 2,
      description: 'primary database',
      metadata: { owner: 'team-a', rotation: 'monthly' },
    });

    expect(envmux(['vault', 'init', '--url', url]).status).toBe(0);
    const there = envmux(['copy', '--from', 'local', '--to', `local:${url}`, '--verify', '--json']);
    expect(there.status).toBe(0);
    const report = JSON.parse(there.stdout);
    expect(report).toMatchObject({ from: 'local', to: `local:${shown}`, ok: true });
    expect(report.counts).toMatchObject({ total: 3, create: 3, verified: 3, failed: 0 });
    const database = inspect(url);
    // The latest value of each name, with its description, expiry and metadata.
    const latest = file.map((s) => ({ ...s, versions: 1 }));
    expect(database).toEqual(latest);

    // Back into a new file vault.
    expect(envmux(['vault', 'init', '--vault', 'back/vault.json']).status).toBe(0);
    const back = envmux([
      'copy',
      '--from',
      `local:${url}`,
      '--to',
      'local:back/vault.json',
      '--verify',
    ]);
    expect(back.status).toBe(0);
    expect(back.stderr).toContain(`local:${shown} → local:back/vault.json: 3 secrets: 3 created`);
    expect(back.stderr).toContain('3 verified');
    expect(inspect('back/vault.json')).toEqual(latest);

    // Resumable: equal values are not written again, in either direction.
    for (const args of [
      ['--from', 'local', '--to', `local:${url}`],
      ['--from', `local:${url}`, '--to', 'local:back/vault.json'],
    ]) {
      const again = envmux(['copy', ...args, '--verify', '--json']);
      expect(again.status).toBe(0);
      expect(JSON.parse(again.stdout).counts).toMatchObject({ create: 0, update: 0, skip: 3 });
    }
    expect(inspect(url)).toEqual(latest);

    // The same store twice is a usage error; a non-postgres URL after local: is refused.
    expect(envmux(['copy', '--from', `local:${url}`, '--to', `local:${url}`]).status).toBe(2);
    const bad = envmux(['copy', '--from', 'local', '--to', 'local:mysql://h/db']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/CONFIG: "local:" takes a postgres:\/\/ URL/);

    for (const r of outputs) {
      const text = r.stdout + r.stderr;
      expect(text).not.toContain(PASSWORD);
      for (const value of [...Object.values(VALUES), 'old-value'])
        expect(text).not.toContain(value);
    }
  }, 180_000);
});
