// `envmux serve` warm GET latency over loopback (issue 16): the server (`node dist/cli.cjs serve`) in
// one process, an open-loop load generator (bench/serve-client.mjs) in a second; bounded count and time.
// Latency is taken from each request's scheduled send time (queueing included, no coordinated omission).
// Env: BENCH_SERVE_RATE (1000 req/s), BENCH_SERVE_COUNT (10000), BENCH_SERVE_WARMUP (2000),
// BENCH_SERVE_AUDIT (1: with --audit-file, 0: without), BENCH_SERVE_CLI (another build's cli.cjs),
// BENCH_SERVE_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` for the server).
// Needs `npm run build`. Also prints the server's CPU time per request (Linux /proc), which a loaded
// machine disturbs far less than latency.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'bench-token-0123456789abcdefghij';
/** A bare node:http server through the same harness: the machine's and Node's own floor. */
export const BASELINE = join(root, 'bench', 'serve-baseline.cjs');
/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** utime + stime of `pid` in ms, or undefined off Linux. */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return undefined;
  }
}

/**
 * One run: start the server, run the client process, stop the server (SIGTERM) and count its audit
 * entries. Returns the client's figures plus the server's CPU per request and audit count.
 */
export async function runServeBench({
  rate = Number(process.env.BENCH_SERVE_RATE ?? 1000),
  count = Number(process.env.BENCH_SERVE_COUNT ?? 10_000),
  warmup = Number(process.env.BENCH_SERVE_WARMUP ?? 2000),
  audit = process.env.BENCH_SERVE_AUDIT !== '0',
  cli = process.env.BENCH_SERVE_CLI ?? join(root, 'dist', 'cli.cjs'),
  label = cli === BASELINE ? 'bare node:http (floor)' : 'envmux serve',
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-serve-bench-'));
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'db'), 'bench-secret-value');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|ENVMUX_)/.test(k)),
  );
  const auditFile = join(dir, 'audit.jsonl');
  const server = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_SERVE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      cli,
      'serve',
      '--port',
      '0',
      '--provider',
      'file',
      ...(audit ? ['--audit-file', auditFile] : []),
    ],
    {
      cwd: dir,
      env: { ...env, ENVMUX_SERVE_TOKEN: TOKEN, ENVMUX_FILE_DIR: join(dir, 'secrets') },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const serverExit = new Promise((resolveExit) => server.on('exit', resolveExit));
  try {
    const url = await new Promise((resolveUrl, reject) => {
      let err = '';
      server.stderr.on('data', (d) => {
        err += d;
        const m = /listening on (http:\/\/\S+)/.exec(err);
        if (m) resolveUrl(m[1]);
      });
      server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    // Every request of the run answers within the bound or counts as unanswered.
    const timeoutMs = Math.ceil((Math.max(count, warmup) / rate) * 1000) * 2 + 10_000;
    const client = spawn(
      process.execPath,
      [
        join(root, 'bench', 'serve-client.mjs'),
        url,
        TOKEN,
        String(rate),
        String(count),
        String(warmup),
        String(timeoutMs),
      ],
      { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env },
    );
    let out = '';
    let cpuStart;
    let cpuEnd;
    client.stdout.on('data', (d) => (out += d));
    client.on('message', (m) => {
      if (m.phase === 'measure') cpuStart = cpuMs(server.pid);
      if (m.phase === 'done') cpuEnd = cpuMs(server.pid);
    });
    const killer = setTimeout(() => client.kill('SIGKILL'), timeoutMs * 2 + 10_000);
    const code = await new Promise((r) => client.on('exit', r));
    clearTimeout(killer);
    if (code !== 0) throw new Error(`the load generator exited ${code}`);
    const figures = JSON.parse(out.trim().split('\n').pop());
    figures.serverCpuUsPerRequest =
      cpuStart === undefined || cpuEnd === undefined
        ? undefined
        : ((cpuEnd - cpuStart) * 1000) / figures.count;
    server.kill('SIGTERM');
    await serverExit;
    figures.audit = audit && cli !== BASELINE;
    figures.warmup = warmup;
    figures.label = label;
    if (audit && existsSync(auditFile)) {
      const lines = readFileSync(auditFile, 'utf8').split('\n');
      figures.auditGets = lines.filter((l) => l.includes('"action":"get"')).length;
    }
    return figures;
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(3)} ms` : 'n/a');

/** The Markdown table of runs, with the target row. */
export function serveTable(runs) {
  const rows = [
    '| Run | Requests (ok / errors / unanswered) | Achieved req/s | p50 | p90 | p99 | max | Send lag p99 | Server CPU µs/req | Audit `get` lines |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of runs) {
    rows.push(
      `| ${r.label}, ${r.rate} req/s × ${r.count}${r.label === 'envmux serve' ? (r.audit ? ', --audit-file' : ', no audit file') : ''} | ${r.ok} / ${r.errors} / ${r.unanswered} | ${r.achieved.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${ms(r.max)} | ${ms(r.sendLagP99)} | ${r.serverCpuUsPerRequest?.toFixed(1) ?? 'n/a'} | ${r.auditGets === undefined ? '—' : `${r.auditGets} of ${r.warmup + r.count}`} |`,
    );
  }
  rows.push('| **Target** | all ok | 1,000 | | | **≤ 1 ms** | | | | one per request |');
  return rows.join('\n');
}

/**
 * The floor and envmux, alternately, `pairs` times: a p99 on a small shared machine is the
 * scheduler's as much as the server's, so envmux is read against the floor measured in the same run.
 */
export async function runServePairs(pairs = Number(process.env.BENCH_SERVE_PAIRS ?? 2)) {
  const runs = [];
  for (let i = 0; i < pairs; i++) {
    runs.push(await runServeBench({ cli: BASELINE }));
    runs.push(await runServeBench());
  }
  return runs;
}

/** One line: envmux's p99 against the floor's, medians over the pairs. */
export function serveSummary(runs) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const floor = median(runs.filter((r) => r.label !== 'envmux serve').map((r) => r.p99));
  const ours = median(runs.filter((r) => r.label === 'envmux serve').map((r) => r.p99));
  const ok = runs.every((r) => r.ok === r.count);
  return `p99 (median of runs): envmux serve ${ours.toFixed(3)} ms, bare node:http ${floor.toFixed(3)} ms (${(ours / floor).toFixed(2)}×); target ≤ 1 ms: ${ours <= 1 && ok ? 'met' : 'NOT met'}${floor > 1 ? ' — the bare server misses it too on this machine' : ''}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = process.env.BENCH_SERVE_CLI ? [await runServeBench()] : await runServePairs();
  console.log('`envmux serve` warm GET over loopback, open loop from a second process\n');
  console.log(serveTable(runs));
  console.log(`\n${serveSummary(runs)}`);
}
