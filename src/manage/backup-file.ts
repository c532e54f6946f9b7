// Backups of a store (`envmux backup` / `envmux restore`): one file in the local vault's format and
// envelope (AES-256-GCM per record, raw key or Argon2id passphrase), holding every readable version
// of every secret with its metadata, plus an encrypted manifest so a removed or added record is
// detected. Restoring opens it as a read-only store that copySecrets copies from. Never a value out.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { nodeCrypto } from '../crypto/lazy-crypto.js';
import { EnvmuxError, isEnvmuxError, toEnvmuxError } from '../errors.js';
import { writeFileAtomicSync } from '../files/atomic-write.js';
import { fileSystemProblem } from '../files/fs-problem.js';
import { makeCheck, sealRecord } from '../providers/local/cipher.js';
import {
  type Argon2Params,
  FORMAT_VERSION,
  isValidName,
  parseVault,
  serializeVault,
  shownPath,
  type VaultHeader,
  type VaultRecord,
} from '../providers/local/format.js';
import {
  argon2id,
  checkArgon2Request,
  DEFAULT_ARGON2,
  passphraseBytes,
} from '../providers/local/kdf.js';
import { parseRawKey } from '../providers/local/key-source.js';
import { local } from '../providers/local/local.js';
import type { Provider, SecretInfo, VersionInfo } from '../providers/provider.js';
import type { Resolver } from '../resolver/client.js';
import { createLimiter } from '../resolver/limit.js';
import { keepsVersions, oldestFirst } from './version-history.js';

/** The record holding the backup's manifest (a name no backed-up secret may have). */
export const MANIFEST_NAME = 'envmux.backup';
/** The metadata key a backed-up version keeps its id in the source store under. */
const SOURCE_VERSION = 'envmux.source-version';
/** The metadata key the writer of a version is kept in (as the local vault keeps it). */
const ACTOR = 'envmux.actor';

/** How a backup file is keyed: a raw 256-bit key (32 bytes, base64 or hex) or a passphrase. */
export type BackupKey = { key: string | Uint8Array } | { passphrase: string };

/** A version left out of a backup (expired, disabled or retired): names and codes only. */
export interface BackupSkip {
  name: string;
  version?: string;
  code: string;
}

export interface BackupOptions {
  resolver: Resolver;
  /** Source provider id or type. */
  from: string;
  /** The file to write (0600, atomically); refused when it exists unless `force`. */
  out: string;
  key: BackupKey;
  /** Only names starting with this. */
  prefix?: string;
  /** Only names this predicate accepts, after `prefix`. */
  filter?: (name: string) => boolean;
  /** Replace an existing file. */
  force?: boolean;
  /** Argon2id costs of a passphrase backup (default the vault's: 64 MiB, t=3, p=4). */
  kdf?: Partial<Pick<Argon2Params, 'memory' | 'iterations' | 'parallelism'>>;
  /** Secrets read at once; default 8. */
  concurrency?: number;
  onProgress?: (progress: { done: number; total: number; name: string }) => void;
  signal?: AbortSignal;
}

export interface BackupReport {
  from: string;
  out: string;
  kdf: 'none' | 'argon2id';
  secrets: number;
  versions: number;
  skipped: BackupSkip[];
}

/** What the manifest record holds (encrypted like every record). */
interface Manifest {
  backup: 1;
  from: string;
  created: string;
  records: string[];
}

/**
 * Write every secret of a store (every version it keeps, oldest first, with description, expiry,
 * metadata, created date and writer) into one encrypted file. Reads everything first and writes
 * the file once, atomically: a failed backup leaves no file.
 */
