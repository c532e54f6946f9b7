// The PostgreSQL vault under several processes: 4 writers × 100 sets of one name get 400 distinct
// versions (no lost write); writers SIGKILLed at random points — and one killed while it holds the
// vault inside a transaction — lose nothing acknowledged and block no one. The children run the
// provider bundled from src (rolldown), `pg` resolved from the project.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initVault } from '../../../src/providers/local/init.js';
import { local } from '../../../src/providers/local/local.js';
import { type PostgresServer, postgresSkipReason, startPostgres } from './postgres-server.js';

const skip = postgresSkipReason();
const here = dirname(fileURLToPath(import.meta.url));
const KEY = Buffer.alloc(32, 5);
let writer: string;
let server: PostgresServer;

beforeAll(async () => {
  if (skip) return;
  // Under the project (git-ignored .tmp/) so the bundle resolves `pg` from node_modules.
  const base = join(here, '../../../.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'pg-bundle-'));
  const { build } = await import('rolldown');
  await build({
    input: join(here, '../../../src/providers/local/index.ts'),
    platform: 'node',
    logLevel: 'silent',
    external: ['pg'],
    output: { file: join(dir, 'local.mjs'), format: 'esm', codeSplitting: false },
  });
  writer = join(dir, 'writer.mjs');
  // argv: url, key (base64), prefix, count, mode. `sets`: each name then `shared`; `shared`: only
  // `shared`. Prints each name once its sets resolved.
  writeFileSync(
    writer,
    `import { local } from ${JSON.stringify(pathToFileURL(join(dir, 'local.mjs')).href)};
const [url, key, prefix, count, mode] = process.argv.slice(2);
const vault = local({ url, key, env: {}, session: false, audit: false, lockTimeout: 20000 });
for (let i = 0; i < Number(count); i++) {
  const name = prefix + '/k' + i;
  if (mode !== 'shared') await vault.set(name, 'v-' + name);
  await vault.set('shared', prefix + '-' + i);
  process.stdout.write(name + '\\n');
}
await vault.close();
`,
  );
}, 120_000);
beforeAll(async () => {
  if (!skip) server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

function start(url: string, prefix: string, count: number, mode = 'sets'): ChildProcess {
  return spawn(
    process.execPath,
    [writer, url, KEY.toString('base64'), prefix, String(count), mode],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function newVault(): Promise<string> {
  const url = server.createDatabase();
  await initVault({ path: '', url, key: KEY });
  return url;
}

describe.skipIf(!!skip)('PostgreSQL vault, several processes', () => {
  it('4 processes × 100 sets of one name: 400 distinct versions, no lost write', async () => {
    const url = await newVault();
    const children = Array.from({ length: 4 }, (_, i) => start(url, `p${i}`, 100, 'shared'));
    const errors: string[] = [];
    for (const child of children) child.stderr!.on('data', (d) => errors.push(String(d)));
    const codes = await Promise.all(children.map(exited));
    expect(errors.join('')).toBe('');
    expect(codes).toEqual([0, 0, 0, 0]);
    const reader = local({ url, key: KEY, env: {}, session: false, audit: false });
    const versions = await reader.versions('shared');
    expect(versions.map((x) => Number(x.version))).toEqual(
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    // Every value written is there, once.
    const values = new Set<string>();
    for (const v of versions) values.add((await reader.get('shared', { version: v.version }))!);
    expect(values.size).toBe(400);
    for (let p = 0; p < 4; p++)
      for (let i = 0; i < 100; i++) expect(values.has(`p${p}-${i}`)).toBe(true);
    await reader.close();
  }, 180_000);

  it('writers killed at random points (kill -9, mid-transaction too) lose nothing acknowledged', async () => {
    const url = await newVault();
    const acknowledged: string[] = [];
    let sharedAcks = 0;
    for (let round = 0; round < 12; round++) {
      const child = start(url, `r${round}`, 1000);
      const acks: string[] = [];
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const waitFor = 1 + Math.floor(Math.random() * 4);
      await new Promise<void>((resolve) => {
        let buffered = '';
        child.stdout!.on('data', (d) => {
          buffered += d;
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          acks.push(...lines);
          if (acks.length === waitFor) {
            // A few ms later: most often inside the next set's transaction.
            setTimeout(() => {
              child.kill('SIGKILL');
              resolve();
            }, Math.random() * 8);
          }
        });
        child.once('exit', () => resolve());
      });
      await exited(child);
      expect(stderr, `round ${round}: the writer failed on its own`).toBe('');
      acknowledged.push(...acks);
      sharedAcks += acks.length;
      const reader = local({ url, key: KEY, env: {}, session: false, audit: false });
      const values = await reader.getMany(acknowledged);
      for (const name of acknowledged)
        expect(values.get(name), `round ${round}: ${name}`).toBe(`v-${name}`);
      expect((await reader.versions('shared')).length).toBeGreaterThanOrEqual(sharedAcks);
      await reader.close();
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(12);
  }, 180_000);

  it('a writer killed while holding the vault in a transaction blocks no one', async () => {
    const url = await newVault();
    // Hold the whole-vault lock in an open transaction from another process, then kill it.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const pg = require('pg'); const c = new pg.Client({ connectionString: ${JSON.stringify(url)} });
         c.connect().then(() => c.query('BEGIN')).then(() => c.query('SELECT pg_advisory_xact_lock($1, 0)', [0x656e7600]))
          .then(() => c.query("INSERT INTO envmux_secrets VALUES ('ghost', 1, 'x', null, null, null, '\\\\x00', '\\\\x00')"))
          .then(() => process.stdout.write('held\\n'));`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: join(here, '../../..') },
    );
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const p = local({ url, key: KEY, env: {}, session: false, audit: false, lockTimeout: 300 });
    expect(
      await p.set('a', 'x').then(
        () => 'written',
        (e) => e.code,
      ),
    ).toBe('LOCKED');
    holder.kill('SIGKILL');
    await exited(holder);
    const after = local({
      url,
      key: KEY,
      env: {},
      session: false,
      audit: false,
      lockTimeout: 10_000,
    });
    expect(await after.set('a', 'y')).toEqual({ version: '1' });
    expect(await after.get('ghost')).toBeUndefined();
    await after.close();
    await p.close();
  }, 60_000);
});
