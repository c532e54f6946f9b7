// `envmux rotate NAME`: a new value for a secret, by the store's own rotation where it has one,
// else a generated random value (32 bytes, base64url) written as a new version. Never printed.

import type { Command } from 'commander';
import {
  closeQuietly,
  EXIT,
  EXIT_HELP,
  openResolver,
  storeAction,
  withUsageExit,
} from './store-command.js';

interface RotateFlags {
  provider?: string;
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('rotate <name>')
      .description(
        'give a secret a new value (store-native rotation, else a generated one); prints no value',
      )
      .option(
        '--provider <id>',
        'a provider id of the config file, or a type (default: the first writable store of the chain)',
      )
      .addHelpText(
        'after',
        `
The previous value stays readable as version "previous" where the store keeps versions.
${EXIT_HELP}

Example:
  envmux rotate api/signing-key --provider local`,
      ),
  ).action(
    storeAction(async (name: string, flags: RotateFlags) => {
      const resolver = await openResolver(flags.provider ? [flags.provider] : undefined);
      try {
        const outcomes = await resolver.rotate(name, { provider: flags.provider });
        for (const o of outcomes) {
          process.stderr.write(
            o.error
              ? `envmux: ${o.error.code}: rotate "${name}" in ${o.provider} failed: ${o.error.message}\n`
              : `envmux: rotated "${name}" in ${o.provider}${o.version ? ` (version ${o.version})` : ''}\n`,
          );
        }
        return outcomes.some((o) => o.error) ? EXIT.failed : EXIT.ok;
      } finally {
        await closeQuietly(resolver);
      }
    }),
  );
}
