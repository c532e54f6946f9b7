// Where a local vault's envelope is kept: the seam between the envelope (records, AES-256-GCM with
// AAD, versions, expiry, key check, rotation — local.ts) and its storage (a file, or PostgreSQL).
// A storage moves sealed records only: it never sees a key or a plaintext value.

import type { AuditEntry } from '../../audit/audit-log.js';
import type { LockOptions } from './lock-file.js';
import { type LoadedVault, type VaultChange, VaultFile } from './vault-file.js';

/** Which records a load or an update covers. */
export interface VaultScope {
  /** Only these names (default: the whole vault). */
  names?: string[];
  /** Only the latest version of each name (reads of the latest value). */
  latest?: boolean;
  /**
   * `false`: the records without their sealed values (no nonce, no data; nothing to decrypt), for
   * list and versions. The result then has `valuesOmitted`. A file storage ignores it (read whole).
   */
  values?: boolean;
}

/** Options of {@link VaultStorage.update}. */
export interface VaultUpdateOptions extends LockOptions {
  /**
   * The names the change reads and writes; absent = the whole vault (cleanup, key rotation), which
   * excludes every other writer for the update's duration.
   */
  names?: string[];
  /** With `names`: the change needs only their latest versions (a set). */
  latest?: boolean;
  /**
   * The change only appends one new version of one name (a set). The database storage then applies
   * it without a transaction: one read, then one statement that inserts under the locks and fails
   * over to a fresh read when another writer or a key rotation got there first.
   */
  append?: boolean;
}

/** A vault's storage: load sealed records, apply a read-modify-write step atomically. */
export interface VaultStorage {
  readonly kind: 'file' | 'postgres';
  /** What messages and the provider identity name: the file path, or the URL without password. */
  readonly location: string;
  /** Whether a vault exists there. */
  exists(): Promise<boolean>;
  /** The header and the records in `scope` (one read: one file read, or one query). */
  load(scope?: VaultScope): Promise<LoadedVault>;
  /** {@link load} of the whole vault, synchronously: file storage only (the preload's path). */
  loadSync?(): LoadedVault;
  /**
   * Read-modify-write: `change` gets the current records in scope (never a cached copy) and returns
   * the new document of that scope, or none to write nothing. Writers of the same names take turns;
   * `after` runs once the change is durable.
   */
  update<T>(
    change: (current: LoadedVault) => Promise<VaultChange<T>> | VaultChange<T>,
    options?: VaultUpdateOptions,
  ): Promise<T>;
  /** Keep an audit entry where the storage has its own audit trail (the database's table). */
  audit?(entry: AuditEntry): void;
  close?(): Promise<void>;
}

/** The vault file (vault-file.ts) behind the storage interface; behaviour unchanged. */
export function fileStorage(path: string, provider?: string): VaultStorage {
  const file = new VaultFile(path, provider);
  return {
    kind: 'file',
    location: path,
    exists: async () => file.exists(),
    load: async () => file.load(),
    loadSync: () => file.load(),
    update: (change, options = {}) => {
      const { names: _names, latest: _latest, append: _append, ...lock } = options;
      return file.update(change, lock);
    },
  };
}

/** Whether a vault setting names a database rather than a file. */
export function isVaultUrl(value: string | undefined): value is string {
  return !!value && /^postgres(ql)?:\/\//i.test(value);
}
