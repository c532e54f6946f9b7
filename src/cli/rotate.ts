// `envmux rotate NAME [--grace 1h]` and `envmux rotate --all --prefix P` (a compromise response):
// a new value per secret, the old one readable as `previous` for the grace period, then retired.
// Prints names, providers and versions on stderr — never a value.

import type { Command } from 'commander';
import { EnvmuxError } from '../errors.js';
import { createResolver } from '../resolver/client.js';
import { parseDuration } from '../resolver/durations.js';
import { addEnvOptions, commandLoadOptions, type EnvFlags } from './command-env.js';
import { reportError } from './report-error.js';

interface RotateFlags extends EnvFlags {
  grace?: string;
  dryRun?: boolean;
  all?: boolean;
  prefix?: string;
  retire?: boolean;
  lambda?: string;
  schedule?: string;
}

export function register(program: Command): void {
  const command = program
    .command('rotate')
    .description(
      'write a new random value for a secret; the old one stays readable as `previous` for the grace period',
    )
    .argument('[name]', 'the secret to rotate')
    .option(
      '--grace <duration>',
      'keep the old value readable as `previous` this long (e.g. 1h), then retire it',
    )
    .option('--dry-run', 'say what would be rotated; write nothing')
    .option('--all', 'rotate every secret whose name starts with --prefix (compromise response)')
    .option('--prefix <prefix>', 'with --all: the names to rotate')
    .option('--retire', 'only retire the old versions whose grace period is over')
    .option(
      '--lambda <arn>',
      "store-native rotation (AWS RotateSecret): the rotation function's ARN",
    )
    .option(
      '--schedule <every>',
      'store-native rotation: rotate automatically every N days (30d), or rate(...)/cron(...)',
    )
    .addHelpText(
      'after',
      `
Retirement is a step, not a timer: the first \`envmux rotate\` (or \`envmux rotate --retire\`) after the
grace period retires the old version where the store can: removed (local vault, memory), its
staging labels taken off (aws), disabled (gcp, azure), deleted (vault KV v2). The due date is
recorded in the store as the metadata \`envmux.retire\` = version@date ... (local vault metadata, aws
tag, gcp annotation, azure tag, vault KV v2 custom_metadata), so \`envmux rotate --retire\` from
cron, in any process, retires on time; for memory the schedule lives in the rotating process.

--lambda and --schedule hand the rotation to the store (AWS RotateSecret with RotationRules): the
rotation function makes the new value; DescribeSecret shows the schedule.

Examples:
  envmux rotate prod/db-password --grace 1h --provider local
  envmux rotate --all --prefix prod/ --dry-run
  envmux rotate prod/db --provider aws --lambda arn:aws:lambda:…:function:rotate --schedule 30d`,
    );
  addEnvOptions(command).action(async (name: string | undefined, flags: RotateFlags) => {
    try {
      if (flags.grace !== undefined) parseDuration(flags.grace, 0);
      if (flags.all && !flags.prefix) {
        throw new EnvmuxError('CONFIG', '--all needs --prefix', {
          hint: 'e.g. envmux rotate --all --prefix prod/ --dry-run (use --prefix "" for every secret)',
        });
      }
      if (!flags.retire && !flags.all && !name) {
        throw new EnvmuxError('CONFIG', 'name the secret to rotate, or use --all --prefix P', {
          hint: 'envmux rotate NAME --grace 1h',
        });
      }
      if (flags.all && name) {
        throw new EnvmuxError('CONFIG', 'give a name or --all, not both');
      }
      const options = await commandLoadOptions(flags);
      const resolver = createResolver({ ...options, audit: { source: 'cli' } });
      const pinned = flags.provider?.length === 1 ? flags.provider[0] : undefined;
      try {
        if (flags.retire) {
          const retired = await resolver.retireExpired();
          for (const r of retired) {
            process.stderr.write(
              `envmux: retired "${r.name}" version ${r.version} in ${r.provider}\n`,
            );
          }
          if (!retired.length) process.stderr.write('envmux: nothing to retire\n');
          return;
        }
        const names = flags.all
          ? [
              ...new Set(
                (await resolver.list(flags.prefix, pinned ? { provider: pinned } : {})).map(
                  (i) => i.name,
                ),
              ),
            ].sort()
          : [name!];
        if (flags.all && !names.length) {
          process.stderr.write(`envmux: no secret starts with "${flags.prefix}"\n`);
          return;
        }
        let failed = 0;
        for (const n of names) {
          try {
            const outcomes = await resolver.rotate(n, {
              ...(pinned ? { provider: pinned } : {}),
              ...(flags.grace !== undefined ? { grace: flags.grace } : {}),
              ...(flags.lambda !== undefined ? { lambda: flags.lambda } : {}),
              ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
              dryRun: !!flags.dryRun,
            });
            for (const o of outcomes) {
              if (o.dryRun) process.stderr.write(`envmux: would rotate "${n}" in ${o.provider}\n`);
              else if (o.error) {
                failed++;
                process.stderr.write(
                  `envmux: ${o.error.code}: rotate "${n}" in ${o.provider}: ${o.error.message}\n`,
                );
              } else {
                const retire =
                  o.previous && flags.grace !== undefined
                    ? `; version ${o.previous} stays readable as previous for ${flags.grace}`
                    : '';
                const schedule = flags.schedule
                  ? `; the store rotates it every ${flags.schedule}`
                  : '';
                process.stderr.write(
                  `envmux: rotated "${n}" in ${o.provider}${o.version ? ` (version ${o.version})` : ''}${retire}${schedule}\n`,
                );
              }
            }
          } catch (error) {
            failed++;
            reportError(error);
          }
        }
        if (failed) process.exitCode = 1;
      } finally {
        await resolver.close();
      }
    } catch (error) {
      reportError(error);
    }
  });
}
