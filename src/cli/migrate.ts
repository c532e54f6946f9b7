// `envmux migrate FILE --to STORE`: move the secrets of a plain .env into a store and rewrite the
// file with references (migrateEnvFile); --dry-run shows the diff with old values masked,
// --validate compares digests, --rollback restores the backup. Never prints a value.

import type { Command } from 'commander';
import { EnvmuxError } from '../errors.js';
import {
  type MigrateReport,
  migrateEnvFile,
  rollbackMigration,
} from '../manage/migrate-env-file.js';
import { displayPath } from '../resolver/files.js';
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

interface MigrateFlags {
  to?: string;
  dryRun?: boolean;
  validate?: boolean;
  rollback?: boolean;
  deleteUploaded?: boolean;
  keys?: string;
  prefix?: string;
  pin?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('migrate <file>')
      .description(
        'move the secrets of a plain .env file into a store and rewrite it with references',
      )
      .option(
        '--to <id>',
        'destination: a provider id of the config file, or a type (local, aws, ...)',
      )
      .option('--dry-run', 'print the diff (old values masked) and upload nothing')
      .option(
        '--validate',
        'resolve the rewritten file and compare each value with the original (digests)',
      )
      .option('--rollback', 'restore the file from its backup')
      .option('--delete-uploaded', 'with --rollback: also delete the secrets the migration created')
      .option(
        '--keys <keys>',
        'migrate exactly these keys (comma-separated) instead of the heuristics',
      )
      .option('--prefix <prefix>', 'secret names are this prefix plus the key (e.g. app/prod/)')
      .option('--pin', 'write $<ID:name> references pinned to the store instead of $<secret:name>')
      .option('--overwrite', 'replace a different value the store already holds under a name')
      .option('--json', 'print the report as JSON on stdout')
      .addHelpText(
        'after',
        `
Secrets are keys named like *PASSWORD*, *SECRET*, *TOKEN*, *KEY*, *CREDENTIAL*, *PRIVATE*
(not *PUBLIC*, and not when the value is a number, boolean or duration), URLs with a password,
and random-looking values (20+ characters, 3.5+ bits of entropy per character). --keys overrides.
The original is kept as FILE.envmux-backup (it holds the values: keep it out of git) with
FILE.envmux-migrate.json (names created) until --rollback. A failed upload leaves the file
untouched; run the same command again to finish (equal values are not uploaded twice).
${EXIT_HELP}
A failed --validate exits 1.

Examples:
  envmux migrate .env --to local --dry-run
  envmux migrate .env --to aws --prefix app/prod/ --validate
  envmux migrate .env --rollback --delete-uploaded`,
      ),
  ).action(
    storeAction(async (file: string, flags: MigrateFlags) => {
      if (flags.deleteUploaded && !flags.rollback) {
        throw usageError(new EnvmuxError('CONFIG', '--delete-uploaded goes with --rollback'));
      }
      if (flags.rollback) return rollback(file, flags);
      if (!flags.to) {
        throw usageError(
          new EnvmuxError('CONFIG', 'migrate needs --to STORE', {
            hint: 'e.g. envmux migrate .env --to local',
          }),
        );
      }
      const keys = flags.keys
        ?.split(',')
        .map((k) => k.trim())
        .filter(Boolean);
      const resolver = await openResolver();
      try {
        const report = await migrateEnvFile({
          file,
          resolver,
          to: flags.to,
          keys,
          prefix: flags.prefix,
          scheme: flags.pin ? flags.to : 'secret',
          overwrite: flags.overwrite,
          dryRun: flags.dryRun,
          validate: flags.validate,
        });
        printReport(report, !!flags.json);
        return report.ok ? EXIT.ok : EXIT.failed;
      } finally {
        await closeQuietly(resolver);
      }
    }),
  );
}

async function rollback(file: string, flags: MigrateFlags): Promise<number> {
  const resolver = await openResolver(flags.to ? [flags.to] : undefined);
  try {
    const report = await rollbackMigration({
      file,
      resolver,
      deleteUploaded: flags.deleteUploaded,
    });
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    for (const f of report.failed) {
      process.stderr.write(`envmux: ${f.code}: delete "${f.secret}" failed: ${f.message}\n`);
    }
    process.stderr.write(
      `envmux migrate: ${file} restored from its backup${
        flags.deleteUploaded ? `; ${plural(report.deleted.length, 'secret')} deleted` : ''
      }\n`,
    );
    return report.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await closeQuietly(resolver);
  }
}

function printReport(report: MigrateReport, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.dryRun && report.diff.length) {
    process.stdout.write(`--- ${report.file}\n+++ ${report.file}\n${report.diff.join('\n')}\n`);
  }
  for (const item of report.items) {
    if (item.status === 'failed') {
      process.stderr.write(
        `envmux: ${item.error?.code}: ${report.file}:${item.line} ${item.key}: ${item.error?.message}\n`,
      );
    }
  }
  const v = report.validation;
  if (v) {
    for (const key of v.mismatched) {
      process.stderr.write(`envmux: VALIDATION_FAILED: ${key} resolves to a different value\n`);
    }
    for (const u of v.unresolved) {
      process.stderr.write(`envmux: ${u.code}: ${u.key} does not resolve\n`);
    }
  }
  const n = report.items.length;
  const created = report.items.filter((i) => i.action === 'create').length;
  const reused = report.items.filter((i) => i.action === 'reuse').length;
  let line: string;
  if (!n) line = `no secrets to migrate in ${report.file}`;
  else if (report.dryRun) {
    line = `${report.file}: ${plural(n, 'secret')} would move to ${report.to} (${created} new, ${reused} already there); nothing changed`;
  } else if (report.rewritten) {
    line = `${report.file}: ${plural(n, 'secret')} moved to ${report.to} (${created} uploaded, ${reused} already there); backup ${displayPath(report.backup ?? '')} (holds the values: keep it out of git)`;
  } else line = `${report.file}: not rewritten (fix the failures above and run again)`;
  if (v)
    line += v.ok
      ? `; validated: ${plural(v.keys, 'key')} resolve to the original values`
      : '; validation FAILED';
  process.stderr.write(`envmux migrate: ${line}\n`);
}
