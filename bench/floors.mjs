// What Node itself charges for the mechanism each start-up path needs, measured in the same
// interleaved run as envmux (after `npm run build`):
//   node bench/floors.mjs [ROUNDS]      default 30 rounds; NODE_EXTRA_CA_CERTS unset
// - `-r` with an asynchronous store needs a worker thread (the main thread cannot await), and the
//   store is defined in the user's envmux.config.mjs, which imports envmux: the floor is a preload
//   that starts an ES module worker which only imports that config file and answers.
// - `--import` awaits on the main thread: the floor is an --import module that only imports the
//   config file.
// - The raw-key vault decrypts with node:crypto: the floor is loading node:crypto, timed in-process.
// Same folder and files as the start-up benchmark's "20 refs → memory @0 ms" rows.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, refEnv } from './fixtures.mjs';
import { interleave } from './interleave.mjs';
import { memoryConfig } from './startup.mjs';

const rounds = Number(process.argv[2] ?? 30);
const dir = fixture('memory20-0ms', {
  '.env': refEnv(50, 20),
  'envmux.config.mjs': memoryConfig(0),
});
// A preload that starts an ES module worker (as envmux's bridge does) and sleeps until it answers.
const preload = (worker) => `const { Worker } = require('node:worker_threads');
const signal = new Int32Array(new SharedArrayBuffer(4));
new Worker(require('node:path').join(__dirname, '${worker}'), {
  workerData: { signal }, execArgv: [], env: { ...process.env, NODE_OPTIONS: '' }, stdout: true,
}).unref();
Atomics.wait(signal, 0, 0, 10000);
`;
const answer = `const { workerData } = process.getBuiltinModule('node:worker_threads');
Atomics.store(workerData.signal, 0, 1);
Atomics.notify(workerData.signal, 0);
`;
const files = {
  'floor-worker-empty.cjs': preload('floor-worker-empty.mjs'),
  'floor-worker-empty.mjs': answer,
  'floor-worker-config.cjs': preload('floor-worker-config.mjs'),
  'floor-worker-config.mjs': `await import('./envmux.config.mjs');\n${answer}`,
  'floor-empty.mjs': '',
  'floor-config.mjs': "await import('./envmux.config.mjs');\n",
  'floor-crypto.cjs': `const t = process.hrtime.bigint();
require('node:crypto');
process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));
`,
};
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);

const rows = [
  ['bare `node -e 0`', '-e 0'],
  ['`-r`: a preload starting an empty ES module worker', '-r ./floor-worker-empty.cjs -e 0'],
  ['`-r`: … whose worker imports envmux.config.mjs', '-r ./floor-worker-config.cjs -e 0'],
  ['`-r envmux/register`, 20 refs → memory @0 ms', '-r envmux/register -e 0'],
  ['`--import` of an empty module', '--import ./floor-empty.mjs -e 0'],
  ['`--import` of a module importing envmux.config.mjs', '--import ./floor-config.mjs -e 0'],
  ['`--import envmux/register`, same', '--import envmux/register -e 0'],
];
const measured = interleave(
  rows.map(([label, args]) => ({ dir, args: args.split(' '), label })),
  rounds,
);

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const crypto = Array.from({ length: 15 }, () =>
  Number(
    spawnSync(process.execPath, ['floor-crypto.cjs'], { cwd: dir, env, encoding: 'utf8' }).stdout,
  ),
).sort((a, b) => a - b)[7];

console.log(
  `Floors, ${new Date().toISOString()}, Node ${process.version}, ${rounds} interleaved rounds\n`,
);
console.log('| command | median ms | × bare |');
console.log('|---|---:|---:|');
for (const row of measured)
  console.log(`| ${row.label} | ${row.median.toFixed(1)} | ${row.ratio.toFixed(2)}× |`);
console.log(
  `\n\`require('node:crypto')\` alone, in-process, median of 15 processes: ${crypto.toFixed(1)} ms`,
);
