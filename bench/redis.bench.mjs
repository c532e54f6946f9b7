// 8 processes × 1,000 resolutions of 50 keys sharing one Redis tier (issue 16): provider calls per
// TTL window, counted at an HTTP store all processes read (the count is real across processes), and
// each process's time. Needs `npm run build` and `redis-server`. BENCH_REDIS_PROCS (8),
// BENCH_REDIS_ROUNDS (20 rounds of the 50 keys = 1,000 resolutions) and BENCH_REDIS_TTL_MS (60000).

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROCS = Number(process.env.BENCH_REDIS_PROCS ?? 8);
const ROUNDS = Number(process.env.BENCH_REDIS_ROUNDS ?? 20);
const TTL = Number(process.env.BENCH_REDIS_TTL_MS ?? 60_000);
const KEYS = 50;

if (spawnSync('redis-server', ['--version']).status !== 0) {
  console.log('redis-server is not installed: skipped');
  process.exit(0);
}

const freePort = () =>
  new Promise((ok) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'envmux-redis-bench-'));
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
  { stdio: ['ignore', 'pipe', 'ignore'] },
);
await new Promise((ok) => {
  let out = '';
  redis.stdout.on('data', (d) => {
    out += d;
    if (out.includes('Ready to accept connections')) ok();
  });
});

let reads = 0;
const store = createServer((req, res) => {
  const name = decodeURIComponent(req.url.slice(1));
  if (name !== '-warm') reads++;
  res.end(`value-${name}`);
});
await new Promise((ok) => store.listen(0, '127.0.0.1', ok));
const storeUrl = `http://127.0.0.1:${store.address().port}`;

const child = join(dir, 'child.mjs');
writeFileSync(
  child,
  `import { createInterface } from 'node:readline';
import { createResolver, defineProvider } from ${JSON.stringify(pathToFileURL(join(root, 'dist/index.mjs')).href)};
const [storeUrl, redisUrl, key, ttl, rounds, keys] = process.argv.slice(2);
const store = defineProvider({
  id: 'http',
  identity: 'http|' + storeUrl,
  async get(name) { return (await fetch(storeUrl + '/' + encodeURIComponent(name))).text(); },
});
const resolver = createResolver({
  providers: [store],
  timeout: 30000,
  cache: { ttl: Number(ttl), redis: { url: redisUrl, key, commandTimeout: 3000, connectTimeout: 3000, fillWait: 30000 } },
  audit: false,
});
await (await fetch(storeUrl + '/-warm')).text();
await resolver.health();
process.stdout.write('ready\\n');
for await (const _ of createInterface({ input: process.stdin })) {
  const started = performance.now();
  let errors = 0;
  for (let i = 0; i < Number(rounds); i++) {
    await Promise.all(Array.from({ length: Number(keys) }, (_, k) =>
      resolver.get('k' + k).then((v) => { if (v !== 'value-k' + k) errors++; }, () => { errors++; })));
  }
  process.stdout.write(JSON.stringify({ errors, ms: performance.now() - started }) + '\\n');
  await resolver.close();
  break;
}
`,
);

const key = randomBytes(32).toString('base64');
const procs = [];
for (let i = 0; i < PROCS; i++) {
  const p = spawn(
    process.execPath,
    [child, storeUrl, `redis://127.0.0.1:${port}`, key, String(TTL), String(ROUNDS), String(KEYS)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: p.stdout });
  const next = () => new Promise((ok) => lines.once('line', ok));
  procs.push({ p, next, ready: next() });
}
await Promise.all(procs.map((x) => x.ready));
const results = procs.map((x) => x.next());
for (const x of procs) x.p.stdin.write('go\n');
const answers = (await Promise.all(results)).map((l) => JSON.parse(l));
const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
console.log(
  `| ${PROCS} processes × ${ROUNDS * KEYS} resolutions of ${KEYS} keys, shared Redis | provider calls ${reads} (bound ≤ ${KEYS} per TTL window) | errors ${answers.reduce((n, a) => n + a.errors, 0)} | per-process ms median ${Math.round(ms[ms.length >> 1])}, max ${Math.round(ms.at(-1))} |`,
);
for (const x of procs) x.p.stdin.end();
store.close();
redis.kill('SIGKILL');
