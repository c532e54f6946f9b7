// `envmux versions NAME`: the versions a store keeps of one secret (ids, dates, stages, and who wrote
// each where the store keeps it). Never a value.

import type { Command } from 'commander';
import { EnvmuxError } from '../errors.js';
import {
  closeQuietly,
  EXIT,
  EXIT_HELP,
  openResolver,
  shownDate,
  storeAction,
  table,
  withUsageExit,
} from './store-command.js';

interface VersionsFlags {
  provider?: string;
  json?: boolean;
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('versions <name>')
      .description('list the versions a store keeps of a secret (never values)')
      .option(
        '--provider <id>',
        'a provider id of the config file, or a type (default: the first store of the chain that keeps versions of it)',
      )
      .option('--json', 'print a JSON array on stdout')
      .addHelpText('after', `${EXIT_HELP}\n\nExample:\n  envmux versions prod/db --provider aws`),
  ).action(
    storeAction(async (name: string, flags: VersionsFlags) => {
      const resolver = await openResolver(flags.provider ? [flags.provider] : undefined);
      try {
        const versions = (await resolver.versions(name, { provider: flags.provider })).map((v) => ({
          version: v.version,
          created: v.created?.toISOString() ?? null,
          stages: v.stages ?? [],
          enabled: v.enabled ?? true,
          // Only where the store keeps who wrote a version (local vault, memory); never guessed.
          updatedBy: v.updatedBy ?? null,
        }));
        if (!versions.length) {
          throw new EnvmuxError('NOT_FOUND', `no versions of "${name}"`, {
            hint: 'envmux list shows the names a store has',
          });
        }
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(versions, null, 2)}\n`);
        } else {
          const rows = [['VERSION', 'CREATED', 'STAGES', 'ENABLED', 'UPDATED BY']];
          for (const v of versions) {
            rows.push([
              v.version,
              shownDate(v.created ? new Date(v.created) : undefined),
              v.stages.join(',') || '-',
              v.enabled ? 'yes' : 'no',
              v.updatedBy ?? '-',
            ]);
          }
          process.stdout.write(`${table(rows)}\n`);
        }
        return EXIT.ok;
      } finally {
        await closeQuietly(resolver);
      }
    }),
  );
}
