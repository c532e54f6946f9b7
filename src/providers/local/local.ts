// `local` provider: the encrypted vault file in the project (the embedded default store). Reads are
// synchronous once the key is open (raw key, key file, unlock session, or a passphrase derived once
// per process), so the register preload needs no worker; every write is read-modify-replace under
// the writers' lock. A vault is verified whole before anything is read from it. Never logs, audits
// or throws a value, a key or a passphrase.

import { renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  type AuditAction,
  type AuditLog,
  type AuditSource,
  currentActor,
  jsonLinesSink,
  processAuditLog,
} from '../../audit/audit-log.js';
import { nodeCrypto } from '../../crypto/lazy-crypto.js';
import { EnvmuxError, type ErrorCode, toEnvmuxError } from '../../errors.js';
import { writeFileAtomicSync } from '../../files/atomic-write.js';
import { parseDuration } from '../../resolver/durations.js';
import { parseBoolean } from '../../resolver/env-flags.js';
import type {
  DeleteContext,
  Provider,
  ReadContext,
  SecretInfo,
  VersionInfo,
  WriteContext,
  WriteResult,
} from '../provider.js';
import { metadataToStore } from '../retire-version.js';
import { generateKey, makeCheck, openRecord, openRecordBytes, sealRecord } from './cipher.js';
import {
  type Argon2Params,
  isValidName,
  type KdfSpec,
  shownPath,
  type VaultDocument,
  type VaultHeader,
  type VaultRecord,
} from './format.js';
import {
  argon2id,
  checkArgon2Request,
  DEFAULT_ARGON2,
  derivedKeySlot,
  forgetDerivedKeys,
  passphraseBytes,
  vaultKeyStore,
} from './kdf.js';
import {
  formatRawKey,
  type KeySettings,
  mayNeedAsyncUnlock,
  openKey,
  openKeySync,
  parseRawKey,
} from './key-source.js';
import { auditFileBeside, keyFileFrom, nextKeyFile, vaultPathFrom } from './paths.js';
import { postgresStorage, redactUrl } from './postgres-storage.js';
import { DEFAULT_SESSION_IDLE_MS, removeSession, writeSession } from './session.js';
import { fileStorage, isVaultUrl, type VaultScope, type VaultStorage } from './storage.js';
import type { LoadedVault, VaultChange } from './vault-file.js';

type Env = Record<string, string | undefined>;

export interface LocalProviderOptions {
  /** Chain id; default `local`. */
  id?: string;
  /** The vault file; default `ENVMUX_VAULT_PATH`, else `.envmux/vault.json` under `cwd`. */
  path?: string;
  /**
   * A PostgreSQL database holding the vault instead of a file (`postgres://user@host/db?sslmode=…`);
   * default `ENVMUX_VAULT_URL` when no `path` is given. Needs the `pg` package. Such a vault has no
   * `getSync`: the preload reads it in its worker (docs/architecture.md, "The preload").
   */
  url?: string;
  /** The `pg` module to use instead of importing it (bundlers, tests). */
  lib?: unknown;
  /**
   * TLS options handed to `pg` as `ssl` (Node's `tls.connect` options: `{ ca }` to trust a private
   * CA; the certificate and host name are verified). When given they replace the URL's `ssl*`
   * parameters; without them the URL's `sslmode=verify-full&sslrootcert=ca.pem` is honoured.
   */
  ssl?: unknown;
  /** Most connections the pool opens; default 1 (enough for a load; raise it for servers). */
  poolSize?: number;
  /** Keep this provider's audit entries in the database's `envmux_audit` table. Default true. */
  auditTable?: boolean;
  /** Folder relative paths start from; default `process.cwd()`. */
  cwd?: string;
  /**
   * A raw 256-bit key (32 bytes, or base64 / 64 hex digits): no KDF at all. For a passphrase vault,
   * its derived key. Default `ENVMUX_VAULT_KEY`.
   */
  key?: string | Uint8Array;
  /** A file holding the raw key. Default `ENVMUX_VAULT_KEY_FILE`, else `vault.key` beside the vault. */
  keyFile?: string;
  /** A passphrase (Argon2id, once per process). Default `ENVMUX_VAULT_PASSPHRASE`. */
  passphrase?: string;
  /** Where `ENVMUX_VAULT_*` are read; default `process.env`. */
  env?: Env;
  /** Open with an `envmux vault unlock` session when one is live. Default true. */
  session?: boolean;
  /**
   * Lock after this long without a read or write (ms or `15m`): the key is wiped from memory and
   * reads throw `LOCKED` until {@link LocalProvider.unlock}. Default `ENVMUX_VAULT_AUTO_LOCK`, else never.
   */
  autoLock?: number | string | false;
  /** Accept a key file group or others can read. Default `ENVMUX_VAULT_INSECURE_KEY_FILE=1`. */
  insecureKeyFile?: boolean;
  /**
   * Also append this provider's audit entries to a JSON-lines file: `true` = `audit.jsonl` beside
   * the vault, or a path. Default `ENVMUX_VAULT_AUDIT` (`1` or a path), else none.
   */
  auditFile?: boolean | string;
  /** Where vault operations are recorded; default the process-wide audit log. */
  audit?: false | { log?: AuditLog; source?: AuditSource };
  /** How long a writer waits for another's lock (ms or `4s`) before `LOCKED`. Default 4 s. */
  lockTimeout?: number | string;
  /** Cache TTL of this provider's values in the resolver, in ms. */
  ttl?: number;
  /** The clock (ms since the epoch) expiry is judged by; for tests. */
  now?: () => number;
}

