// In-process benchmarks (mitata): reference scanning over dotenv.parse, warm-cache get against a
// bare Map and lru-cache, and cold loads of N references at a given provider latency.

import dotenv from 'dotenv';
import { LRUCache } from 'lru-cache';
import { do_not_optimize, measure } from 'mitata';
import { createResolver, loadConfig, parseEnvSource, scan } from '../dist/index.mjs';
import { memory } from '../dist/testing.mjs';
import { fixture, plainEnv, refEnv } from './fixtures.mjs';

const ns = (stats) => stats.p50;

/** µs per line of parse (+ scan) on a 10,000-line file; with and without references. */
export async function scanBench() {
  const isScheme = (w) => w === 'secret' || w === 'env';
  const rows = [];
  for (const [label, source] of [
    ['10,000 plain lines', plainEnv(10_000)],
    ['10,000 lines, 1,000 references', refEnv(9_000, 1_000)],
    ['10,000 references', refEnv(0, 10_000)],
  ]) {
    const lines = source.split('\n').length - 1;
    const base = await measure(() => do_not_optimize(dotenv.parse(source)));
    const ours = await measure(() => {
      for (const entry of parseEnvSource(source, '.env')) {
        if (entry.value.includes('$')) do_not_optimize(scan(entry.value, { isScheme }));
      }
    });
    rows.push({
      label,
      lines,
      dotenvUs: ns(base) / 1000 / lines,
      oursUs: ns(ours) / 1000 / lines,
      ratio: ns(ours) / ns(base),
    });
  }
  return rows;
}

/** Warm-cache get against its floors. */
export async function getBench() {
  const map = new Map([['db/password', 'v']]);
  const lru = new LRUCache({ max: 1000, ttl: 300_000 });
  lru.set('db/password', 'v');
  const audited = createResolver({ providers: [memory({ values: { 'db/password': 'v' } })] });
  const silent = createResolver({
    providers: [memory({ values: { 'db/password': 'v' } })],
    audit: false,
  });
  await audited.get('db/password');
  await silent.get('db/password');
  const rows = [
    ['Map.get', await measure(() => do_not_optimize(map.get('db/password')))],
    ['lru-cache get', await measure(() => do_not_optimize(lru.get('db/password')))],
    [
      'await lru-cache get',
      await measure(async () => do_not_optimize(await lru.get('db/password'))),
    ],
    ['await no-op async fn', await measure(async () => do_not_optimize(await (async () => 1)()))],
    [
      'resolver.get (warm, audit off)',
      await measure(async () => do_not_optimize(await silent.get('db/password'))),
    ],
    [
      'resolver.get (warm, audited)',
      await measure(async () => do_not_optimize(await audited.get('db/password'))),
    ],
  ];
  return rows.map(([label, stats]) => ({ label, ns: ns(stats) }));
}

/** Cold load of N references at a latency, median of `runs` loads after one warm-up (each load with a fresh resolver). */
export async function coldBench({
  counts = [1, 10, 100, 1000],
  latencies = [0, 5, 50],
  runs = 5,
} = {}) {
  const rows = [];
  for (const batch of [true, false]) {
    for (const latency of latencies) {
      for (const n of counts) {
        const names = Array.from({ length: n }, (_, i) => `app/secret_${i}`);
        const values = Object.fromEntries(names.map((name) => [name, `value-${name}`]));
        const cwd = fixture(`cold-${n}`, { '.env': refEnv(0, n) });
        const samples = [];
        // One unmeasured load first: the JIT's warm-up is not the resolver's cost.
        for (let r = -1; r < runs; r++) {
          const store = memory({ values, latency, batch });
          const t = performance.now();
          await loadConfig({
            cwd,
            providers: [store],
            processEnv: {},
            configFile: false,
            audit: false,
          });
          if (r >= 0) samples.push(performance.now() - t);
        }
        samples.sort((a, b) => a - b);
        rows.push({ batch, latency, n, ms: samples[Math.floor(samples.length / 2)] });
      }
    }
  }
  return rows;
}

export function tables({ scanRows, getRows, coldRows }) {
  const out = [];
  out.push(
    '| file | dotenv.parse µs/line | parse + scan µs/line | ratio |',
    '|---|---:|---:|---:|',
  );
  for (const r of scanRows)
    out.push(
      `| ${r.label} | ${r.dotenvUs.toFixed(3)} | ${r.oursUs.toFixed(3)} | ${r.ratio.toFixed(2)} |`,
    );
  out.push('', '| warm read | median ns/op |', '|---|---:|');
  for (const r of getRows) out.push(`| ${r.label} | ${r.ns.toFixed(0)} |`);
  out.push(
    '',
    '| provider | latency | N=1 | N=10 | N=100 | N=1,000 |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const batch of [true, false]) {
    for (const latency of [...new Set(coldRows.map((r) => r.latency))]) {
      const cells = coldRows
        .filter((r) => r.batch === batch && r.latency === latency)
        .map((r) => `${r.ms.toFixed(1)} ms`);
      out.push(
        `| memory, ${batch ? 'getMany (batch 100)' : 'get only (concurrency 50)'} | ${latency} ms | ${cells.join(' | ')} |`,
      );
    }
  }
  out.push('', scalingTable({ scanRows, coldRows }));
  return out.join('\n');
}

/**
 * How the figures grow: per-line scan cost across file shapes, and the cost of ten times more
 * references at each latency. Anything clearly worse than linear is flagged.
 */
export function scalingTable({ scanRows, coldRows }) {
  const out = [
    '| growth | from → to | ratio | linear would be | verdict |',
    '|---|---|---:|---:|---|',
  ];
  const verdict = (ratio, linear) =>
    ratio <= linear * 1.5 ? 'linear or better' : '**super-linear**';
  for (const batch of [true, false]) {
    for (const latency of [...new Set(coldRows.map((r) => r.latency))]) {
      const at = (n) =>
        coldRows.find((r) => r.batch === batch && r.latency === latency && r.n === n)?.ms;
      const [a, b] = [at(100), at(1000)];
      if (a && b)
        out.push(
          `| cold load, ${batch ? 'batched' : 'single reads'}, ${latency} ms | N=100 → N=1,000 | ${(b / a).toFixed(1)}× | 10× | ${verdict(b / a, 10)} |`,
        );
    }
  }
  const plain = scanRows[0];
  for (const r of scanRows.slice(1)) {
    const ratio = r.oursUs / plain.oursUs;
    out.push(
      `| parse + scan per line | ${plain.label} → ${r.label} | ${ratio.toFixed(2)}× | ${'—'} | ${ratio < 5 ? 'per-line cost bounded' : '**grows**'} |`,
    );
  }
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(
    tables({ scanRows: await scanBench(), getRows: await getBench(), coldRows: await coldBench() }),
  );
}
