// Creating a vault (`envmux vault init`): the vault file (safe to commit), and for a raw-key vault
// a key file created 0600 beside it, with a .gitignore that keeps the key, locks, temps, sessions
// and the audit file out of git. Never overwrites an existing vault or key file unless forced.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { nodeCrypto } from '../../crypto/lazy-crypto.js';
import { EnvmuxError } from '../../errors.js';
import { writeFileAtomicSync } from '../../files/atomic-write.js';
import { fileSystemProblem } from '../../files/fs-problem.js';
import { generateKey, makeCheck } from './cipher.js';
import {
  type Argon2Params,
  FORMAT_VERSION,
  serializeVault,
  shownPath,
  type VaultHeader,
} from './format.js';
import {
  argon2id,
  checkArgon2Request,
  DEFAULT_ARGON2,
  derivedKeySlot,
  passphraseBytes,
  vaultKeyStore,
} from './kdf.js';
import { formatRawKey } from './key-source.js';
import { acquireLock } from './lock-file.js';
import { keyFileBeside, lockFileOf } from './paths.js';
import { postgresStorage, redactUrl } from './postgres-storage.js';

export interface InitVaultOptions {
  /** The vault file to create (absolute, or relative to `cwd`). */
  path: string;
  cwd?: string;
  /** Use this raw key instead of generating one (e.g. from ENVMUX_VAULT_KEY); no key file is written. */
  key?: Uint8Array;
  /** Make a passphrase vault: Argon2id with `kdf` (default 64 MiB, t=3, p=4). */
  passphrase?: string;
  kdf?: Partial<Pick<Argon2Params, 'memory' | 'iterations' | 'parallelism'>>;
  /** Where a generated key is written (0600); default beside the vault (`vault.key`). */
  keyFile?: string;
  /** Replace an existing vault (its secrets are lost). Default false. */
  force?: boolean;
  /**
   * Create the vault in this PostgreSQL database instead of `path` (schema migrated first). A
   * generated raw key is written only to an explicit `keyFile`.
   */
  url?: string;
  /** For `url`: the `pg` module, TLS options (see `local()`). */
  lib?: unknown;
  ssl?: unknown;
}

export interface InitVaultResult {
  path: string;
  /** The key file written, for a generated raw key. */
  keyFile?: string;
  kdf: 'none' | 'argon2id';
  /** The .gitignore written or extended. */
  gitignore?: string;
  /** The .gitattributes written or extended (union merges of the vault file). */
  gitattributes?: string;
  /** The vault key (caller zeroes it when done). */
  key: Buffer;
}

/** Lines the vault folder's .gitignore must hold. */
function ignoreLines(vaultPath: string, keyFile: string | undefined): string[] {
  const dir = dirname(vaultPath);
  const base = basename(vaultPath);
  const lines = [`${base}.lock*`, '*.tmp', 'audit.jsonl', '*.bak-*'];
  if (keyFile) {
    const rel = relative(dir, keyFile);
    if (!rel.startsWith('..'))
      lines.unshift(rel.split('\\').join('/'), `${rel.split('\\').join('/')}.next`);
  }
  return lines;
}

/** Create or extend `<vault dir>/.gitignore` with the lines it lacks. */
export function ensureGitignore(
  vaultPath: string,
  keyFile: string | undefined,
): string | undefined {
  const file = join(dirname(vaultPath), '.gitignore');
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const have = new Set(existing.split(/\r?\n/).map((l) => l.trim()));
  const missing = ignoreLines(vaultPath, keyFile).filter((l) => !have.has(l));
  if (!missing.length) return undefined;
  const header = existing ? '' : '# envmux: the vault file is safe to commit; its key is not.\n';
  const sep = existing && !existing.endsWith('\n') ? '\n' : '';
  writeFileSync(file, `${existing}${sep}${header}${missing.join('\n')}\n`);
  return file;
}

/**
 * Mark the vault for git's union merge (`<vault> merge=union` in `<vault dir>/.gitattributes`):
 * records are independent lines, so when two branches add lines at the same place both are kept;
 * two branches that set the same version of one secret leave two records the vault then names.
 */
export function ensureGitattributes(vaultPath: string): string | undefined {
  const file = join(dirname(vaultPath), '.gitattributes');
  const line = `${basename(vaultPath)} merge=union`;
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (existing.split(/\r?\n/).some((l) => l.trim().startsWith(`${basename(vaultPath)} `)))
    return undefined;
  const sep = existing && !existing.endsWith('\n') ? '\n' : '';
  writeFileSync(file, `${existing}${sep}${line}\n`);
  return file;
}

/** Create a vault. Throws CONFIG when one exists (unless `force`) or a key file would be overwritten. */
export async function initVault(options: InitVaultOptions): Promise<InitVaultResult> {
  const cwd = options.cwd ?? process.cwd();
  if (options.key && options.passphrase !== undefined) {
    throw new EnvmuxError('CONFIG', 'give a key or a passphrase, not both');
  }
  if (options.url) return createDatabaseVault(options, options.url, cwd);
  const path = resolve(cwd, options.path);
  try {
    return await createVault(options, cwd, path);
  } catch (error) {
    throw fileSystemProblem(error, 'vault', shownPath(path), {
      file: path,
      hint: 'choose a vault path in a writable folder (--vault PATH or ENVMUX_VAULT_PATH)',
    });
  }
}