/** One entry of `versions()`, with what the vault keeps about it. */
export interface LocalVersionInfo extends VersionInfo {
  expires?: Date;
  expired?: boolean;
  description?: string;
}

/** What `cleanup()` removed (or would remove). */
export interface CleanupItem {
  name: string;
  version: string;
  reason: 'expired' | 'beyond-keep';
}

/** The new key of `rotateKey()`. */
export interface RotateKeyOptions {
  /** A raw key (default: a fresh random one unless `passphrase` is given). */
  key?: Uint8Array;
  /** Switch to (or stay on) a passphrase: Argon2id with a new salt. */
  passphrase?: string;
  kdf?: Partial<Pick<Argon2Params, 'memory' | 'iterations' | 'parallelism'>>;
  /**
   * Replace this key file with the new raw key, crash-safely: the new key is staged in
   * `<file>.next` before the vault is replaced, then renamed over the file.
   */
  keyFile?: string;
}

export interface RotateKeyResult {
  /** Records re-encrypted. */
  records: number;
  kdf: 'none' | 'argon2id';
  /** The new raw key (or derived key). The caller stores it and zeroes this buffer. */
  key: Buffer;
  keyFile?: string;
}

/** What `info()` tells about a vault (no secrets). */
export interface VaultInfo {
  path: string;
  format: number;
  kdf: KdfSpec extends infer K ? (K extends { salt: string } ? Omit<K, 'salt'> : K) : never;
  names: number;
  records: number;
  /** Where the key came from (an env var name, a key file, a session, a passphrase). */
  keySource?: string;
  locked: boolean;
}

/** The vault provider: a {@link Provider} plus the vault's own management operations. */
export interface LocalProvider extends Provider {
  readonly path: string;
  /** Where the vault is kept: `file`, or `postgres` (then there is no `getSync`). */
  readonly storage: 'file' | 'postgres';
  /** Whether reads currently throw `LOCKED` (after `lock()` or auto-lock). */
  readonly locked: boolean;
  get(name: string, ctx?: ReadContext): Promise<string | undefined>;
  getSync?(name: string, ctx?: ReadContext): string | undefined;
  getMany(names: string[], ctx?: ReadContext): Promise<Map<string, string | Error>>;
  set(name: string, value: string, ctx?: WriteContext): Promise<WriteResult>;
  delete(name: string, ctx?: DeleteContext): Promise<void>;
  list(prefix: string, ctx?: ReadContext): Promise<SecretInfo[]>;
  versions(name: string, ctx?: ReadContext): Promise<LocalVersionInfo[]>;
  /** Open the key now (deriving from a passphrase if needed), with `credential` or the configured source. */
  unlock(credential?: { key?: string | Uint8Array; passphrase?: string }): Promise<void>;
  /** Wipe the key from memory (and this vault's derived keys from the process cache); reads throw `LOCKED`. */
  lock(): void;
  /** Make the value of `version` the latest again (as a new version). */
  restore(name: string, version: string): Promise<WriteResult>;
  /** Remove one version. */
  deleteVersion(name: string, version: string): Promise<void>;
  /** Remove expired versions (and, with `keep`, all but the newest `keep` versions of each secret). */
  cleanup(options?: { dryRun?: boolean; keep?: number }): Promise<CleanupItem[]>;
  /** Re-encrypt everything under a new key, in one atomic replacement of the vault file. */
  rotateKey(options?: RotateKeyOptions): Promise<RotateKeyResult>;
  info(): Promise<VaultInfo>;
  /** Wipe the key and end the storage's connections (a database vault's pool). */
  close(): Promise<void>;
  /**
   * Keep the open key in this user's unlock session (see `envmux vault unlock`) so other processes
   * open the vault without the passphrase until it is `idleMs` unused; returns the session file.
   */
  startSession(idleMs?: number): string;
}

