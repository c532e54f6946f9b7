// The opt-in last-known-good copy: after a load that reached its stores, the values they served are
// sealed with the local vault's envelope (AES-256-GCM, a key from the vault's key sources) into one
// 0600 file, replaced atomically; a later load uses it only when every store was unreachable and the
// copy is young enough. Never holds plaintext on disk. See docs/architecture.md, "Resolution".

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { nodeCrypto } from '../crypto/lazy-crypto.js';
import { EnvmuxError, isEnvmuxError } from '../errors.js';
import { writeFileAtomicSync } from '../files/atomic-write.js';
import { makeCheck, openRecord, sealRecord, verifyCheck } from '../providers/local/cipher.js';
import {
  FORMAT_VERSION,
  parseVault,
  serializeVault,
  shownPath,
  type VaultHeader,
} from '../providers/local/format.js';
import { type KeySettings, openKey, rawKeyFromSources } from '../providers/local/key-source.js';
import { vaultPathFrom } from '../providers/local/paths.js';
import { parseDuration } from './durations.js';
import { parseBoolean } from './env-flags.js';
import type { Resolution } from './resolve.js';

/** `lastKnownGood` option of a load (or `ENVMUX_LKG_PATH` / `ENVMUX_LKG_MAX_AGE`). */
export interface LastKnownGoodOptions {
  /** The copy's file (created 0600). */
  path: string;
  /** The oldest copy a load may use (ms or `24h`); default 24 h. */
  maxAge?: number | string;
  /** A raw 256-bit key instead of the local vault's key sources. */
  key?: string | Uint8Array;
  /** A file holding the key instead of the local vault's key sources. */
  keyFile?: string;
}

/** Settings resolved from the option and the environment. */
export interface LastKnownGood {
  path: string;
  maxAge: number;
  keys: KeySettings;
}

const RECORD = 'last-known-good';
const DEFAULT_MAX_AGE = 24 * 3_600_000;
/** Codes that say a store could not be reached (a breaker that is open says UNAVAILABLE). */
const UNREACHABLE = new Set(['UNAVAILABLE', 'TIMEOUT']);

/** The settings of a load, or `undefined` when the copy is off (the default). */
export function lastKnownGoodOf(
  option: LastKnownGoodOptions | false | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): LastKnownGood | undefined {
  if (option === false) return undefined;
  const path = option?.path ?? env.ENVMUX_LKG_PATH;
  if (!path) return undefined;
  return {
    path: resolve(cwd, path),
    maxAge: parseDuration(option?.maxAge ?? env.ENVMUX_LKG_MAX_AGE, DEFAULT_MAX_AGE),
    keys: {
      key: option?.key,
      keyFile: option?.keyFile,
      env,
      cwd,
      vaultPath: vaultPathFrom(env, cwd),
      session: true,
      insecureKeyFile: parseBoolean(env, 'ENVMUX_VAULT_INSECURE_KEY_FILE', false),
    },
  };
}

/** The key: the explicit one, else the one that opens the local vault, else a raw key source. */
async function keyOf(settings: LastKnownGood): Promise<Buffer> {
  const { keys } = settings;
  const explicit = keys.key !== undefined || keys.keyFile !== undefined;
  if (!explicit && existsSync(keys.vaultPath)) {
    const header = parseVault(readFileSync(keys.vaultPath, 'utf8'), keys.vaultPath).header;
    return (await openKey(header, keys)).key;
  }
  const raw = rawKeyFromSources(keys);
  if (raw) return raw.key;
  throw new EnvmuxError('CONFIG', 'no key for the last-known-good copy', {
    file: settings.path,
    hint: 'set ENVMUX_VAULT_KEY or ENVMUX_VAULT_KEY_FILE (or keep the local vault and its key beside it)',
  });
}

