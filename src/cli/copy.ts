// `envmux copy --from A --to B`: copy secrets between any two stores through copySecrets (plan,
// skip-existing or overwrite by digest, rename, verify, resumable). Progress on a terminal, a
// summary on stderr, a JSON report with --json. Names and codes only, never a value.

import type { Command } from 'commander';
import { EnvmuxError } from '../errors.js';
import { type CopyOptions, type CopyReport, copySecrets } from '../manage/copy-secrets.js';
import { parseRenameRule } from '../manage/name-mapping.js';
import { paint } from './colour.js';
import { listPattern } from './list.js';
import { progressBar } from './progress-bar.js';
import {
  closeQuietly,
  EXIT,
  EXIT_HELP,
  openResolver,
  plural,
  storeAction,
  usageError,
  withUsageExit,
} from './store-command.js';
import { namedStore } from './vault-store.js';

/** The options `copy` and `restore` share. */
export interface CopyFlags {
  prefix?: string;
  rename?: string[];
  dryRun?: boolean;
  skipExisting?: boolean;
  overwrite?: boolean;
  verify?: boolean;
  concurrency: string;
  json?: boolean;
}

/** Add the options `copy` and `restore` share to `command`. */
export function withCopyOptions(command: Command): Command {
  return command
    .option('--prefix <prefix>', 'only names starting with this')
    .option(
      '--rename <old=new>',
      "map names, * matching any run of characters: 'dev/*=prod/*' (repeatable; first match wins)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--dry-run', 'print the plan (create, update, skip) and write nothing')
    .option('--skip-existing', 'leave names the destination already has (the default)')
    .option('--overwrite', 'replace destination values that differ')
    .option('--verify', 'read every copied secret back and compare digests')
    .option('--concurrency <n>', 'secrets in flight at once', '32');
}

/** The copy options of the shared flags (usage errors exit 2). */
export function copyOptionsOf(
  pattern: string | undefined,
  flags: CopyFlags,
): Pick<
  CopyOptions,
  'prefix' | 'filter' | 'rename' | 'mode' | 'dryRun' | 'verify' | 'concurrency'
> {
  if (flags.skipExisting && flags.overwrite) {
    throw usageError(
      new EnvmuxError('CONFIG', '--skip-existing and --overwrite exclude each other'),
    );
  }
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw usageError(new EnvmuxError('CONFIG', '--concurrency must be an integer from 1 to 256'));
  }
  let rename: ReturnType<typeof parseRenameRule>[];
  try {
    rename = (flags.rename ?? []).map(parseRenameRule);
  } catch (error) {
    throw usageError(error as EnvmuxError);
  }
  const { prefix, matches } = listPattern(pattern);
  return {
    prefix: flags.prefix ?? prefix,
    filter: pattern ? matches : undefined,
    rename,
    mode: flags.overwrite ? 'overwrite' : 'skip-existing',
    dryRun: flags.dryRun,
    verify: flags.verify,
    concurrency,
  };
}

