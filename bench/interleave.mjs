// Start-up A/B on a noisy machine: whole-process commands run in turn, one spawn each, the order
// alternating every round, medians of wall time. Each argument is `folder|node arguments`:
//   node bench/interleave.mjs 30 "/tmp/a|-e 0" "/tmp/a|--import envmux/register -e 0" "/tmp/b|…"
// Ratios are to the first command. NODE_EXTRA_CA_CERTS is unset for the children.

import { spawnSync } from 'node:child_process';

const [rounds, ...specs] = process.argv.slice(2);
const commands = specs.map((spec) => {
  const [dir, args] = spec.split('|');
  return { dir, args: args.trim().split(/\s+/), label: spec };
});
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

function run(command) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, command.args, {
    cwd: command.dir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status) throw new Error(`${command.label} failed:\n${r.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const times = commands.map(() => []);
for (let w = 0; w < 2; w++) for (const command of commands) run(command);
for (let r = 0; r < Number(rounds); r++) {
  const order = commands.map((_, i) => i);
  if (r % 2) order.reverse();
  for (const i of order) times[i].push(run(commands[i]));
}
const quantile = (list, q) => [...list].sort((a, b) => a - b)[Math.floor(list.length * q)];
const base = quantile(times[0], 0.5);
commands.forEach((command, i) => {
  const median = quantile(times[i], 0.5);
  const spread = `q25 ${quantile(times[i], 0.25).toFixed(0)}, q75 ${quantile(times[i], 0.75).toFixed(0)}`;
  console.log(
    `${median.toFixed(1).padStart(7)} ms ${(median / base).toFixed(2)}× [${spread}] ${command.label}`,
  );
});
