// Parse + scan against dotenv.parse (the targets' rows), repeated: `scanBench` (mitata p50, wall)
// several times in one process, then the same work timed call by call in CPU time, interleaved,
// beside the floor of any reader of dotenv's result (its keys, and one read per key).

import dotenv from 'dotenv';
import { do_not_optimize } from 'mitata';
import { parseEnvSource, scan } from '../dist/index.mjs';
import { plainEnv, refEnv } from './fixtures.mjs';
import { scanBench } from './inproc.mjs';

const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 5);
const isScheme = (w) => w === 'secret' || w === 'env';
const fmt = (n) => `${n.toFixed(2)}×`;
const median = (list) => [...list].sort((a, b) => a - b)[list.length >> 1];

/** Ratios of `scanBench`, `runs` times; per row, each run's ratio and min / median / max. */
async function wallRatios() {
  const byLabel = new Map();
  for (let r = 0; r < runs; r++) {
    for (const row of await scanBench()) {
      if (!byLabel.has(row.label)) byLabel.set(row.label, []);
      byLabel.get(row.label).push(row.ratio);
    }
  }
  return byLabel;
}

/**
 * dotenv.parse, the least any reader of its result pays (dotenv.parse, `Object.keys` and one read
 * per key) and envmux's parse + scan, timed one call at a time in process CPU time (user + system,
 * all threads: GC counts, other processes' time does not), interleaved, `rounds` rounds after a
 * warm-up. Returns the floor's and envmux's ratios of medians to dotenv.parse.
 */
function cpuRatios(source, rounds = 300) {
  const fns = [
    () => do_not_optimize(dotenv.parse(source)),
    () => {
      const parsed = dotenv.parse(source);
      let n = 0;
      for (const key of Object.keys(parsed)) n += parsed[key].length;
      do_not_optimize(n);
    },
    () => {
      for (const entry of parseEnvSource(source, '.env')) {
        if (entry.value.includes('$')) do_not_optimize(scan(entry.value, { isScheme }));
      }
    },
  ];
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const times = fns.map(() => []);
  for (let i = 0; i < 30; i++) for (const f of fns) f();
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < fns.length; j++) {
      const k = (i + j) % fns.length;
      const start = cpu();
      fns[k]();
      times[k].push(cpu() - start);
    }
  }
  const base = median(times[0]);
  return { floor: median(times[1]) / base, ours: median(times[2]) / base };
}

const wall = await wallRatios();
console.log(`scanBench, ${runs} runs (mitata p50, wall): ratio per run; min / median / max\n`);
for (const [label, ratios] of wall) {
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(
    `${label.padEnd(32)} ${ratios.map(fmt).join(' ')}; ${fmt(sorted[0])} / ${fmt(median(ratios))} / ${fmt(sorted.at(-1))}`,
  );
}
console.log('\nCPU time, call by call, interleaved (median of 300 each): floor; parse + scan\n');
for (const [label, source] of [
  ['10,000 plain lines', plainEnv(10_000)],
  ['10,000 lines, 1,000 references', refEnv(9_000, 1_000)],
  ['10,000 references', refEnv(0, 10_000)],
]) {
  const { floor, ours } = cpuRatios(source);
  console.log(`${label.padEnd(32)} ${fmt(floor)}; ${fmt(ours)}`);
}
