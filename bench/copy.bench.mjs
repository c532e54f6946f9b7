// `envmux copy` of 1,000 secrets from the AWS wire server to the GCP wire server (the real SDKs on
// loopback), each answering after 20 ms: median wall time of BENCH_RUNS runs of the built CLI, the
// concurrency used, and the requests each server answered. Target: ≤ 5 s.
//
//   npm run build && node bench/copy.bench.mjs   # COPY_RUNS=5 COPY_SECRETS=1000 COPY_LATENCY=20
//   COPY_TO=aws (a second AWS wire server), COPY_CONCURRENCY=N, BENCH_CPU_PROF=DIR (--cpu-prof)
// ENVMUX_TIMEOUT is the default (5 s a call; each of the 10 ListSecrets pages has its own).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.COPY_RUNS ?? 5);
const SECRETS = Number(process.env.COPY_SECRETS ?? 1000);
const LATENCY = Number(process.env.COPY_LATENCY ?? 20);
const CONCURRENCY = process.env.COPY_CONCURRENCY;
/** `gcp` (default): AWS → GCP. `aws`: AWS → a second AWS wire server. */
const TO = process.env.COPY_TO === 'aws' ? 'aws2' : 'gcp';

/** The wire servers are TypeScript test fixtures: bundle them for plain Node. */
async function loadWireServers(dir) {
  const bundle = await rolldown({
    input: {
      aws: join(root, 'test/providers/aws/wire-server.ts'),
      gcp: join(root, 'test/providers/gcp/wire-server.ts'),
    },
    platform: 'node',
    logLevel: 'silent',
  });
  await bundle.write({ dir, format: 'esm', entryFileNames: '[name].mjs' });
  await bundle.close();
  const aws = await import(join(dir, 'aws.mjs'));
  const gcp = await import(join(dir, 'gcp.mjs'));
  return { AwsWire: aws.AwsWire, startGcpWire: gcp.startGcpWire };
}

function run(args, cwd, env) {
  return new Promise((done, fail) => {
    const started = performance.now();
    // GNU time reports the child's CPU seconds (user, system) on the last line of stderr.
    const child = spawn('/usr/bin/time', ['-f', 'bench-cpu %U %S', process.execPath, ...args], {
      cwd,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', fail);
    child.on('close', (status) => {
      const cpu = /bench-cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      done({
        status,
        stdout,
        stderr,
        ms: performance.now() - started,
        cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : Number.NaN,
      });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Inside the package so `envmux/providers` (self-reference) and google-auth-library resolve.
mkdirSync(join(root, 'bench/.tmp'), { recursive: true });
const work = mkdtempSync(join(root, 'bench/.tmp/copy-'));
try {
  const { AwsWire, startGcpWire } = await loadWireServers(join(work, 'wire'));
  const aws = await AwsWire.start();
  const aws2 = await AwsWire.start();
  const gcp = await startGcpWire();
  for (let i = 0; i < SECRETS; i++) {
    aws.putSecret(`app_s${String(i).padStart(4, '0')}`, `bench-value-${i}-${'x'.repeat(32)}`);
  }
  aws.setLatency(LATENCY);
  writeFileSync(
    join(work, 'envmux.config.mjs'),
    `import { gcp } from 'envmux/providers';
import { OAuth2Client } from 'google-auth-library';
const authClient = new OAuth2Client();
authClient.setCredentials({ access_token: 'bench', expiry_date: Date.now() + 3_600_000 });
import { aws } from 'envmux/providers';
export default {
  providers: ['aws', aws({ id: 'aws2', endpoint: '${aws2.url}' }), gcp({ projectId: 'bench', clientOptions: { apiEndpoint: '127.0.0.1', port: ${gcp.port}, protocol: 'http', fallback: true, authClient } })],
};
`,
  );
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: aws.url,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    METADATA_SERVER_DETECTION: 'none',
    ...(process.env.ENVMUX_TIMEOUT ? { ENVMUX_TIMEOUT: process.env.ENVMUX_TIMEOUT } : {}),
  };
  const cli = join(root, 'dist/cli.cjs');
  const prof = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
    : [];
  const args = [...prof, cli, 'copy', '--from', 'aws', '--to', TO, '--json'];
  if (CONCURRENCY) args.push('--concurrency', CONCURRENCY);
  const startup = [];
  for (let i = 0; i < 3; i++) startup.push((await run([cli, '--version'], work, env)).ms);

  const times = [];
  let counts;
  for (let i = 0; i < RUNS; i++) {
    gcp.reset();
    gcp.setLatency(LATENCY);
    aws2.secrets.clear();
    aws2.resetCounts();
    aws2.setLatency(LATENCY);
    aws.resetCounts();
    const serverCpu = process.cpuUsage();
    const r = await run(args, work, env);
    const used = process.cpuUsage(serverCpu);
    console.error(
      `run ${i + 1}: ${Math.round(r.ms)} ms wall; CPU: envmux ${Math.round(r.cpuMs)} ms, wire servers ${Math.round((used.user + used.system) / 1000)} ms`,
    );
    if (r.status !== 0)
      throw new Error(`copy failed (exit ${r.status}):\n${r.stderr.slice(0, 2000)}`);
    const report = JSON.parse(r.stdout);
    if (report.counts.create !== SECRETS) throw new Error(`copied ${report.counts.create}`);
    times.push(r.ms);
    const gcpCounts = {};
    for (const q of gcp.requests) gcpCounts[q.rpc] = (gcpCounts[q.rpc] ?? 0) + 1;
    counts =
      TO === 'gcp'
        ? { from: aws.countsByTarget(), to: gcpCounts }
        : { from: aws.countsByTarget(), to: aws2.countsByTarget() };
  }
  await aws.close();
  await aws2.close();
  await gcp.close();

  const result = {
    secrets: SECRETS,
    to: TO === 'gcp' ? 'GCP wire server' : 'a second AWS wire server',
    latencyMs: LATENCY,
    concurrency: Number(CONCURRENCY ?? 32),
    runs: RUNS,
    medianMs: Math.round(median(times)),
    timesMs: times.map(Math.round),
    cliStartMs: Math.round(median(startup)),
    targetMs: 5000,
    requests: counts,
  };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(
      `| secrets | latency | concurrency | median (${RUNS} runs) | CLI start alone | target |\n|---|---|---|---|---|---|\n| ${SECRETS} | ${LATENCY} ms | ${result.concurrency} | ${(result.medianMs / 1000).toFixed(2)} s | ${result.cliStartMs} ms | ≤ 5 s |`,
    );
    console.log(
      `\nAWS → ${result.to}. Requests per copy — from: ${Object.entries(counts.from)
        .map(([k, v]) => `${k.replace('secretsmanager.', '')} ${v}`)
        .join(', ')}; to: ${Object.entries(counts.to)
        .map(([k, v]) => `${k.replace('secretsmanager.', '')} ${v}`)
        .join(', ')}`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
