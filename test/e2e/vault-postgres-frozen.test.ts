// A PostgreSQL vault whose server stops answering (postmaster and backends SIGSTOPped), from the
// packed package with `pg`: the preload, `envmux run` and `vault get`/`list`/`set` end by themselves
// with a coded error naming the vault (never the URL's password), a long-lived resolver's read
// times out and close() returns, and after SIGCONT nothing was half-written.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PostgresServer,
  postgresSkipReason,
  startPostgres,
} from '../providers/local/postgres-server.js';
import { installProject, type Run, runNode, runNodeAsync, writeCase } from './consumer.js';

const skip = postgresSkipReason();
const PASSWORD = 'pw-frozen-never-shown';
const KEY = randomBytes(32).toString('base64');
const VALUE = 'FrozenCanary-db-Zq';
/** pg's connection attempt bound in the vault's pool (docs/providers.md, the PostgreSQL vault). */
const CONNECT = 5_000;

// A long-lived resolver: one read, then the server freezes (the postmaster given and its children,
// the backend of this connection included), then a read that must time out, and close() that must
// return.
const LONG_LIVED = `import { execFileSync } from 'node:child_process';
import { createResolver } from 'envmux';
import { local } from 'envmux/providers';
const resolver = createResolver({ providers: [local({ url: process.env.URL })], timeout: 1500, audit: false });
const first = await resolver.get('db/pw');
const master = Number(process.env.MASTER);
const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(master)], { encoding: 'utf8' });
for (const pid of [master, ...children.split(/\\s+/).filter(Boolean).map(Number)]) process.kill(pid, 'SIGSTOP');
const started = Date.now();
let code;
try { await resolver.get('db/other'); code = 'none'; } catch (e) { code = e.code; }
const read = Date.now() - started;
const closing = Date.now();
await resolver.close();
console.log(JSON.stringify({ first: first.length, code, read, close: Date.now() - closing }));
`;

let server: PostgresServer;
let dir: string;
let cli: string;
let url: string;
const frozen: number[] = [];

/** The postmaster serving `port` and its children (backends, background workers). */
function serverPids(port: number): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout;
  const rows = ps
    .split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => !!m)
    .map(([, pid, ppid, args]) => ({ pid: String(pid), ppid: String(ppid), args: String(args) }));
  const master = rows.find((m) => /postgres/.test(m.args) && m.args.includes(`-p ${port}`));
  if (!master) throw new Error(`no postmaster for port ${port}`);
  return [
    Number(master.pid),
    ...rows.filter((m) => m.ppid === master.pid).map((m) => Number(m.pid)),
  ];
}

function freeze(pids: number[]): void {
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  frozen.push(...pids);
}
function thaw(): void {
  for (const pid of frozen.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
}

beforeAll(async () => {
  if (skip) return;
  server = await startPostgres();
  url = server.createDatabase().replace('postgres@', `postgres:${PASSWORD}@`);
  const project = installProject('pg-frozen-consumer', ['pg@^8']);
  dir = writeCase(project, 'frozen-case', {
    '.env': 'DB=$<secret:db/pw>\n',
    'app.cjs': 'console.log("started", typeof process.env.DB);\n',
    'long-lived.mjs': LONG_LIVED,
  });
  cli = `${project}/node_modules/envmux/dist/cli.cjs`;
  const env = { ENVMUX_VAULT_KEY: KEY, ENVMUX_VAULT_URL: url };
  expect(runNode([cli, 'vault', 'init'], dir, env).status).toBe(0);
  expect(runNode([cli, 'vault', 'set', 'db/pw'], dir, env, { input: VALUE }).status).toBe(0);
  expect(runNode([cli, 'vault', 'set', 'db/other'], dir, env, { input: 'other' }).status).toBe(0);
}, 300_000);
afterAll(async () => {
  thaw();
  await server?.stop();
});

function timed(args: string[], input = ''): Run & { took: number } {
  const started = Date.now();
  const r = runNode(
    args,
    dir,
    { ENVMUX_VAULT_KEY: KEY, ENVMUX_VAULT_URL: url, ENVMUX_TIMEOUT: '2000' },
    { input, timeout: 50_000 },
  );
  return { ...r, took: Date.now() - started };
}

function failedCoded(r: Run): void {
  expect(r.status).toBe(1);
  expect(r.stdout).not.toContain('started');
  expect(r.stderr).toMatch(/TIMEOUT|UNAVAILABLE/);
  expect(r.stderr).not.toContain(PASSWORD);
  expect(r.stderr + r.stdout).not.toContain(VALUE);
}

describe.skipIf(!!skip)('a PostgreSQL vault whose server is frozen (SIGSTOP)', () => {
  it('frozen before start: vault get/list/set end with a coded error after one connection attempt', () => {
    freeze(serverPids(server.port));
    try {
      for (const args of [
        ['vault', 'get', 'db/pw'],
        ['vault', 'list'],
        ['vault', 'set', 'db/pw'],
      ]) {
        const r = timed([cli, ...args], 'NewValue-never-written');
        failedCoded(r);
        expect(r.stderr).toContain(`vault postgres://postgres@127.0.0.1:${server.port}/`);
        // One connection timeout, then the process exits (no audit insert, no hang-up wait).
        expect(r.took).toBeLessThan(CONNECT + 3_000);
      }
    } finally {
      thaw();
    }
    // Nothing half-written: the one version, the old value.
    const after = timed([cli, 'vault', 'get', 'db/pw']);
    expect(after.stdout.trim()).toBe(VALUE);
    const versions = timed([cli, 'vault', 'versions', 'db/pw', '--json']);
    expect(versions.status).toBe(0);
    expect(versions.stdout).not.toContain('"version":2');
  }, 60_000);

  it('frozen before start: the preload and envmux run fail TIMEOUT and exit by themselves', () => {
    freeze(serverPids(server.port));
    try {
      for (const args of [
        ['-r', 'envmux/register', 'app.cjs'],
        [cli, 'run', '--', process.execPath, 'app.cjs'],
      ]) {
        const r = timed(args);
        failedCoded(r);
        expect(r.stderr).toContain('TIMEOUT');
        // The call timeout reports; the process is gone within two connection attempts.
        expect(r.took).toBeLessThan(2 * CONNECT + 3_000);
      }
    } finally {
      thaw();
    }
  }, 60_000);

  it('frozen mid-session: a long-lived resolver read times out, close() returns, the process exits', async () => {
    const [master] = serverPids(server.port);
    try {
      const started = Date.now();
      const r = await runNodeAsync(['long-lived.mjs'], dir, {
        ENVMUX_VAULT_KEY: KEY,
        URL: url,
        MASTER: String(master),
      });
      frozen.push(...serverPids(server.port));
      const took = Date.now() - started;
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ first: VALUE.length, code: 'TIMEOUT' });
      expect(out.read).toBeLessThan(1500 + 2_000);
      expect(out.close).toBeLessThan(5_000);
      expect(took).toBeLessThan(20_000);
    } finally {
      thaw();
    }
    const after = timed([cli, 'vault', 'get', 'db/pw']);
    expect(after.stdout.trim()).toBe(VALUE);
  }, 60_000);
});
