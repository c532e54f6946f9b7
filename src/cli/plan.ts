// `envmux plan`: the store calls one load of the env files makes, per store, after dedupe and
// batching, and with --rate their monthly cost at the stores' published prices. Calls no store;
// prints names of stores and counts only, never a value.

import type { Command } from 'commander';
import { EnvmuxError } from '../errors.js';
import { type LoadPlan, parseRate, planLoad } from '../manage/plan.js';
import { detectChain } from '../providers/registry.js';
import { envFilesFor, readEnvFiles } from '../resolver/files.js';
import { addEnvOptions, commandLoadOptions, type EnvFlags } from './command-env.js';
import { EXIT, EXIT_HELP, storeAction, table, usageError, withUsageExit } from './store-command.js';

interface PlanFlags extends EnvFlags {
  rate?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const command = withUsageExit(
    program
      .command('plan')
      .description(
        'show the store calls one load makes (per store, after dedupe and batching) and their monthly cost',
      )
      .option('--rate <n/unit>', 'starts of the app: 100/day, 5/hour, 2/min, 1000/month')
      .option('--json', 'print the plan as JSON on stdout'),
  );
  addEnvOptions(command)
    .addHelpText(
      'after',
      `
The plan reads the env files and the chain; it calls no store. A secret: reference is read from
the first store of the chain that has it, so the calls are a range: the low figure when the first
store has every name, the high one when every name falls through to the last store. Reads of one
store are batched (AWS Secrets Manager 20 names a call, SSM 10, Kubernetes 100); a pinned
?version= is read singly. Figures are per cold start, without cache: a running app's cache, or a
shared Redis tier (ENVMUX_REDIS_URL) warm across starts, makes fewer calls.
Prices are list prices (USD, a month of 730 hours); see the table in docs/cli.md.
${EXIT_HELP}`,
    )
    .action(
      storeAction(async (flags: PlanFlags) => {
        let startsPerMonth: number | undefined;
        if (flags.rate !== undefined) {
          try {
            startsPerMonth = parseRate(flags.rate);
          } catch (error) {
            throw usageError(error as EnvmuxError);
          }
        }
        const options = await commandLoadOptions(flags);
        const env = options.env ?? process.env;
        const cwd = options.cwd ?? process.cwd();
        const files = envFilesFor(options, env);
        const { entries, errors, read } = readEnvFiles(files, cwd);
        if (errors.length) throw errors[0]!;
        if (!read.length) {
          throw new EnvmuxError('CONFIG', 'no env file to plan', {
            hint: 'name the files with -f, or run where the .env is',
          });
        }
        const providers = options.providers ?? detectChain(env).map((d) => d.type);
        const plan = planLoad({
          entries: entries.values(),
          providers,
          processEnv: options.processEnv ?? process.env,
          override: options.override,
          expand: options.expand,
          failover: options.failover !== false,
          startsPerMonth,
        });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ files: read, ...plan }, null, 2)}\n`);
        } else process.stdout.write(render(plan, read, flags.rate));
        return EXIT.ok;
      }),
    );
}

const range = (b: { min: number; max: number }, f: (n: number) => string = String) =>
  b.min === b.max ? f(b.min) : `${f(b.min)}–${f(b.max)}`;
const usd = (n: number) => `$${n < 1 && n > 0 ? n.toFixed(4) : n.toFixed(2)}`;
const count = (n: number) => n.toLocaleString('en-US');

function render(plan: LoadPlan, files: string[], rate: string | undefined): string {
  const lines = [
    `${files.join(', ')}: ${plan.keys} keys, ${plan.reads} store reads after dedupe (${plan.chainReads} walk the chain)`,
  ];
  if (plan.dependentReads) {
    lines.push(
      `${plan.dependentReads} more reads have names built from a secret's value: not counted below`,
    );
  }
  const rows = [
    ['STORE', 'TYPE', 'READS', 'BATCH', 'CALLS/START', '$/10K CALLS', '$/SECRET-MONTH'],
  ];
  if (plan.monthly) rows[0]!.push('$/MONTH (CALLS)');
  for (const s of plan.stores) {
    const row = [
      s.provider,
      s.type,
      range(s.reads),
      s.batchSize ? String(s.batchSize) : '1',
      range(s.calls),
      s.price ? s.price.per10kCalls.toFixed(2) : '?',
      s.price ? s.price.perSecretMonth.toFixed(2) : '?',
    ];
    if (plan.monthly) row.push(s.callCost ? range(s.callCost, usd) : '?');
    rows.push(row);
  }
  lines.push('', table(rows), '', `calls per start: ${range(plan.calls)}`);
  if (plan.monthly && plan.startsPerMonth !== undefined) {
    lines.push(
      `at ${rate} (${count(Math.round(plan.startsPerMonth))} starts a month): ${range(plan.monthly.calls, count)} calls, ${range(plan.monthly.callCost, usd)} a month for calls, without cache`,
    );
  }
  const storage = plan.stores.reduce((sum, s) => sum + (s.storageCost ?? 0), 0);
  if (storage) lines.push(`storage of the names read: ${usd(storage)} a month`);
  if (plan.stores.some((s) => !s.price)) {
    lines.push('?: a custom store with no published price');
  }
  return `${lines.join('\n')}\n`;
}