/** Seal `values` into the copy (atomic, durable, 0600), replacing the previous one. */
export async function saveLastKnownGood(
  settings: LastKnownGood,
  values: Map<string, string>,
  now = Date.now(),
): Promise<void> {
  const key = await keyOf(settings);
  try {
    const base = { format: FORMAT_VERSION, id: nodeCrypto().randomBytes(16).toString('base64') };
    const kdf = { name: 'none' } as const;
    const header: VaultHeader = {
      envmux: 'vault',
      ...base,
      kdf,
      check: makeCheck(key, { ...base, kdf }),
    };
    const created = new Date(now).toISOString();
    const record = sealRecord(
      key,
      base,
      { name: RECORD, version: 1, created },
      JSON.stringify(Object.fromEntries(values)),
    );
    writeFileAtomicSync(settings.path, serializeVault({ header, records: [record] }), 0o600);
  } finally {
    key.fill(0);
  }
}

/** A copy opened: its values and how old it is. */
export interface OpenedCopy {
  values: Map<string, string>;
  ageMs: number;
}

/**
 * Open the copy. Throws `DECRYPTION_FAILED` when it was modified or the key does not open it,
 * `EXPIRED` when it is older than `maxAge`, `NOT_FOUND` when there is none.
 */
export async function readLastKnownGood(
  settings: LastKnownGood,
  now = Date.now(),
): Promise<OpenedCopy> {
  const shown = shownPath(settings.path);
  let text: string;
  try {
    text = readFileSync(settings.path, 'utf8');
  } catch {
    throw new EnvmuxError('NOT_FOUND', `no last-known-good copy at ${shown}`, {
      file: settings.path,
    });
  }
  const doc = parseVault(text, settings.path);
  const record = doc.records.find((r) => r.name === RECORD);
  const key = await keyOf(settings);
  try {
    if (!verifyCheck(key, doc.header) || !record || doc.records.length !== 1) {
      throw new EnvmuxError(
        'DECRYPTION_FAILED',
        `the last-known-good copy ${shown} does not open with this key, or was modified`,
        {
          file: settings.path,
          hint: 'it was not used; delete it to let the next good load write a new one',
        },
      );
    }
    const plain = openRecord(key, doc.header, record, settings.path);
    const ageMs = Math.max(0, now - Date.parse(record.created));
    if (!(ageMs <= settings.maxAge)) {
      throw new EnvmuxError(
        'EXPIRED',
        `the last-known-good copy ${shown} is ${formatAge(ageMs)} old (max ${formatAge(settings.maxAge)}); it was not used`,
        { file: settings.path, hint: 'raise ENVMUX_LKG_MAX_AGE, or bring a store back' },
      );
    }
    const parsed = JSON.parse(plain) as Record<string, unknown>;
    const values = new Map<string, string>();
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') values.set(k, v);
    return { values, ageMs };
  } catch (error) {
    if (isEnvmuxError(error)) throw error;
    throw new EnvmuxError('DECRYPTION_FAILED', `the last-known-good copy ${shown} is damaged`, {
      file: settings.path,
    });
  } finally {
    key.fill(0);
  }
}

/**
 * Whether a resolution failed only because every store was unreachable: it has problems, each one
 * UNAVAILABLE or TIMEOUT (an open breaker included), and no store served any key. An auth, access
 * or not-found answer means a store was reached: never a reason to use the copy.
 */
export function everyStoreUnreachable(resolution: Resolution): boolean {
  if (!resolution.errors.length) return false;
  if (!resolution.errors.every((e) => UNREACHABLE.has(e.code))) return false;
  for (const source of resolution.sources.values()) if (source.providers.length) return false;
  return true;
}

/** `8040000` → `2h14m`; `90000` → `1m30s`; `86400000` → `24h`; `259200000` → `3d`. */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  // Days from two on: "36h" reads better than "1d12h", and "24h" than "1d".
  const d = s >= 2 * 86_400 ? Math.floor(s / 86_400) : 0;
  const h = Math.floor((s - d * 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d${h ? `${h}h` : ''}`;
  if (h) return `${h}h${m ? `${m}m` : ''}`;
  if (m) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${s}s`;
}
