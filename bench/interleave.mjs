// Start-up A/B on a noisy machine: whole-process commands run in turn, one spawn each, the order
// alternating every round, medians of wall time. Each argument is `folder|node arguments`:
//   node bench/interleave.mjs 30 "/tmp/a|-e 0" "/tmp/a|--import envmux/register -e 0" "/tmp/b|…"
// Ratios are to the first command. NODE_EXTRA_CA_CERTS is unset for the children.

import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

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

const quantile = (list, q) => [...list].sort((a, b) => a - b)[Math.floor(list.length * q)];

/**
 * Run `commands` ({ dir, args, label }) in turn for `rounds` rounds after two warm-ups; returns
 * each command's median, quartiles and ratio of medians to the first command.
 */
export function interleave(commands, rounds) {
  const times = commands.map(() => []);
  for (let w = 0; w < 2; w++) for (const command of commands) run(command);
  for (let r = 0; r < rounds; r++) {
    const order = commands.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) times[i].push(run(commands[i]));
  }
  const base = quantile(times[0], 0.5);
  return commands.map((command, i) => {
    const median = quantile(times[i], 0.5);
    return {
      label: command.label,
      median,
      q25: quantile(times[i], 0.25),
      q75: quantile(times[i], 0.75),
      ratio: median / base,
    };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [rounds, ...specs] = process.argv.slice(2);
  const commands = specs.map((spec) => {
    const [dir, args] = spec.split('|');
    return { dir, args: args.trim().split(/\s+/), label: spec };
  });
  for (const row of interleave(commands, Number(rounds))) {
    const spread = `q25 ${row.q25.toFixed(0)}, q75 ${row.q75.toFixed(0)}`;
    console.log(
      `${row.median.toFixed(1).padStart(7)} ms ${row.ratio.toFixed(2)}× [${spread}] ${row.label}`,
    );
  }
}