export function register(program: Command): void {
  withUsageExit(
    withCopyOptions(
      program
        .command('copy [pattern]')
        .description(
          'copy secrets from one store to another (resumable; values compared by digest)',
        )
        .requiredOption(
          '--from <id>',
          'source: a provider id of the config file, a type, or local:<postgres URL | vault file>',
        )
        .requiredOption(
          '--to <id>',
          'destination: a provider id of the config file, a type, or local:<postgres URL | vault file>',
        ),
    )
      .option(
        '--all-versions',
        'copy every version, oldest first, with its metadata, where both stores keep versions',
      )
      .option('--json', 'print the report as JSON on stdout')
      .addHelpText(
        'after',
        `
PATTERN (optional) is a prefix or a glob, as for envmux list.
Equal values are never written again, so a copy that failed part-way is resumed by running it
again: only what is missing (or, with --overwrite, different) is written, with no duplicate
versions. Description, expiry and metadata are copied where both stores keep them.
local:<where> names a local vault by where it is kept, beside the configured stores: a database
(local:postgres://user@host/db) or a vault file (local:other/vault.json); its key comes from
ENVMUX_VAULT_KEY / ENVMUX_VAULT_KEY_FILE / ENVMUX_VAULT_PASSPHRASE, or a file's vault.key beside it.
By default only the latest value is copied. With --all-versions (and both stores keeping
versions) the whole history is copied oldest first, each version with its description, expiry,
metadata and writer; versions the destination already holds in the same order are not written
again, so a re-run resumes where a failed one stopped.
${EXIT_HELP}
A copy with a failed secret copies the rest, then exits 1.

Examples:
  envmux copy --from local --to aws --prefix prod/ --dry-run
  envmux copy --from local --to memory --all-versions --verify
  envmux copy --from aws --to gcp --rename 'prod/*=app/prod/*' --verify --json
  envmux copy --from local --to local:postgres://app@db.internal/secrets --verify`,
      ),
  ).action(
    storeAction(
      async (
        pattern: string | undefined,
        flags: CopyFlags & { from: string; to: string; allVersions?: boolean },
      ) => {
        const options = copyOptionsOf(pattern, flags);
        const [from, to] = [await namedStore(flags.from), await namedStore(flags.to)];
        if (from.id === to.id) {
          throw usageError(new EnvmuxError('CONFIG', '--from and --to name the same store'));
        }
        const resolver = await openResolver([from.provider ?? from.id, to.provider ?? to.id]);
        try {
          const report = await runCopy(
            {
              ...options,
              resolver,
              from: from.id,
              to: to.id,
              allVersions: flags.allVersions,
            },
            'copy',
            !!flags.json,
          );
          return report.ok ? EXIT.ok : EXIT.failed;
        } finally {
          await closeQuietly(resolver);
        }
      },
    ),
  );
}

/**
 * Run a copy with a progress bar on a terminal (not with --json), then print its report: the plan
 * of a dry run, each failure, and the summary line on stderr (JSON on stdout with `json`).
 */
export async function runCopy(
  options: CopyOptions,
  command: string,
  json: boolean,
): Promise<CopyReport> {
  const bar = json ? undefined : await progressBar(command);
  let report: CopyReport;
  try {
    report = await copySecrets({
      ...options,
      onProgress: bar ? ({ done, total }) => bar.update(done, total) : undefined,
    });
  } finally {
    bar?.stop();
  }
  printReport(report, json, command);
  return report;
}

function printReport(report: CopyReport, json: boolean, command: string): void {
  const p = paint();
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (report.dryRun) {
    for (const item of report.items) {
      const target = item.target === item.source ? '' : ` → ${item.target}`;
      const why = item.reason ? ` (${item.reason === 'unchanged' ? 'same value' : 'exists'})` : '';
      const failed = item.status === 'failed' ? ` FAILED ${item.error?.code}` : '';
      process.stdout.write(`${item.action.padEnd(6)}  ${item.source}${target}${why}${failed}\n`);
    }
  }
  for (const item of report.items) {
    if (item.status === 'failed') {
      process.stderr.write(
        `envmux: ${p.red(item.error?.code ?? 'FAILED')}: ${item.source}${item.target === item.source ? '' : ` → ${item.target}`}: ${item.error?.message}\n`,
      );
    }
  }
  const c = report.counts;
  const verb = report.dryRun ? 'would create' : 'created';
  const parts = [
    `${c.create} ${verb}`,
    `${c.update} ${report.dryRun ? 'would update' : 'updated'}`,
    `${c.skip} skipped`,
    c.failed ? p.red(`${c.failed} failed`) : `${c.failed} failed`,
  ];
  if (!report.dryRun && c.verified) parts.push(`${c.verified} verified`);
  if (report.allVersions) {
    parts.push(`${plural(c.versions, 'version')} ${report.dryRun ? 'to write' : 'written'}`);
  }
  const label = report.ok ? p.green(`envmux ${command}`) : p.red(`envmux ${command}`);
  process.stderr.write(
    `${label}: ${report.from} → ${report.to}: ${plural(c.total, 'secret')}: ${parts.join(', ')}\n`,
  );
}
