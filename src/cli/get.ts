// `envmux get NAME`: print one secret's value from any store (the chain, or `--provider`). With
// `export`, the only commands whose stdout holds a value; errors name the secret, never its value.

import type { Command } from 'commander';
import {
  closeQuietly,
  EXIT,
  EXIT_HELP,
  openResolver,
  storeAction,
  withUsageExit,
} from './store-command.js';

interface GetFlags {
  provider?: string;
  version?: string;
  field?: string;
  newline: boolean;
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('get <name>')
      .description('print a secret’s value from any store (the chain, or --provider)')
      .option(
        '--provider <id>',
        'a provider id of the config file, or a type (local, aws, gcp, ...)',
      )
      .option('--version <version>', 'a version or stage (previous, AWSPREVIOUS, 3, ...)')
      .option('--field <path>', 'a field of a JSON value (a.b.0)')
      .option('-n, --no-newline', 'no newline after the value')
      .addHelpText(
        'after',
        `
Prints the value on stdout (the only place a value goes). Without --provider, the chain answers
as a load would.
${EXIT_HELP}

Examples:
  envmux get prod/db#password --provider aws
  envmux get api/token --provider local --version previous`,
      ),
  ).action(
    storeAction(async (name: string, flags: GetFlags) => {
      const resolver = await openResolver(flags.provider ? [flags.provider] : undefined);
      try {
        const value = await resolver.get(name, {
          provider: flags.provider,
          version: flags.version,
          field: flags.field,
          cache: false,
        });
        process.stdout.write(flags.newline ? `${value}\n` : value);
        return EXIT.ok;
      } finally {
        await closeQuietly(resolver);
      }
    }),
  );
}