export async function writeBackup(options: BackupOptions): Promise<BackupReport> {
  const { resolver, from, signal } = options;
  const out = resolve(options.out);
  if (!options.force && existsSync(out)) {
    throw new EnvmuxError('CONFIG', `${shownPath(out)} already exists`, {
      file: out,
      hint: 'choose another --out file, or pass --force to replace it',
    });
  }
  const listed = await resolver.list(options.prefix ?? '', { provider: from });
  const infos = new Map<string, SecretInfo>(listed.map((s) => [s.name, s]));
  const names = [...infos.keys()].filter((n) => !options.filter || options.filter(n)).sort();
  const bad = names.filter((n) => !isValidName(n) || n === MANIFEST_NAME);
  if (bad.length) {
    throw new EnvmuxError(
      'CONFIG',
      `${bad.length} name(s) cannot be kept in a backup file: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}`,
      {
        hint: `backup names are letters, digits and . _ / @ + - (at most 256), and not "${MANIFEST_NAME}"; narrow the backup with --prefix or a pattern`,
      },
    );
  }
  const { header, key } = await newHeader(options.key, out, options.kdf);
  const keeps = await keepsVersions(resolver, from);
  const records: VaultRecord[] = [];
  const skipped: BackupSkip[] = [];
  const limit = createLimiter(Math.max(1, options.concurrency ?? 8));
  let done = 0;
  try {
    await Promise.all(
      names.map((name) =>
        limit(async () => {
          const versions = keeps
            ? oldestFirst(await resolver.versions(name, { provider: from }))
            : [undefined];
          let n = 0;
          for (const version of versions) {
            let value: string;
            try {
              value = await resolver.get(name, {
                provider: from,
                cache: false,
                signal,
                ...(version ? { version: version.version } : {}),
              });
            } catch (error) {
              const e = toEnvmuxError(error);
              if (version && (e.code === 'EXPIRED' || e.code === 'NOT_FOUND')) {
                skipped.push({ name, version: version.version, code: e.code });
                continue;
              }
              throw e;
            }
            const latest = version === versions[versions.length - 1];
            records.push(
              sealRecord(
                key,
                header,
                recordMeta(name, ++n, version, infos.get(name), latest),
                value,
              ),
            );
          }
          options.onProgress?.({ done: ++done, total: names.length, name });
        }),
      ),
    );
    const manifest: Manifest = {
      backup: 1,
      from,
      created: new Date().toISOString(),
      records: records.map((r) => `${r.name}@${r.version}`).sort(),
    };
    records.push(
      sealRecord(
        key,
        header,
        { name: MANIFEST_NAME, version: 1, created: manifest.created },
        JSON.stringify(manifest),
      ),
    );
    try {
      writeFileAtomicSync(out, serializeVault({ header, records }), 0o600);
    } catch (error) {
      throw fileSystemProblem(error, 'backup file', shownPath(out), { file: out });
    }
  } finally {
    key.fill(0);
  }
  const secrets = new Set(records.map((r) => r.name));
  secrets.delete(MANIFEST_NAME);
  return {
    from,
    out,
    kdf: header.kdf.name,
    secrets: secrets.size,
    versions: records.length - 1,
    skipped: skipped.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** The kind of key a backup file needs, from its header (nothing decrypted). */
export function backupKdf(path: string): 'none' | 'argon2id' {
  return parseVault(readBackupText(resolve(path)), resolve(path)).header.kdf.name;
}

/**
 * Open a backup file as a read-only store (`id`, default `backup`): every record is verified with
 * the key and the manifest is checked against the records, before anything is returned. A wrong
 * key or passphrase, an edited, truncated, added or removed record is `DECRYPTION_FAILED`.
 */
export async function openBackup(
  path: string,
  key: BackupKey,
  options: { id?: string } = {},
): Promise<Provider> {
  const file = resolve(path);
  const id = options.id ?? 'backup';
  const doc = parseVault(readBackupText(file), file, id);
  const vault = local({
    id,
    path: file,
    env: {},
    session: false,
    audit: false,
    ...('key' in key ? { key: key.key } : { passphrase: key.passphrase }),
  });
  let manifest: Manifest;
  try {
    manifest = JSON.parse((await vault.get(MANIFEST_NAME, {})) ?? 'null') as Manifest;
  } catch (error) {
    const e = toEnvmuxError(error, { provider: id });
    await vault.close?.();
    if (isEnvmuxError(e) && e.code === 'DECRYPTION_FAILED') throw asBackupProblem(e, file, id);
    throw e;
  }
  const present = doc.records
    .filter((r) => r.name !== MANIFEST_NAME)
    .map((r) => `${r.name}@${r.version}`)
    .sort();
  if (
    manifest?.backup !== 1 ||
    !Array.isArray(manifest.records) ||
    manifest.records.join('\n') !== present.join('\n')
  ) {
    await vault.close?.();
    throw new EnvmuxError(
      'DECRYPTION_FAILED',
      `backup ${shownPath(file)} was modified: its records differ from its manifest; nothing was restored`,
      { file, provider: id, hint: 'use an unmodified copy of the backup file' },
    );
  }
  return {
    id,
    type: 'backup',
    get: (name, ctx) =>
      name === MANIFEST_NAME ? Promise.resolve(undefined) : vault.get(name, ctx),
    async list(prefix, ctx) {
      return (await vault.list!(prefix, ctx)).filter((s) => s.name !== MANIFEST_NAME);
    },
    async versions(name, ctx) {
      if (name === MANIFEST_NAME) return [];
      return vault.versions!(name, ctx);
    },
    close: () => vault.close?.() ?? Promise.resolve(),
  };
}

/** A wrong key or a damaged record, said about the backup rather than a vault. */
function asBackupProblem(e: EnvmuxError, file: string, provider: string): EnvmuxError {
  const wrongKey = /does not open/.test(e.message);
  return new EnvmuxError(
    'DECRYPTION_FAILED',
    wrongKey
      ? `the key or passphrase does not open backup ${shownPath(file)} (wrong key or passphrase, or the file was modified); nothing was restored`
      : `backup ${shownPath(file)} is damaged or was modified; nothing was restored`,
    {
      file,
      provider,
      hint: wrongKey
        ? 'give the key (ENVMUX_VAULT_KEY, --key-file) or passphrase (ENVMUX_VAULT_PASSPHRASE, --passphrase) the backup was written with'
        : 'use an unmodified copy of the backup file',
    },
  );
}

function readBackupText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw fileSystemProblem(error, 'backup file', shownPath(file), { file });
  }
}

