// The key of a backup file for `envmux backup` / `envmux restore`, from the same sources as the
// local vault's: --key-file, ENVMUX_VAULT_KEY (raw key), ENVMUX_VAULT_PASSPHRASE, or a no-echo
// prompt (twice when writing). Never prints, logs or puts a key or passphrase in an error.

import { EnvmuxError } from '../errors.js';
import type { BackupKey } from '../manage/backup-file.js';
import { parseRawKey, readKeyFile } from '../providers/local/key-source.js';
import { readSecret } from './secret-input.js';

/** How the command was told to key the backup. */
export interface BackupKeyFlags {
  keyFile?: string;
  passphrase?: boolean;
}

const insecure = () => process.env.ENVMUX_VAULT_INSECURE_KEY_FILE === '1';

function noKey(action: string): EnvmuxError {
  return new EnvmuxError('CONFIG', `no key to ${action} the backup with`, {
    hint: 'set ENVMUX_VAULT_KEY (a raw key) or ENVMUX_VAULT_PASSPHRASE, pass --key-file FILE, or run on a terminal to be asked for a passphrase',
  });
}

async function askPassphrase(confirm: boolean): Promise<BackupKey> {
  const fromEnv = process.env.ENVMUX_VAULT_PASSPHRASE;
  if (fromEnv) return { passphrase: fromEnv };
  return { passphrase: await readSecret({ prompt: 'Backup passphrase: ', confirm }) };
}

/** The key a new backup is written with. */
export async function keyForWriting(flags: BackupKeyFlags): Promise<BackupKey> {
  if (flags.keyFile) return { key: readKeyFile(flags.keyFile, insecure()) };
  if (flags.passphrase) return askPassphrase(true);
  if (process.env.ENVMUX_VAULT_KEY) {
    return { key: parseRawKey(process.env.ENVMUX_VAULT_KEY, 'ENVMUX_VAULT_KEY') };
  }
  if (process.env.ENVMUX_VAULT_PASSPHRASE || process.stdin.isTTY) return askPassphrase(true);
  throw noKey('write');
}

/** The key a backup file made with `kdf` (raw key or passphrase) is opened with. */
export async function keyForReading(
  flags: BackupKeyFlags,
  kdf: 'none' | 'argon2id',
  file: string,
): Promise<BackupKey> {
  if (kdf === 'none') {
    if (flags.keyFile) return { key: readKeyFile(flags.keyFile, insecure()) };
    if (process.env.ENVMUX_VAULT_KEY) {
      return { key: parseRawKey(process.env.ENVMUX_VAULT_KEY, 'ENVMUX_VAULT_KEY') };
    }
    throw new EnvmuxError(
      'CONFIG',
      `backup ${file} is encrypted with a raw key, and none is given`,
      {
        hint: 'set ENVMUX_VAULT_KEY to the key it was written with, or pass --key-file FILE',
      },
    );
  }
  if (flags.keyFile) {
    throw new EnvmuxError(
      'CONFIG',
      `backup ${file} is encrypted with a passphrase, not a key file`,
      { hint: 'set ENVMUX_VAULT_PASSPHRASE, or pipe the passphrase on stdin with --passphrase' },
    );
  }
  if (flags.passphrase || process.env.ENVMUX_VAULT_PASSPHRASE || process.stdin.isTTY) {
    return askPassphrase(false);
  }
  throw noKey('open');
}