async function createVault(
  options: InitVaultOptions,
  cwd: string,
  path: string,
): Promise<InitVaultResult> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const lock = await acquireLock(lockFileOf(path), { what: `vault ${shownPath(path)}` });
  try {
    if (existsSync(path) && !options.force) {
      throw new EnvmuxError('CONFIG', `a vault already exists at ${shownPath(path)}`, {
        file: path,
        hint: 'use it (envmux vault list), or pass --force to replace it and lose its secrets',
      });
    }
    const id = nodeCrypto().randomBytes(16).toString('base64');
    let key: Buffer;
    let kdf: VaultHeader['kdf'];
    let keyFile: string | undefined;
    if (options.passphrase !== undefined) {
      if (!options.passphrase) throw new EnvmuxError('CONFIG', 'the passphrase is empty');
      kdf = {
        name: 'argon2id',
        memory: options.kdf?.memory ?? DEFAULT_ARGON2.memory,
        iterations: options.kdf?.iterations ?? DEFAULT_ARGON2.iterations,
        parallelism: options.kdf?.parallelism ?? DEFAULT_ARGON2.parallelism,
        salt: nodeCrypto().randomBytes(16).toString('base64'),
      };
      checkArgon2Request(kdf, `vault ${shownPath(path)}`);
      const password = passphraseBytes(options.passphrase);
      const store = vaultKeyStore();
      store.derivations++;
      key = await argon2id(password, kdf);
      store.keys.set(derivedKeySlot(path, kdf, password), Buffer.from(key));
      password.fill(0);
    } else {
      kdf = { name: 'none' };
      if (options.key) key = Buffer.from(options.key);
      else {
        key = generateKey();
        keyFile = resolve(cwd, options.keyFile ?? keyFileBeside(path));
        if (existsSync(keyFile) && !options.force) {
          throw new EnvmuxError('CONFIG', `key file ${shownPath(keyFile)} already exists`, {
            file: keyFile,
            hint: 'remove it first, or pass --force',
          });
        }
      }
    }
    const header: VaultHeader = { envmux: 'vault', format: FORMAT_VERSION, id, kdf, check: '' };
    header.check = makeCheck(key, header);
    // Key before vault: a crash in between leaves a key file and no vault, never the reverse.
    if (keyFile) {
      mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
      writeFileAtomicSync(keyFile, formatRawKey(key), 0o600);
    }
    writeFileAtomicSync(path, serializeVault({ header, records: [] }), 0o600);
    const gitignore = ensureGitignore(path, keyFile);
    const gitattributes = ensureGitattributes(path);
    return { path, keyFile, kdf: kdf.name, gitignore, gitattributes, key };
  } finally {
    lock.release();
  }
}

/** The header of a new vault and its key (derived from the passphrase, given, or generated). */
async function newHeader(
  options: InitVaultOptions,
  slotPath: string,
): Promise<{ header: VaultHeader; key: Buffer; generated: boolean }> {
  const id = nodeCrypto().randomBytes(16).toString('base64');
  let key: Buffer;
  let kdf: VaultHeader['kdf'];
  let generated = false;
  if (options.passphrase !== undefined) {
    if (!options.passphrase) throw new EnvmuxError('CONFIG', 'the passphrase is empty');
    kdf = {
      name: 'argon2id',
      memory: options.kdf?.memory ?? DEFAULT_ARGON2.memory,
      iterations: options.kdf?.iterations ?? DEFAULT_ARGON2.iterations,
      parallelism: options.kdf?.parallelism ?? DEFAULT_ARGON2.parallelism,
      salt: nodeCrypto().randomBytes(16).toString('base64'),
    };
    checkArgon2Request(kdf, `vault ${slotPath}`);
    const password = passphraseBytes(options.passphrase);
    const store = vaultKeyStore();
    store.derivations++;
    key = await argon2id(password, kdf);
    store.keys.set(derivedKeySlot(slotPath, kdf, password), Buffer.from(key));
    password.fill(0);
  } else {
    kdf = { name: 'none' };
    generated = !options.key;
    key = options.key ? Buffer.from(options.key) : generateKey();
  }
  const header: VaultHeader = { envmux: 'vault', format: FORMAT_VERSION, id, kdf, check: '' };
  header.check = makeCheck(key, header);
  return { header, key, generated };
}

/** `initVault` for a database: migrate the schema, then write the header row (key file first). */
async function createDatabaseVault(
  options: InitVaultOptions,
  url: string,
  cwd: string,
): Promise<InitVaultResult> {
  const location = redactUrl(url);
  const keyFile = options.keyFile ? resolve(cwd, options.keyFile) : undefined;
  if (!options.key && options.passphrase === undefined && !keyFile) {
    throw new EnvmuxError(
      'CONFIG',
      `vault ${location} needs a key: none given, and no key file to write one to`,
      {
        hint: 'pass --key-file PATH (a new raw key is written there, 0600), set ENVMUX_VAULT_KEY, or use --passphrase',
      },
    );
  }
  const { header, key, generated } = await newHeader(options, location);
  if (generated && keyFile) {
    if (existsSync(keyFile) && !options.force) {
      throw new EnvmuxError('CONFIG', `key file ${shownPath(keyFile)} already exists`, {
        file: keyFile,
        hint: 'remove it first, or pass --force',
      });
    }
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
    writeFileAtomicSync(keyFile, formatRawKey(key), 0o600);
  }
  const storage = postgresStorage(url, { lib: options.lib, ssl: options.ssl });
  try {
    if (!(await storage.create(header, options.force))) {
      throw new EnvmuxError('CONFIG', `a vault already exists in ${location}`, {
        hint: 'use it (envmux vault list), or pass --force to replace it and lose its secrets',
      });
    }
  } finally {
    await storage.close?.();
  }
  return {
    path: location,
    ...(generated && keyFile ? { keyFile } : {}),
    kdf: header.kdf.name,
    key,
  };
}