/** A fresh header (random id, Argon2id salt) and its key. */
async function newHeader(
  source: BackupKey,
  path: string,
  costs: BackupOptions['kdf'] = {},
): Promise<{ header: VaultHeader; key: Buffer }> {
  const id = nodeCrypto().randomBytes(16).toString('base64');
  let key: Buffer;
  let kdf: VaultHeader['kdf'];
  if ('passphrase' in source) {
    if (!source.passphrase) throw new EnvmuxError('CONFIG', 'the backup passphrase is empty');
    kdf = {
      name: 'argon2id',
      ...DEFAULT_ARGON2,
      ...costs,
      salt: nodeCrypto().randomBytes(16).toString('base64'),
    };
    checkArgon2Request(kdf, `backup ${shownPath(path)}`);
    const password = passphraseBytes(source.passphrase);
    key = await argon2id(password, kdf);
    password.fill(0);
  } else {
    kdf = { name: 'none' };
    key = parseRawKey(source.key, 'the backup key');
  }
  const header: VaultHeader = { envmux: 'vault', format: FORMAT_VERSION, id, kdf, check: '' };
  header.check = makeCheck(key, header);
  return { header, key };
}

/** The record fields of one backed-up version (everything but the value). */
function recordMeta(
  name: string,
  n: number,
  version: VersionInfo | undefined,
  info: SecretInfo | undefined,
  latest: boolean,
): Omit<VaultRecord, 'nonce' | 'data'> {
  const created = version?.created ?? (latest ? (info?.updated ?? info?.created) : undefined);
  const expires = version?.expires ?? (latest ? info?.expires : undefined);
  const description = version?.description ?? (latest ? info?.description : undefined);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(
    version?.metadata ?? (latest ? (info?.metadata ?? {}) : {}),
  )) {
    if (!k.startsWith('envmux.')) metadata[k] = v;
  }
  if (version?.updatedBy) metadata[ACTOR] = version.updatedBy;
  if (version?.version) metadata[SOURCE_VERSION] = version.version;
  return {
    name,
    version: n,
    created: (created ?? new Date()).toISOString(),
    ...(expires ? { expires: expires.toISOString() } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
}
