// `envmux serve` warm GET latency over loopback from a second process (issue 16): an open-loop load
// at RATE requests/s for SECONDS (bounded count and time), keep-alive, p50/p99/max. Needs `npm run build`.
// BENCH_SERVE_RATE (default 1000) and BENCH_SERVE_SECONDS (default 5) change the load.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RATE = Number(process.env.BENCH_SERVE_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 5);
const TOKEN = 'bench-token-0123456789abcdefghij';

const dir = mkdtempSync(join(tmpdir(), 'envmux-serve-bench-'));
mkdirSync(join(dir, 'secrets'));
writeFileSync(join(dir, 'secrets', 'db'), 'bench-secret-value');
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|ENVMUX_)/.test(k)),
);
const server = spawn(
  process.execPath,
  [join(root, 'dist', 'cli.cjs'), 'serve', '--port', '0', '--provider', 'file'],
  {
    cwd: dir,
    env: { ...env, ENVMUX_SERVE_TOKEN: TOKEN, ENVMUX_FILE_DIR: join(dir, 'secrets') },
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
const url = await new Promise((resolveUrl, reject) => {
  let err = '';
  server.stderr.on('data', (d) => {
    err += d;
    const m = /listening on (http:\/\/\S+)/.exec(err);
    if (m) resolveUrl(m[1]);
  });
  server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const get = () =>
  new Promise((ok, fail) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(
      `${url}/v1/secrets/db`,
      { agent, headers: { authorization: `Bearer ${TOKEN}` } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? ok(Number(process.hrtime.bigint() - t0) / 1e6)
            : fail(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', fail);
  });

for (let i = 0; i < 200; i++) await get(); // warm: cache filled, sockets open, JIT

const total = RATE * SECONDS;
const latencies = [];
let errors = 0;
const started = performance.now();
const inflight = [];
for (let i = 0; i < total; i++) {
  const due = started + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  inflight.push(
    get().then(
      (ms) => latencies.push(ms),
      () => errors++,
    ),
  );
}
await Promise.all(inflight);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(
  `envmux serve warm GET over loopback: ${latencies.length} ok, ${errors} errors, ${(total / elapsed).toFixed(0)} req/s achieved (target ${RATE})`,
);
console.log(
  `  p50 ${q(0.5).toFixed(3)} ms, p90 ${q(0.9).toFixed(3)} ms, p99 ${q(0.99).toFixed(3)} ms, max ${latencies[latencies.length - 1].toFixed(3)} ms`,
);
agent.destroy();
server.kill('SIGTERM');
