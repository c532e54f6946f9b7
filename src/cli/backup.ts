// `envmux backup --from STORE --out FILE`: every secret of a store (each version it keeps, with
// metadata) into one file encrypted with the local vault's envelope, written 0600 and atomically.
// Names and counts only on stderr; a JSON report with --json. Never a value.

import type { Command } from 'commander';
import { writeBackup } from '../manage/backup-file.js';
import { keyForWriting } from './backup-key.js';
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
  withUsageExit,
} from './store-command.js';

interface BackupFlags {
  from: string;
  out: string;
  prefix?: string;
  keyFile?: string;
  passphrase?: boolean;
  force?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  withUsageExit(
    program
      .command('backup [pattern]')
      .description('write every secret of a store (all versions, metadata) into one encrypted file')
      .requiredOption('--from <id>', 'the store: a provider id of the config file, or a type')
      .requiredOption('--out <file>', 'the backup file to write (0600, atomically)')
      .option('--prefix <prefix>', 'only names starting with this')
      .option('--key-file <file>', 'encrypt with the raw key in this file (chmod 600)')
      .option(
        '--passphrase',
        'encrypt with a passphrase (ENVMUX_VAULT_PASSPHRASE, else asked twice)',
      )
      .option('--force', 'replace an existing backup file')
      .option('--json', 'print the report as JSON on stdout')
      .addHelpText(
        'after',
        `
PATTERN (optional) is a prefix or a glob, as for envmux list.
The file has the local vault's format and encryption (AES-256-GCM per version; Argon2id for a
passphrase). Its key, in order: --key-file, --passphrase, ENVMUX_VAULT_KEY (raw key),
ENVMUX_VAULT_PASSPHRASE, else a passphrase asked twice on the terminal.
Every version the store keeps is saved oldest first, with description, expiry, metadata, created
date and writer; an expired or disabled version is left out and listed.
${EXIT_HELP}

Examples:
  envmux backup --from local --out secrets.backup
  ENVMUX_VAULT_PASSPHRASE=… envmux backup --from aws --prefix prod/ --out prod.backup --passphrase`,
      ),
  ).action(
    storeAction(async (pattern: string | undefined, flags: BackupFlags) => {
      const { prefix, matches } = listPattern(pattern);
      const key = await keyForWriting(flags);
      const resolver = await openResolver([flags.from]);
      const bar = flags.json ? undefined : await progressBar('backup');
      try {
        const report = await writeBackup({
          resolver,
          from: flags.from,
          out: flags.out,
          key,
          prefix: flags.prefix ?? prefix,
          filter: pattern ? matches : undefined,
          force: flags.force,
          onProgress: bar ? ({ done, total }) => bar.update(done, total) : undefined,
        });
        bar?.stop();
        if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        const p = paint();
        for (const skip of report.skipped) {
          process.stderr.write(
            `envmux: ${p.yellow('warning')}: left out version ${skip.version} of "${skip.name}" (${skip.code})\n`,
          );
        }
        process.stderr.write(
          `${p.green('envmux backup')}: ${report.from} → ${flags.out}: ${plural(report.secrets, 'secret')}, ${plural(report.versions, 'version')}${report.skipped.length ? `, ${report.skipped.length} left out` : ''} (${report.kdf === 'none' ? 'raw key' : 'passphrase'})\n`,
        );
        return EXIT.ok;
      } finally {
        bar?.stop();
        await closeQuietly(resolver);
      }
    }),
  );
}
