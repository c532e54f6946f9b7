// `envmux rm NAME`: delete a secret from a store (the first deletable store of the chain, or
// `--provider`). Prints what it deleted; names only.

import type { Command } from 'commander';
import {
  closeQuietly,
  EXIT,
  EXIT_HELP,
  openResolver,
  storeAction,
  withUsageExit,
} from './store-command.js';

interface RmFlags {
  provider?: string;
  force?: boolean;
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('rm <name>')
      .alias('delete')
      .description('delete a secret from a store')
      .option(
        '--provider <id>',
        'a provider id of the config file, or a type (default: the first store of the chain that can delete)',
      )
      .option('--force', 'skip the store’s recovery window (delete for good), where it has one')
      .addHelpText('after', `${EXIT_HELP}\n\nExample:\n  envmux rm old/token --provider aws`),
  ).action(
    storeAction(async (name: string, flags: RmFlags) => {
      const resolver = await openResolver(flags.provider ? [flags.provider] : undefined);
      try {
        const outcomes = await resolver.delete(name, {
          provider: flags.provider,
          force: flags.force,
        });
        for (const o of outcomes) {
          process.stderr.write(
            o.error
              ? `envmux: ${o.error.code}: delete "${name}" in ${o.provider} failed: ${o.error.message}\n`
              : `envmux: deleted "${name}" from ${o.provider}\n`,
          );
        }
        return outcomes.some((o) => o.error) ? EXIT.failed : EXIT.ok;
      } finally {
        await closeQuietly(resolver);
      }
    }),
  );
}
