// `npm run bench`: builds nothing (run `npm run build` first, or use `npm run bench` which does),
// runs every benchmark and prints one Markdown report with the machine, Node version and date,
// ending with every target row of the performance issue beside its target (ratios within one run).

import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { coldBench, getBench, scanBench, tables } from './inproc.mjs';
import { moduleGraphTable } from './module-graph.mjs';
import { runServePairs, serveSummary, serveTable } from './serve.bench.mjs';
import { runStartup, startupTable } from './startup.mjs';
import { targetsTable } from './targets.mjs';

const header = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length}× ${cpus()[0]?.model?.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, NODE_EXTRA_CA_CERTS unset for start-up runs.`,
  '',
];
console.log(header.join('\n'));
console.log('### Module graphs (files each path loads)\n');
console.log(moduleGraphTable());
console.log('\n### Start-up (whole process, median)\n');
const startupRows = runStartup();
console.log(startupTable(startupRows));
console.log('\n### In-process (mitata, median)\n');
const scanRows = await scanBench();
const getRows = await getBench();
console.log(tables({ scanRows, getRows, coldRows: await coldBench() }));
console.log('\n### Local vault\n');
const vaultReport = execFileSync(
  process.execPath,
  [new URL('./vault.bench.mjs', import.meta.url).pathname],
  { encoding: 'utf8' },
);
console.log(vaultReport);
console.log('\n### `envmux copy` of 1,000 secrets between wire servers (20 ms latency)\n');
console.log(
  execFileSync(process.execPath, [new URL('./copy.bench.mjs', import.meta.url).pathname], {
    encoding: 'utf8',
    env: { ...process.env, COPY_RUNS: process.env.COPY_RUNS ?? '3' },
  }),
);
console.log('\n### `envmux serve` warm GET (open loop from a second process)\n');
const serveRuns = await runServePairs();
console.log(serveTable(serveRuns));
console.log(`\n${serveSummary(serveRuns)}`);
console.log('\n### Targets\n');
console.log(targetsTable({ startupRows, scanRows, getRows, vaultReport }));