const AUDIT_SINKS = Symbol.for('envmux.vault-audit-sinks');

/** One JSON-lines sink per audit file per process, fed this provider id's entries. */
function addAuditFile(log: AuditLog, file: string, id: string): void {
  const g = globalThis as { [AUDIT_SINKS]?: Set<string> };
  g[AUDIT_SINKS] ??= new Set();
  const slot = `${file}\0${id}`;
  if (g[AUDIT_SINKS].has(slot)) return;
  g[AUDIT_SINKS].add(slot);
  const sink = jsonLinesSink(file);
  log.addSink((entry) => {
    if (entry.provider === id) sink(entry);
  });
}

/** The storages that keep each (log, vault, provider id)'s entries in a table: one sink for all. */
const tableSinks = new WeakMap<
  AuditLog,
  Map<string, { users: VaultStorage[]; remove: () => void }>
>();

/**
 * Send this provider id's entries to the storage's audit table, once per log, vault and id however
 * many providers open it (each entry is written once); returns the release for `close()`.
 */
function addAuditTable(log: AuditLog, storage: VaultStorage, id: string): () => void {
  let slots = tableSinks.get(log);
  if (!slots) tableSinks.set(log, (slots = new Map()));
  const slot = `${storage.location}\0${id}`;
  let shared = slots.get(slot);
  if (!shared) {
    const users: VaultStorage[] = [];
    const remove = log.addSink((entry) => {
      if (entry.provider === id) users[users.length - 1]?.audit?.(entry);
    });
    shared = { users, remove };
    slots.set(slot, shared);
  }
  const entry = shared;
  entry.users.push(storage);
  return () => {
    const at = entry.users.indexOf(storage);
    if (at >= 0) entry.users.splice(at, 1);
    if (!entry.users.length) {
      entry.remove();
      slots.delete(slot);
    }
  };
}

/** Which record `version` names: latest (default), `previous`, or a number. */
function pick(
  list: VaultRecord[] | undefined,
  version: string | undefined,
  name: string,
  provider: string,
): VaultRecord | undefined {
  if (!list?.length) return undefined;
  if (version === undefined || version === 'latest' || version === '') return list[list.length - 1];
  if (version === 'previous') return list[list.length - 2];
  if (!/^\d+$/.test(version)) {
    throw new EnvmuxError(
      'INVALID_REFERENCE',
      `"${version}" is not a version of "${name}" in the local vault`,
      { provider, hint: 'use a version number, latest or previous' },
    );
  }
  const n = Number(version);
  return list.find((r) => r.version === n);
}

/** The metadata key a version's writer is kept in (`envmux versions` shows it as "updated by"). */
export const ACTOR_METADATA = 'envmux.actor';

/** A version's metadata: the given keys (the writer of an older version dropped), plus its writer. */
function withActor(
  metadata: Record<string, string> | undefined,
  actor: string,
): Record<string, string> {
  const { [ACTOR_METADATA]: _previous, ...rest } = metadata ?? {};
  return { ...rest, [ACTOR_METADATA]: actor };
}

function metaOf(record: VaultRecord): Omit<VaultRecord, 'nonce' | 'data'> {
  const { nonce: _n, data: _d, ...meta } = record;
  return meta;
}

