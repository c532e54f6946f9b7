// Reading and replacing one vault file: a parsed copy kept while the file is unchanged (by stat),
// and writes as read-modify-replace under the writers' lock, atomically and durably (temp, fsync,
// rename, fsync dir), 0600. Knows nothing of keys; never writes a file it could not parse.

import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EnvmuxError, type ErrorCode, isEnvmuxError } from '../../errors.js';
import { writeFileAtomicSync } from '../../files/atomic-write.js';
import { fileSystemProblem } from '../../files/fs-problem.js';
import { parseVault, serializeVault, shownPath, type VaultDocument } from './format.js';
import { acquireLock, type LockOptions } from './lock-file.js';
import { lockFileOf } from './paths.js';

/** A parsed vault and the file state it was read from. */
export interface LoadedVault {
  doc: VaultDocument;
  /** Records by name, oldest version first. */
  byName: Map<string, VaultDocument['records']>;
  /** Identifies the file's content version (inode, size, mtime). */
  signature: string;
  /** The records carry no sealed values (a `values: false` load): metadata only. */
  valuesOmitted?: boolean;
}

function index(doc: VaultDocument): Map<string, VaultDocument['records']> {
  const byName = new Map<string, VaultDocument['records']>();
  for (const record of doc.records) {
    const list = byName.get(record.name);
    if (list) list.push(record);
    else byName.set(record.name, [record]);
  }
  return byName;
}

/** What a read-modify-replace step decided. */
export interface VaultChange<T> {
  doc?: VaultDocument;
  result: T;
  after?: () => void;
}

/** The error for a vault that does not exist. */
export function missingVault(path: string, provider?: string): EnvmuxError {
  return new EnvmuxError('CONFIG', `no vault at ${shownPath(path)}`, {
    file: path,
    provider,
    hint: 'create one with `envmux vault init`, or point ENVMUX_VAULT_PATH at it',
  });
}

/** One vault file on disk. */
export class VaultFile {
  private cached: LoadedVault | undefined;
  /** Set after a check, until the current synchronous turn ends. */
  private sameTurn = false;

  constructor(
    readonly path: string,
    private readonly provider?: string,
  ) {}

  /** Stat signature, or undefined when the file does not exist. */
  private signature(): string | undefined {
    try {
      // Not { bigint: true }: its first use costs ~1 ms of start-up; mtimeMs keeps sub-ms digits,
      // and every replacement is a rename, so the inode changes too.
      const s = statSync(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fileSystemProblem(error, 'vault', shownPath(this.path), {
        file: this.path,
        ...(this.provider ? { provider: this.provider } : {}),
      });
    }
  }

  /** Whether the file exists. */
  exists(): boolean {
    return this.signature() !== undefined;
  }

  /** The current vault (re-read only when the file changed). Throws CONFIG when absent. */
  load(): LoadedVault {
    // Reads in one synchronous turn (the preload resolving every reference) share one stat.
    if (this.cached && this.sameTurn) return this.cached;
    const signature = this.signature();
    if (signature === undefined) throw missingVault(this.path, this.provider);
    const loaded = this.cached?.signature === signature ? this.cached : this.readFresh(signature);
    this.sameTurn = true;
    queueMicrotask(() => {
      this.sameTurn = false;
    });
    return loaded;
  }

  private readFresh(signature?: string): LoadedVault {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw missingVault(this.path, this.provider);
      throw fileSystemProblem(error, 'vault', shownPath(this.path), {
        file: this.path,
        ...(this.provider ? { provider: this.provider } : {}),
      });
    }
    const doc = parseVault(text, this.path, this.provider);
    const loaded = { doc, byName: index(doc), signature: signature ?? this.signature() ?? '' };
    this.cached = loaded;
    return loaded;
  }

  /** Replace the file with `doc` (atomic, durable, 0600). Call only while holding the lock. */
  write(doc: VaultDocument): LoadedVault {
    writeFileAtomicSync(this.path, serializeVault(doc), 0o600);
    return this.readFresh();
  }

  /**
   * Read-modify-replace under the writers' lock: `change` gets the vault as it is on disk now
   * (never a cached copy) and returns the new document, or none to write nothing; `after` runs once
   * the new file is in place, still under the lock.
   */
  async update<T>(
    change: (current: LoadedVault) => Promise<VaultChange<T>> | VaultChange<T>,
    lock: LockOptions = {},
  ): Promise<T> {
    try {
      return await this.updateLocked(change, lock);
    } catch (error) {
      throw writeFailure(error, this.path, this.provider);
    }
  }

  private async updateLocked<T>(
    change: (current: LoadedVault) => Promise<VaultChange<T>> | VaultChange<T>,
    lock: LockOptions,
  ): Promise<T> {
    const held = await acquireLock(lockFileOf(this.path), {
      what: `vault ${shownPath(this.path)}`,
      ...lock,
    });
    try {
      removeOrphanTemps(this.path);
      const current = this.readFresh();
      const { doc, result, after } = await change(current);
      // A caller that gave up (timeout, deadline) must not have its write land afterwards.
      lock.signal?.throwIfAborted();
      if (doc) this.write(doc);
      after?.();
      return result;
    } finally {
      held.release();
    }
  }
}

const WRITE_FAILURES: Record<string, [ErrorCode, string, string]> = {
  ENOSPC: ['UNAVAILABLE', 'the disk is full', 'free some space; the vault is unchanged'],
  EDQUOT: ['UNAVAILABLE', 'the disk quota is exceeded', 'free some space; the vault is unchanged'],
  EROFS: [
    'ACCESS_DENIED',
    'the file system is read-only',
    'write from a machine where the vault is writable',
  ],
  EACCES: ['ACCESS_DENIED', 'permission denied', 'check the owner and mode of the vault folder'],
  EPERM: [
    'ACCESS_DENIED',
    'operation not permitted',
    'check the owner and mode of the vault folder',
  ],
};

/** A file-system error while writing the vault, as a coded error naming it (the vault is unchanged). */
function writeFailure(error: unknown, path: string, provider?: string): unknown {
  if (isEnvmuxError(error)) return error;
  const errno = (error as NodeJS.ErrnoException)?.code ?? '';
  const [code, what, hint] = WRITE_FAILURES[errno] ?? [
    'UNAVAILABLE',
    `the write failed${errno ? ` (${errno})` : ''}`,
    'the vault is unchanged; try again',
  ];
  return new EnvmuxError(code, `cannot write vault ${shownPath(path)}: ${what}`, {
    file: path,
    provider,
    hint,
    cause: error,
    retryable: false,
  });
}

/** Whether `pid` is a live process here. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove temp files a killed writer left beside the vault (`.vault.json.<pid>.<hex>.tmp`, lock
 * temps): only those whose process is gone, so a live writer's temp file is never touched.
 */
export function removeOrphanTemps(vaultPath: string): void {
  const dir = dirname(vaultPath);
  const base = basename(vaultPath);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (
      !name.endsWith('.tmp') ||
      !(name.startsWith(`.${base}.`) || name.startsWith(`${base}.lock`))
    )
      continue;
    const m = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}
