// `envmux restore FILE --to STORE`: a backup file as the source of a copy (copySecrets), with the
// copy options; every version oldest first by default. The file is verified whole (key, records,
// manifest) before anything is written. Names, counts and codes only; never a value.

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EnvmuxError } from '../errors.js';
import { backupKdf, openBackup } from '../manage/backup-file.js';
import { shownPath } from '../providers/local/format.js';
import { keyForReading } from './backup-key.js';
import { type CopyFlags, copyOptionsOf, runCopy, withCopyOptions } from './copy.js';
import {
  closeQuietly,
  EXIT,
  EXIT_HELP,
  openResolver,
  storeAction,
  usageError,
  withUsageExit,
} from './store-command.js';

/** The backup's id in the restore's chain. */
const SOURCE = 'backup-file';

interface RestoreFlags extends CopyFlags {
  to: string;
  keyFile?: string;
  passphrase?: boolean;
  latestOnly?: boolean;
}

export function register(program: Command): void {
  withUsageExit(
    withCopyOptions(
      program
        .command('restore <file> [pattern]')
        .description('copy the secrets of a backup file into a store (every version by default)')
        .requiredOption('--to <id>', 'destination: a provider id of the config file, or a type'),
    )
      .option('--latest-only', 'restore the latest version of each secret only')
      .option('--key-file <file>', 'the raw key the backup was written with')
      .option('--passphrase', 'ask for the passphrase (or read it from stdin when piped)')
      .option('--json', 'print the report as JSON on stdout')
      .addHelpText(
        'after',
        `
PATTERN (optional) is a prefix or a glob, as for envmux list.
The key: --key-file or ENVMUX_VAULT_KEY for a backup written with a raw key; for a passphrase
backup ENVMUX_VAULT_PASSPHRASE, else the passphrase asked on the terminal (or piped with
--passphrase). A wrong key or passphrase, or an edited, added or removed record, is
DECRYPTION_FAILED and nothing is written.
Where the destination keeps versions, every version is restored oldest first with its metadata;
versions it already holds in the same order are not written again, so a restore that failed
part-way is resumed by running it again. Elsewhere the latest value is restored.
${EXIT_HELP}

Examples:
  envmux restore secrets.backup --to local --dry-run
  envmux restore prod.backup --to aws --rename 'prod/*=staging/*' --verify`,
      ),
  ).action(
    storeAction(async (file: string, pattern: string | undefined, flags: RestoreFlags) => {
      const options = copyOptionsOf(pattern, flags);
      if (flags.to === SOURCE) {
        throw usageError(new EnvmuxError('CONFIG', `--to cannot be "${SOURCE}"`));
      }
      const key = await keyForReading(flags, backupKdf(file), shownPath(resolve(file)));
      const source = await openBackup(file, key, { id: SOURCE });
      const resolver = await openResolver([flags.to], [source]).catch(async (error) => {
        await source.close?.();
        throw error;
      });
      try {
        const report = await runCopy(
          { ...options, resolver, from: SOURCE, to: flags.to, allVersions: !flags.latestOnly },
          'restore',
          !!flags.json,
        );
        return report.ok ? EXIT.ok : EXIT.failed;
      } finally {
        await closeQuietly(resolver);
      }
    }),
  );
}