/** A vault provider. Nothing is read until the first call. */
export function local(options: LocalProviderOptions = {}): LocalProvider {
  const id = options.id ?? 'local';
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const url = options.path ? undefined : (options.url ?? (env.ENVMUX_VAULT_URL || undefined));
  if (url !== undefined && !isVaultUrl(url)) {
    throw new EnvmuxError('CONFIG', 'the vault URL is not a postgres:// URL', {
      provider: id,
      hint: 'ENVMUX_VAULT_URL=postgres://user@host:5432/db (or set ENVMUX_VAULT_PATH for a file)',
    });
  }
  const path = url ? redactUrl(url) : vaultPathFrom(env, cwd, options.path);
  const now = options.now ?? Date.now;
  const storage: VaultStorage = url
    ? postgresStorage(url, {
        provider: id,
        lib: options.lib,
        ssl: options.ssl,
        poolSize: options.poolSize,
        lockTimeout: parseDuration(options.lockTimeout, 4000),
      })
    : fileStorage(path, id);
  const settings: KeySettings = {
    key: options.key,
    keyFile: options.keyFile,
    passphrase: options.passphrase,
    env,
    cwd,
    vaultPath: path,
    session: options.session ?? true,
    insecureKeyFile:
      options.insecureKeyFile ?? parseBoolean(env, 'ENVMUX_VAULT_INSECURE_KEY_FILE', false),
    provider: id,
  };
  const autoLockRaw = options.autoLock ?? env.ENVMUX_VAULT_AUTO_LOCK;
  const autoLockMs =
    autoLockRaw === false || autoLockRaw === undefined ? 0 : parseDuration(autoLockRaw, 0);
  const lockTimeout = parseDuration(options.lockTimeout, 4000);

  const auditLog = options.audit === false ? undefined : (options.audit?.log ?? processAuditLog());
  const auditSource = options.audit ? options.audit.source : undefined;
  const auditFileSetting = options.auditFile ?? (env.ENVMUX_VAULT_AUDIT || undefined);
  if (auditLog && auditFileSetting && auditFileSetting !== '0' && auditFileSetting !== 'false') {
    const target =
      auditFileSetting === true || auditFileSetting === '1' || auditFileSetting === 'true'
        ? auditFileBeside(path)
        : resolve(cwd, auditFileSetting);
    addAuditFile(auditLog, target, id);
  }
  const releaseAuditTable =
    auditLog && storage.audit && options.auditTable !== false
      ? addAuditTable(auditLog, storage, id)
      : undefined;
  const audit = (
    action: AuditAction,
    key: string | undefined,
    outcome: 'ok' | 'error',
    code?: ErrorCode,
  ) =>
    auditLog?.record({
      action,
      key,
      provider: id,
      outcome,
      ...(code ? { code } : {}),
      ...(auditSource ? { source: auditSource } : {}),
    });

  /** The open key and the header check it was verified against. */
  let held: { key: Buffer; check: string; source: string } | undefined;
  let locked = false;
  const verified = new WeakSet<VaultDocument>();
  /**
   * What the last full verification decrypted, kept only until the event loop turns: reads of the
   * unchanged file in the same pass (the register preload's) do not decrypt again. Zeroed and
   * dropped by a setImmediate, a write, a key change or lock().
   */
  let turn: { loaded: LoadedVault; key: Buffer; plain: Map<VaultRecord, Buffer> } | undefined;
  let lastUse = 0;
  let timer: NodeJS.Timeout | undefined;

  const lockedError = () =>
    new EnvmuxError('LOCKED', `vault ${shownPath(path)} is locked`, {
      file: path,
      provider: id,
      hint: 'call unlock() on the provider, or run `envmux vault unlock`',
    });

  const endTurn = () => {
    if (!turn) return;
    for (const bytes of turn.plain.values()) bytes.fill(0);
    turn = undefined;
  };

  const wipe = () => {
    endTurn();
    held?.key.fill(0);
    held = undefined;
  };

  const scheduleAutoLock = () => {
    if (!autoLockMs) return;
    lastUse = now();
    if (timer) return;
    const arm = (ms: number) => {
      timer = setTimeout(() => {
        timer = undefined;
        const idle = now() - lastUse;
        if (idle >= autoLockMs) {
          provider.lock();
          audit('auth', undefined, 'ok');
        } else arm(autoLockMs - idle);
      }, ms);
      timer.unref?.();
    };
    arm(autoLockMs);
  };

  const adopt = (opened: { key: Buffer; source: string }, header: VaultHeader) => {
    // The key already held for this header stays: a read in flight may still be using it.
    if (held?.check === header.check && held.key !== opened.key) {
      opened.key.fill(0);
      return held.key;
    }
    endTurn();
    if (held && held.key !== opened.key) held.key.fill(0);
    held = { key: opened.key, check: header.check, source: opened.source };
    return held.key;
  };

  /** Every record must authenticate before any is served (a tampered vault is never half-read). */
  const verifyAll = (loaded: LoadedVault, key: Buffer) => {
    if (verified.has(loaded.doc)) return;
    endTurn();
    const plain = new Map<VaultRecord, Buffer>();
    try {
      for (const record of loaded.doc.records)
        plain.set(record, openRecordBytes(key, loaded.doc.header, record, path, id));
    } catch (error) {
      for (const bytes of plain.values()) bytes.fill(0);
      throw error;
    }
    verified.add(loaded.doc);
    turn = { loaded, key, plain };
    setImmediate(endTurn).unref();
  };

  const openSync = (): { loaded: LoadedVault; key: Buffer } => {
    if (locked) throw lockedError();
    if (!storage.loadSync) {
      throw new EnvmuxError('CONFIG', `vault ${path} is read asynchronously only`, {
        provider: id,
        hint: 'use get() / getMany(); the preload reads a database vault in its worker',
      });
    }
    const loaded = storage.loadSync();
    const header = loaded.doc.header;
    let key = held?.check === header.check ? held.key : undefined;
    if (!key) {
      const opened = openKeySync(header, settings);
      if (!opened) {
        throw new EnvmuxError(
          'LOCKED',
          `vault ${shownPath(path)} needs its passphrase derived first`,
          {
            file: path,
            provider: id,
            hint: 'await provider.unlock() (or get()) before getSync(); on Node ≥ 24.7 this is synchronous',
          },
        );
      }
      key = adopt(opened, header);
    }
    verifyAll(loaded, key);
    scheduleAutoLock();
    return { loaded, key };
  };

  /** The key being opened, shared by every read that needs it meanwhile (one open, one KDF run). */
  let opening: { check: string; key: Promise<Buffer> } | undefined;
  const keyFor = async (loaded: LoadedVault): Promise<Buffer> => {
    if (locked) throw lockedError();
    const header = loaded.doc.header;
    if (held?.check === header.check) return held.key;
    if (opening?.check !== header.check) {
      const key = openKey(header, settings).then((opened) => adopt(opened, header));
      const current = { check: header.check, key };
      opening = current;
      const done = () => {
        if (opening === current) opening = undefined;
      };
      key.then(done, done);
    }
    return opening.key;
  };

  const open = async (scope?: VaultScope): Promise<{ loaded: LoadedVault; key: Buffer }> => {
    if (locked) throw lockedError();
    const loaded = await storage.load(scope);
    const key = await keyFor(loaded);
    // Metadata only (a database's list or versions): no value is served, so none is decrypted.
    if (!loaded.valuesOmitted) verifyAll(loaded, key);
    scheduleAutoLock();
    return { loaded, key };
  };

  /** Read-modify-replace under the lock, with the key open and the current vault verified. */
  const update = <T>(
    change: (loaded: LoadedVault, key: Buffer) => Promise<VaultChange<T>> | VaultChange<T>,
    signal?: AbortSignal,
    names?: string[],
    latest?: boolean,
    append?: boolean,
  ) =>
    storage.update(
      async (loaded) => {
        const key = await keyFor(loaded);
        verifyAll(loaded, key);
        scheduleAutoLock();
        const out = await change(loaded, key);
        // What this turn decrypted is about to be stale.
        if (out.doc) endTurn();
        return out;
      },
      { timeout: lockTimeout, signal, ...(names ? { names, latest, append } : {}) },
    );

  const checkName = (name: string) => {
    if (!isValidName(name)) {
      throw new EnvmuxError('INVALID_REFERENCE', `"${name}" is not a valid vault secret name`, {
        provider: id,
        hint: 'letters, digits and . _ / @ + -, starting with a letter or digit',
      });
    }
  };

  const read = (loaded: LoadedVault, key: Buffer, name: string, version: string | undefined) => {
    const record = pick(loaded.byName.get(name), version, name, id);
    if (!record) return undefined;
    if (record.expires && Date.parse(record.expires) <= now()) {
      throw new EnvmuxError(
        'EXPIRED',
        `secret "${name}" (version ${record.version}) expired at ${record.expires}`,
        { key: name, provider: id, hint: `set a new value: envmux vault set ${name}` },
      );
    }
    const decrypted =
      turn?.loaded === loaded && turn.key === key ? turn.plain.get(record) : undefined;
    if (decrypted) return decrypted.toString('utf8');
    return openRecord(key, loaded.doc.header, record, path, id);
  };

  const withProvider = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (error) {
      throw toEnvmuxError(error, { provider: id });
    }
  };

  const provider: LocalProvider = {
    id,
    type: 'local',
    identity: `local|${path}`,
    storage: storage.kind,
    ttl: options.ttl,
    keepsMetadata: true,
    path,
    get locked() {
      return locked;
    },
    ...(storage.loadSync
      ? {
          getSync(name: string, ctx: ReadContext = {}) {
            return withProvider(() => {
              const { loaded, key } = openSync();
              return read(loaded, key, name, ctx.version);
            });
          },
        }
      : {}),
    async get(name, ctx = {}) {
      try {
        const latest = ctx.version === undefined || ctx.version === 'latest' || !ctx.version;
        const { loaded, key } = await open({ names: [name], latest });
        return read(loaded, key, name, ctx.version);
      } catch (error) {
        throw toEnvmuxError(error, { provider: id });
      }
    },
    async getMany(names) {
      // One read for the whole load: one query of the latest version of every name.
      const { loaded, key } = await open({ names, latest: true });
      const out = new Map<string, string | Error>();
      for (const name of names) {
        try {
          const value = read(loaded, key, name, undefined);
          if (value !== undefined) out.set(name, value);
        } catch (error) {
          out.set(name, toEnvmuxError(error, { provider: id, key: name }));
        }
      }
      return out;
    },
    async set(name, value, ctx = {}) {
      checkName(name);
      if (typeof value !== 'string')
        throw new EnvmuxError('CONFIG', `the value of "${name}" is not a string`, { provider: id });
      return update(
        (loaded, key) => {
          const list = loaded.byName.get(name) ?? [];
          const previous = list[list.length - 1];
          const description =
            ctx.description === undefined ? previous?.description : ctx.description || undefined;
          const metadata = withActor(
            metadataToStore(ctx.metadata, previous?.metadata),
            ctx.actor ?? currentActor(),
          );
          const version = (previous?.version ?? 0) + 1;
          const record = sealRecord(
            key,
            loaded.doc.header,
            {
              name,
              version,
              created: new Date(now()).toISOString(),
              ...(ctx.expiresAt ? { expires: ctx.expiresAt.toISOString() } : {}),
              ...(description !== undefined ? { description } : {}),
              ...(metadata ? { metadata: { ...metadata } } : {}),
            },
            value,
          );
          return {
            doc: { header: loaded.doc.header, records: [...loaded.doc.records, record] },
            result: { version: String(version) },
          };
        },
        ctx.signal,
        [name],
        true,
        true,
      );
    },
    async delete(name, ctx = {}) {
      checkName(name);
      await update(
        (loaded) => {
          if (!loaded.byName.has(name)) return { result: undefined };
          return {
            doc: {
              header: loaded.doc.header,
              records: loaded.doc.records.filter((r) => r.name !== name),
            },
            result: undefined,
          };
        },
        ctx.signal,
        [name],
      );
    },
    async deleteVersion(name, version) {
      checkName(name);
      await update(
        (loaded) => {
          const record = pick(loaded.byName.get(name), version, name, id);
          if (!record) {
            throw new EnvmuxError('NOT_FOUND', `"${name}" has no version ${version}`, {
              key: name,
              provider: id,
            });
          }
          return {
            doc: {
              header: loaded.doc.header,
              records: loaded.doc.records.filter((r) => r !== record),
            },
            result: undefined,
          };
        },
        undefined,
        [name],
      );
      audit('delete', name, 'ok');
    },
    async list(prefix = '') {
      const { loaded } = await open({ values: false });
      const out: SecretInfo[] = [];
      for (const [name, list] of loaded.byName) {
        if (!name.startsWith(prefix)) continue;
        const latest = list[list.length - 1]!;
        out.push({
          name,
          version: String(latest.version),
          created: new Date(list[0]!.created),
          updated: new Date(latest.created),
          ...(latest.expires ? { expires: new Date(latest.expires) } : {}),
          ...(latest.description !== undefined ? { description: latest.description } : {}),
          ...(latest.metadata ? { metadata: { ...latest.metadata } } : {}),
        });
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async versions(name) {
      const { loaded } = await open({ names: [name], values: false });
      const list = loaded.byName.get(name) ?? [];
      const t = now();
      return list.map((r, i): LocalVersionInfo => {
        const expired = !!r.expires && Date.parse(r.expires) <= t;
        return {
          version: String(r.version),
          created: new Date(r.created),
          stages: i === list.length - 1 ? ['latest'] : i === list.length - 2 ? ['previous'] : [],
          enabled: !expired,
          ...(r.expires ? { expires: new Date(r.expires), expired } : {}),
          ...(r.description !== undefined ? { description: r.description } : {}),
          ...(r.metadata?.[ACTOR_METADATA] ? { updatedBy: r.metadata[ACTOR_METADATA] } : {}),
          ...(r.metadata ? { metadata: { ...r.metadata } } : {}),
        };
      });
    },
    async restore(name, version) {
      checkName(name);
      try {
        const result = await update(
          (loaded, key) => {
            const list = loaded.byName.get(name);
            const source = pick(list, version, name, id);
            if (!source || !list) {
              throw new EnvmuxError('NOT_FOUND', `"${name}" has no version ${version}`, {
                key: name,
                provider: id,
              });
            }
            const value = openRecord(key, loaded.doc.header, source, path, id);
            const latest = list[list.length - 1]!;
            const next = latest.version + 1;
            const record = sealRecord(
              key,
              loaded.doc.header,
              {
                name,
                version: next,
                created: new Date(now()).toISOString(),
                ...(source.description !== undefined ? { description: source.description } : {}),
                metadata: withActor(source.metadata, currentActor()),
              },
              value,
            );
            return {
              doc: { header: loaded.doc.header, records: [...loaded.doc.records, record] },
              result: { version: String(next) },
            };
          },
          undefined,
          [name],
        );
        audit('set', name, 'ok');
        return result;
      } catch (error) {
        const e = toEnvmuxError(error, { provider: id });
        audit('set', name, 'error', e.code);
        throw e;
      }
    },
    async cleanup(cleanupOptions = {}) {
      const keep = cleanupOptions.keep;
      const removed = await update((loaded) => {
        const t = now();
        const items: CleanupItem[] = [];
        const drop = new Set<VaultRecord>();
        for (const [name, list] of loaded.byName) {
          list.forEach((r, i) => {
            if (r.expires && Date.parse(r.expires) <= t) {
              drop.add(r);
              items.push({ name, version: String(r.version), reason: 'expired' });
            } else if (keep !== undefined && i < list.length - keep) {
              drop.add(r);
              items.push({ name, version: String(r.version), reason: 'beyond-keep' });
            }
          });
        }
        if (!drop.size || cleanupOptions.dryRun) return { result: items };
        return {
          doc: {
            header: loaded.doc.header,
            records: loaded.doc.records.filter((r) => !drop.has(r)),
          },
          result: items,
        };
      });
      if (!cleanupOptions.dryRun) for (const item of removed) audit('delete', item.name, 'ok');
      return removed;
    },
    async rotateKey(rotate = {}) {
      let kdf: VaultHeader['kdf'];
      let newKey: Buffer;
      let slot: string | undefined;
      if (rotate.passphrase !== undefined) {
        if (!rotate.passphrase)
          throw new EnvmuxError('CONFIG', 'the new passphrase is empty', { provider: id });
        kdf = {
          name: 'argon2id',
          memory: rotate.kdf?.memory ?? DEFAULT_ARGON2.memory,
          iterations: rotate.kdf?.iterations ?? DEFAULT_ARGON2.iterations,
          parallelism: rotate.kdf?.parallelism ?? DEFAULT_ARGON2.parallelism,
          salt: nodeCrypto().randomBytes(16).toString('base64'),
        };
        checkArgon2Request(kdf, `vault ${shownPath(path)}`);
        const password = passphraseBytes(rotate.passphrase);
        vaultKeyStore().derivations++;
        newKey = await argon2id(password, kdf);
        slot = derivedKeySlot(path, kdf, password);
        password.fill(0);
      } else {
        kdf = { name: 'none' };
        newKey = rotate.key ? parseRawKey(rotate.key, 'the new key') : generateKey();
      }
      const keyFile = rotate.keyFile ? resolve(cwd, rotate.keyFile) : undefined;
      try {
        const records = await update((loaded, oldKey) => {
          const header: VaultHeader = { ...loaded.doc.header, kdf, check: '' };
          header.check = makeCheck(newKey, header);
          const resealed = loaded.doc.records.map((r) => {
            const value = openRecord(oldKey, loaded.doc.header, r, path, id);
            return sealRecord(newKey, header, metaOf(r), value);
          });
          // Stage the new key first: a crash after the vault is replaced still finds it in `.next`.
          if (keyFile) writeFileAtomicSync(nextKeyFile(keyFile), formatRawKey(newKey), 0o600);
          return {
            doc: { header, records: resealed },
            result: resealed.length,
            after: keyFile ? () => renameSync(nextKeyFile(keyFile), keyFile) : undefined,
          };
        });
        forgetDerivedKeys(path);
        removeSession(path, env);
        if (slot) vaultKeyStore().keys.set(slot, Buffer.from(newKey));
        const loaded = await storage.load({ names: [] });
        adopt(
          {
            key: Buffer.from(newKey),
            source: keyFile
              ? `key file ${shownPath(keyFile)}`
              : rotate.passphrase !== undefined
                ? 'the new passphrase'
                : 'the new key',
          },
          loaded.doc.header,
        );
        audit('rotate', '*', 'ok');
        return { records, kdf: kdf.name, key: newKey, ...(keyFile ? { keyFile } : {}) };
      } catch (error) {
        const e = toEnvmuxError(error, { provider: id });
        audit('rotate', '*', 'error', e.code);
        throw e;
      }
    },
    async unlock(credential) {
      locked = false;
      try {
        // The file is verified whole; a database's header alone (its rows are verified as read).
        const loaded = await storage.load(storage.loadSync ? undefined : { names: [] });
        const header = loaded.doc.header;
        if (credential?.key !== undefined || credential?.passphrase !== undefined) {
          const opened = await openKey(header, {
            ...settings,
            key: credential.key,
            keyFile: undefined,
            passphrase: credential.passphrase,
          });
          adopt(opened, header);
        } else {
          await keyFor(loaded);
        }
        verifyAll(loaded, held!.key);
        scheduleAutoLock();
        audit('auth', undefined, 'ok');
      } catch (error) {
        const e = toEnvmuxError(error, { provider: id });
        audit('auth', undefined, 'error', e.code);
        throw e;
      }
    },
    lock() {
      locked = true;
      wipe();
      forgetDerivedKeys(path);
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    startSession(idleMs = DEFAULT_SESSION_IDLE_MS) {
      // A database vault: the key unlock() opened (it verified it against the header's check).
      const { check, key } = storage.loadSync
        ? (({ loaded, key }) => ({ check: loaded.doc.header.check, key }))(openSync())
        : (held ??
          (() => {
            throw lockedError();
          })());
      const at = writeSession(path, check, key, idleMs, env);
      audit('auth', undefined, 'ok');
      return at;
    },
    async info() {
      const loaded = await storage.load({ values: false });
      const { kdf } = loaded.doc.header;
      return {
        path,
        format: loaded.doc.header.format,
        kdf:
          kdf.name === 'none'
            ? { name: 'none' }
            : {
                name: 'argon2id',
                memory: kdf.memory,
                iterations: kdf.iterations,
                parallelism: kdf.parallelism,
              },
        names: loaded.byName.size,
        records: loaded.doc.records.length,
        ...(held ? { keySource: held.source } : {}),
        locked,
      };
    },
    async health() {
      try {
        await open({ names: [] });
        return { ok: true };
      } catch (error) {
        return { ok: false, detail: toEnvmuxError(error, { provider: id }).code };
      }
    },
    async close() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      wipe();
      releaseAuditTable?.();
      await storage.close?.();
    },
  };
  return provider;
}

/** The key file `rotate-key` should replace for this configuration, if the key comes from one. */
export function configuredKeyFile(
  options: Pick<LocalProviderOptions, 'path' | 'cwd' | 'env' | 'keyFile'> = {},
): string {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  return keyFileFrom(env, vaultPathFrom(env, cwd, options.path), cwd, options.keyFile);
}

/** The folder of a vault (for tools that put files beside it). */
export function vaultDir(options: Pick<LocalProviderOptions, 'path' | 'cwd' | 'env'> = {}): string {
  return dirname(
    vaultPathFrom(options.env ?? process.env, options.cwd ?? process.cwd(), options.path),
  );
}

/** Whether `local(options)` can open its key without an asynchronous Argon2id derivation. */
export function canOpenLocalSync(
  options: Pick<
    LocalProviderOptions,
    'path' | 'cwd' | 'env' | 'key' | 'keyFile' | 'passphrase' | 'session'
  > = {},
): boolean {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  // A database vault is read asynchronously only: the preload's worker reads it.
  if (!options.path && isVaultUrl(env.ENVMUX_VAULT_URL)) return false;
  return !mayNeedAsyncUnlock({
    key: options.key,
    keyFile: options.keyFile,
    passphrase: options.passphrase,
    env,
    cwd,
    vaultPath: vaultPathFrom(env, cwd, options.path),
    session: options.session ?? true,
    insecureKeyFile: false,
  });
}

/**
 * A vault provider whose key is already open (a passphrase derived, asynchronously, once per
 * process), so `getSync` works at once. Opening problems are not thrown here: the first read
 * reports them with the key it was for.
 */
export async function openLocal(options: LocalProviderOptions = {}): Promise<LocalProvider> {
  const provider = local(options);
  try {
    await provider.unlock();
  } catch {
    // Reported by the first read, per key.
  }
  return provider;
}
