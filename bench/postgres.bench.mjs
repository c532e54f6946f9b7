// The local vault on PostgreSQL (issue 18): set, get, list of 1,000, a 100-reference load (one
// query), and Argon2id derivations per process (must be 1), against a real server this script
// starts (initdb + pg_ctl as `postgres` on a free loopback port) or ENVMUX_BENCH_PG_URL.
// Runs the provider bundled from src (rolldown); `pg` must be installed. Medians of BENCH_RUNS.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const BIN = '/usr/lib/postgresql/15/bin';
const ROOT = process.getuid?.() === 0;

function asPostgres(tool, args) {
  const cmd = join(BIN, tool);
  const r = ROOT
    ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tool}: ${r.stderr}`);
  return r.stdout;
}

const freePort = () =>
  new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-pg-bench-'));
  if (ROOT) {
    const id = (f) => Number(spawnSync('id', [f, 'postgres'], { encoding: 'utf8' }).stdout);
    chownSync(dir, id('-u'), id('-g'));
  }
  chmodSync(dir, 0o700);
  asPostgres('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '-N']);
  const port = await freePort();
  // Default durability (fsync on, synchronous_commit on): a set's figure includes its WAL flush.
  asPostgres('pg_ctl', [
    '-D',
    join(dir, 'data'),
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`,
    'start',
  ]);
  asPostgres('psql', [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'postgres',
    '-qc',
    'CREATE DATABASE bench',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/bench`,
    stop() {
      asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The provider from src, bundled; `pg` stays external (resolved from node_modules).
const out = join(root, 'bench/.tmp/pg');
mkdirSync(out, { recursive: true });
const entry = join(out, 'entry.ts');
writeFileSync(
  entry,
  [
    `export { local, initVault, derivationCount } from ${JSON.stringify(join(root, 'src/providers/local/index.ts'))};`,
    `export { postgresStorage } from ${JSON.stringify(join(root, 'src/providers/local/postgres-storage.ts'))};`,
  ].join('\n'),
);
const { build } = await import('rolldown');
await build({
  input: entry,
  platform: 'node',
  logLevel: 'silent',
  external: ['pg', 'hash-wasm'],
  output: { file: join(out, 'local.mjs'), format: 'esm', codeSplitting: false },
});
const { local, initVault, postgresStorage } = await import(
  pathToFileURL(join(out, 'local.mjs')).href
);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Median wall time, and this process's median CPU time (less sensitive to a loaded machine). */
async function timeIt(n, fn) {
  const times = [];
  const cpu = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await fn(i);
    const used = process.cpuUsage(c);
    times.push(performance.now() - t);
    cpu.push((used.user + used.system) / 1000);
  }
  return `${median(times).toFixed(2)} (client CPU ${median(cpu).toFixed(2)})`;
}

// `pg` whose clients count the statements they send: each is one round trip.
const pg = (await import('pg')).default;
let sent = 0;
class CountingClient extends pg.Client {
  query(...args) {
    sent++;
    return super.query(...args);
  }
}
class CountingPool extends pg.Pool {
  constructor(config) {
    super({ ...config, Client: CountingClient });
  }
}
async function trips(fn) {
  const before = sent;
  await fn();
  return sent - before;
}

const server = process.env.ENVMUX_BENCH_PG_URL ? undefined : await startServer();
const url = process.env.ENVMUX_BENCH_PG_URL ?? server.url;
const key = Buffer.alloc(32, 1);
const results = {};
try {
  await initVault({ path: '', url, key, force: true });
  const p = local({ url, key, env: {}, audit: false, lib: { Pool: CountingPool } });
  await p.set('warm', 'x');
  const roundTrips = [await trips(() => p.set('warm', 'y')), await trips(() => p.get('warm'))];
  results['set (new version of one name), ms'] = await timeIt(RUNS, (i) =>
    p.set('bench/one', `value-${i}`),
  );
  results['get (latest), ms'] = await timeIt(RUNS, () => p.get('bench/one'));
  for (let i = 0; i < 1000; i++) await p.set(`list/s${String(i).padStart(4, '0')}`, `v${i}`);
  // The first calls compile the 1,000-row path (CPU above wall time: V8's compiler threads);
  // the target is the steady state of a long-running reader, so it is measured after a warm-up.
  results['list of 1,000 (metadata), first call, ms'] = await timeIt(1, () => p.list(''));
  await timeIt(30, () => p.list(''));
  results['list of 1,000 (metadata), ms'] = await timeIt(50, () => p.list(''));
  const names = Array.from({ length: 100 }, (_, i) => `list/s${String(i * 7).padStart(4, '0')}`);
  results['getMany of 100 references, ms'] = await timeIt(50, () => p.getMany(names));
  roundTrips.push(await trips(() => p.list('')), await trips(() => p.getMany(names)));
  results['round trips: set / get / list / getMany(100)'] = roundTrips.join(' / ');
  const storage = postgresStorage(url);
  await storage.load({ names: [] });
  const q0 = storage.queries;
  await storage.load({ names, latest: true });
  results['queries for a 100-reference load'] = storage.queries - q0;
  await storage.close();
  await p.close();

  // A passphrase vault: 100 references and 100 gets in one process derive its key once.
  await initVault({ path: '', url, passphrase: 'correct horse battery staple', force: true });
  const writer = local({ url, passphrase: 'correct horse battery staple', env: {}, audit: false });
  for (const name of names) await writer.set(name, `v-${name}`);
  await writer.close();
  // A fresh process (no derived key cached): one derivation whatever the number of reads.
  const child = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(pathToFileURL(join(out, 'local.mjs')).href)});
       const names = ${JSON.stringify(names)};
       const r = m.local({ url: ${JSON.stringify(url)}, passphrase: 'correct horse battery staple', env: {}, audit: false });
       const t = performance.now();
       const got = await r.getMany(names);
       const first = performance.now() - t;
       await Promise.all(names.map((n) => r.get(n)));
       await r.close();
       console.log(JSON.stringify({ found: got.size, derivations: m.derivationCount(), first }));`,
    ],
    { encoding: 'utf8', cwd: out },
  );
  const report = JSON.parse(child.stdout || '{}');
  if (report.found !== 100) throw new Error(`child read ${report.found}: ${child.stderr}`);
  results['Argon2id derivations in a fresh process, 100 references + 100 gets'] =
    report.derivations;
  results['first load of 100 references incl. connect + Argon2id (64 MiB, t=3), ms'] = report.first;
} finally {
  server?.stop();
}
for (const [what, value] of Object.entries(results))
  console.log(
    `${what.padEnd(66)} ${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(2) : value}`,
  );
