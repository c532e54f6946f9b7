// `envmux status`: for each store of the chain (or `--provider`), whether it answers its health
// check and how fast. Names, codes and timings only.

import type { Command } from 'commander';
import {
  closeQuietly,
  EXIT,
  EXIT_HELP,
  openResolver,
  storeAction,
  table,
  withUsageExit,
} from './store-command.js';

interface StatusFlags {
  provider?: string[];
  json?: boolean;
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('status')
      .description(
        'check that each store of the chain is reachable and authenticated, with latency',
      )
      .option(
        '--provider <ids...>',
        'these stores (ids of the config file or types) instead of the chain',
      )
      .option('--json', 'print a JSON array on stdout')
      .addHelpText(
        'after',
        `
DETAIL is the error code of a failed check (AUTH_FAILED, UNAVAILABLE, LOCKED, TIMEOUT, ...).
A store without a health check of its own counts as ok when it is built.
${EXIT_HELP} Exit 1 when any store is not ok.`,
      ),
  ).action(
    storeAction(async (flags: StatusFlags) => {
      const ids = flags.provider?.flatMap((p) => p.split(',')).filter(Boolean);
      const resolver = await openResolver(ids);
      try {
        const results = (await resolver.health()).map((r) => ({
          provider: r.provider,
          ok: r.ok,
          latencyMs: Math.round((r.latencyMs ?? 0) * 10) / 10,
          detail: r.detail ?? null,
        }));
        if (flags.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
        else {
          const rows = [['PROVIDER', 'STATUS', 'LATENCY', 'DETAIL']];
          for (const r of results) {
            rows.push([r.provider, r.ok ? 'ok' : 'FAILED', `${r.latencyMs} ms`, r.detail ?? '']);
          }
          process.stdout.write(`${table(rows)}\n`);
        }
        return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
      } finally {
        await closeQuietly(resolver);
      }
    }),
  );
}
