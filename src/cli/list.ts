// `envmux list [PREFIX|GLOB]`: the secrets of a store (or of every listable store of the chain):
// names, versions, dates and expiry status. Never reads or prints a value.

import type { Command } from 'commander';
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
import { globToRegExp } from './vault.js';

interface ListFlags {
  provider?: string;
  json?: boolean;
}

/** The literal prefix of a glob (what the store is asked for) and its filter. */
export function listPattern(pattern = ''): { prefix: string; matches: (name: string) => boolean } {
  const wild = pattern.search(/[*?]/);
  if (wild === -1) return { prefix: pattern, matches: () => true };
  const regex = globToRegExp(pattern);
  return { prefix: pattern.slice(0, wild), matches: (name) => regex.test(name) };
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('list [pattern]')
      .alias('ls')
      .description('list secrets (names and metadata, never values) by prefix or glob')
      .option(
        '--provider <id>',
        'a provider id of the config file, or a type (default: every store of the chain that can list)',
      )
      .option('--json', 'print a JSON array on stdout')
      .addHelpText(
        'after',
        `
PATTERN is a prefix (db/) or a glob: * within a path segment, ** across, ? one character.
Status is "expired" past the expiry date, "expiring" within 7 days, else "ok".
${EXIT_HELP}

Examples:
  envmux list --provider aws prod/
  envmux list 'db/*' --provider local --json`,
      ),
  ).action(
    storeAction(async (pattern: string | undefined, flags: ListFlags) => {
      const { prefix, matches } = listPattern(pattern);
      const resolver = await openResolver(flags.provider ? [flags.provider] : undefined);
      try {
        const now = Date.now();
        const items = (await resolver.list(prefix, { provider: flags.provider }))
          .filter((item) => matches(item.name))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .map((item) => ({
            name: item.name,
            provider: item.provider,
            version: item.version ?? null,
            created: item.created?.toISOString() ?? null,
            updated: item.updated?.toISOString() ?? null,
            expires: item.expires?.toISOString() ?? null,
            status: !item.expires
              ? 'ok'
              : item.expires.getTime() <= now
                ? 'expired'
                : item.expires.getTime() - now < 7 * 86_400_000
                  ? 'expiring'
                  : 'ok',
            description: item.description ?? null,
          }));
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
        } else if (items.length) {
          const rows = [['NAME', 'PROVIDER', 'VERSION', 'UPDATED', 'EXPIRES', 'STATUS']];
          for (const i of items) {
            rows.push([
              i.name,
              i.provider,
              i.version ?? '-',
              shownDate(i.updated ? new Date(i.updated) : undefined),
              shownDate(i.expires ? new Date(i.expires) : undefined),
              i.status,
            ]);
          }
          process.stdout.write(`${table(rows)}\n`);
        } else {
          process.stderr.write(`envmux: no secrets${pattern ? ` match ${pattern}` : ''}\n`);
        }
        return EXIT.ok;
      } finally {
        await closeQuietly(resolver);
      }
    }),
  );
}
