// `envmux set NAME`: write a secret to any writable store. The value comes from stdin when piped,
// else a no-echo prompt; never from argv (shell history). Prints where it went, never the value.

import type { Command } from 'commander';
import { EnvmuxError } from '../errors.js';
import { parseDuration } from '../resolver/durations.js';
import { readSecret } from './secret-input.js';
import {
  closeQuietly,
  EXIT,
  EXIT_HELP,
  openResolver,
  storeAction,
  usageError,
  withUsageExit,
} from './store-command.js';

interface SetFlags {
  provider?: string;
  description?: string;
  expiresIn?: string;
  keepNewline?: boolean;
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('set <name>')
      .description('write a secret (value from stdin or a no-echo prompt, never the command line)')
      .option(
        '--provider <id>',
        'a provider id of the config file, or a type (default: the first writable store of the chain)',
      )
      .option('--description <text>', 'a description, where the store keeps one')
      .option(
        '--expires-in <duration>',
        'expire after this long (90d, 12h), where the store supports it',
      )
      .option('--keep-newline', 'keep a trailing newline of piped input')
      .addHelpText(
        'after',
        `${EXIT_HELP}

Examples:
  printf %s "$TOKEN" | envmux set api/token --provider aws
  envmux set db/password --provider local        # prompts, twice, without echo`,
      ),
  ).action(
    storeAction(async (name: string, flags: SetFlags) => {
      let expiresAt: Date | undefined;
      if (flags.expiresIn !== undefined) {
        let ms = 0;
        try {
          ms = parseDuration(flags.expiresIn, 0);
        } catch {}
        if (!(ms > 0)) {
          throw usageError(
            new EnvmuxError('CONFIG', `--expires-in "${flags.expiresIn}" is not a duration`, {
              hint: 'e.g. 90d, 12h, 30m',
            }),
          );
        }
        expiresAt = new Date(Date.now() + ms);
      }
      const value = await readSecret({
        prompt: `Value for ${name}: `,
        confirm: true,
        keepNewline: flags.keepNewline,
      });
      const resolver = await openResolver(flags.provider ? [flags.provider] : undefined);
      try {
        const outcomes = await resolver.set(name, value, {
          provider: flags.provider,
          ...(flags.description ? { description: flags.description } : {}),
          ...(expiresAt ? { expiresAt } : {}),
        });
        for (const o of outcomes) {
          process.stderr.write(
            o.error
              ? `envmux: ${o.error.code}: set "${name}" in ${o.provider} failed: ${o.error.message}\n`
              : `envmux: set "${name}" in ${o.provider}${o.version ? ` (version ${o.version})` : ''}\n`,
          );
        }
        return outcomes.some((o) => o.error) ? EXIT.failed : EXIT.ok;
      } finally {
        await closeQuietly(resolver);
      }
    }),
  );
}
