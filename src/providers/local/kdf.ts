// Argon2id for passphrase vaults, behind one function: Node's crypto.argon2 where the runtime has it
// (Node ≥ 24.7), hash-wasm otherwise (identical output, tested). Derived keys are cached once per
// process, in a process-wide map, so a passphrase is stretched once whatever the number of secrets.
// Never logs, and never keeps a passphrase: only keys derived from it.

import { nodeCrypto } from '../../crypto/lazy-crypto.js';
import { EnvmuxError } from '../../errors.js';
import type { Argon2Params } from './format.js';

/** RFC 9106's second recommended option: 64 MiB, t=3, p=4. */
export const DEFAULT_ARGON2 = { memory: 64 * 1024, iterations: 3, parallelism: 4 } as const;

/**
 * The Argon2id parameters envmux accepts, in a header it reads and in `vault init`/`rotate-key`
 * (docs/architecture.md, "Limits"): every start of a passphrase vault pays one derivation, so a
 * header edited to absurd costs must not take minutes or gigabytes. Memory in KiB.
 */
export const ARGON2_BOUNDS = {
  /** Argon2's own minimum is 8 KiB per lane. */
  minMemoryPerLane: 8,
  maxMemory: 512 * 1024,
  maxIterations: 16,
  maxParallelism: 16,
  /** memory × iterations, in KiB: 1 GiB-pass (64 MiB × 16, 512 MiB × 2). */
  maxWork: 1024 * 1024,
} as const;

/** The CONFIG error for `vault init`/`rotate-key` asked for costs outside the bounds. */
export function checkArgon2Request(
  params: Pick<Argon2Params, 'memory' | 'iterations' | 'parallelism'>,
  what: string,
): void {
  const problem = argon2BoundsProblem(params);
  if (!problem) return;
  const b = ARGON2_BOUNDS;
  throw new EnvmuxError('CONFIG', `${problem} (${what})`, {
    hint: `use at most --kdf-memory ${b.maxMemory / 1024}, --kdf-iterations ${b.maxIterations}, --kdf-parallelism ${b.maxParallelism} and memory × iterations ≤ ${b.maxWork / 1024} MiB; the default is ${DEFAULT_ARGON2.memory / 1024} MiB, t=${DEFAULT_ARGON2.iterations}, p=${DEFAULT_ARGON2.parallelism}`,
  });
}

/** Why `params` are outside {@link ARGON2_BOUNDS}, or `undefined` when they are inside. */
export function argon2BoundsProblem(
  params: Pick<Argon2Params, 'memory' | 'iterations' | 'parallelism'>,
): string | undefined {
  const { memory, iterations, parallelism } = params;
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
  const b = ARGON2_BOUNDS;
  if (!int(parallelism) || parallelism > b.maxParallelism)
    return `Argon2id parallelism ${parallelism} is outside 1..${b.maxParallelism}`;
  if (!int(iterations) || iterations > b.maxIterations)
    return `Argon2id iterations ${iterations} are outside 1..${b.maxIterations}`;
  if (!int(memory) || memory < b.minMemoryPerLane * parallelism || memory > b.maxMemory)
    return `Argon2id memory ${memory} KiB is outside ${b.minMemoryPerLane * parallelism} KiB..${b.maxMemory / 1024} MiB`;
  if (memory * iterations > b.maxWork)
    return `Argon2id memory × iterations (${Math.round(memory / 1024)} MiB × ${iterations}) exceeds ${b.maxWork / 1024} MiB`;
  return undefined;
}

/** crypto.argon2 / argon2Sync (Node ≥ 24.7); absent from older runtimes and their typings. */
interface NativeArgon2Params {
  message: Uint8Array;
  nonce: Uint8Array;
  parallelism: number;
  tagLength: number;
  memory: number;
  passes: number;
}
interface NativeArgon2 {
  argon2?: (
    algorithm: 'argon2id',
    params: NativeArgon2Params,
    callback: (error: Error | null, key: Buffer) => void,
  ) => void;
  argon2Sync?: (algorithm: 'argon2id', params: NativeArgon2Params) => Buffer;
}

const native = () => nodeCrypto() as unknown as NativeArgon2;

/** Which Argon2id implementation runs here. */
export type Argon2Implementation = 'native' | 'hash-wasm';

/** The implementation `deriveKey` uses on this runtime. */
export function argon2Implementation(): Argon2Implementation {
  return typeof native().argon2 === 'function' ? 'native' : 'hash-wasm';
}

/** Whether a key can be derived synchronously here (the register preload then needs no worker). */
export function canDeriveSync(): boolean {
  return typeof native().argon2Sync === 'function';
}

/** The passphrase's bytes: UTF-8 of its NFC form, so one passphrase typed on any OS gives one key. */
export function passphraseBytes(passphrase: string): Buffer {
  return Buffer.from(passphrase.normalize('NFC'), 'utf8');
}

function nativeParams(password: Uint8Array, params: Argon2Params): NativeArgon2Params {
  return {
    message: password,
    nonce: Buffer.from(params.salt, 'base64'),
    parallelism: params.parallelism,
    tagLength: 32,
    memory: params.memory,
    passes: params.iterations,
  };
}

/**
 * Argon2id(password, salt) → 32 bytes with the given implementation (default: the fastest here).
 * hash-wasm blocks the event loop while it runs (LIBRARIES.md); native runs on the thread pool.
 */
export async function argon2id(
  password: Uint8Array,
  params: Argon2Params,
  implementation: Argon2Implementation = argon2Implementation(),
): Promise<Buffer> {
  if (implementation === 'native') {
    const argon2 = native().argon2;
    if (!argon2) throw new Error('crypto.argon2 is not available on this runtime');
    return new Promise((resolve, reject) =>
      argon2('argon2id', nativeParams(password, params), (error, key) =>
        error ? reject(error) : resolve(key),
      ),
    );
  }
  const { argon2id: wasm } = await import('hash-wasm');
  const key = await wasm({
    password,
    salt: Buffer.from(params.salt, 'base64'),
    parallelism: params.parallelism,
    iterations: params.iterations,
    memorySize: params.memory,
    hashLength: 32,
    outputType: 'binary',
  });
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** Argon2id synchronously; `undefined` when the runtime has no crypto.argon2Sync. */
export function argon2idSync(password: Uint8Array, params: Argon2Params): Buffer | undefined {
  return native().argon2Sync?.('argon2id', nativeParams(password, params));
}

/** The process-wide state: derived keys by vault + parameters + passphrase, and a derivation count. */
interface VaultKeyStore {
  keys: Map<string, Buffer>;
  pending: Map<string, Promise<Buffer>>;
  derivations: number;
}

const GLOBAL = Symbol.for('envmux.vault-keys');

/** One store per process, even with the ESM and CJS builds both loaded. */
export function vaultKeyStore(): VaultKeyStore {
  const g = globalThis as { [GLOBAL]?: VaultKeyStore };
  g[GLOBAL] ??= { keys: new Map(), pending: new Map(), derivations: 0 };
  return g[GLOBAL];
}

/** How many Argon2id derivations this process ran (for tests and benchmarks). */
export function derivationCount(): number {
  return vaultKeyStore().derivations;
}

/**
 * The cache slot of a derived key: vault path, salt and cost parameters, and a SHA-256 of the
 * passphrase (so a different passphrase never gets another's key from the cache).
 */
export function derivedKeySlot(
  vaultPath: string,
  params: Argon2Params,
  password: Uint8Array,
): string {
  const digest = nodeCrypto().createHash('sha256').update(password).digest('base64');
  return `${vaultPath}\0${params.salt}\0${params.memory},${params.iterations},${params.parallelism}\0${digest}`;
}

/**
 * The key for `password`: from the process-wide cache, else derived once (concurrent callers share
 * one derivation). `verify` decides whether the key opens the vault; only then is it cached.
 */
export async function deriveKey(
  slot: string,
  password: Uint8Array,
  params: Argon2Params,
  verify: (key: Buffer) => boolean,
): Promise<Buffer | undefined> {
  const store = vaultKeyStore();
  const cached = store.keys.get(slot);
  if (cached) return cached;
  let pending = store.pending.get(slot);
  if (!pending) {
    store.derivations++;
    pending = argon2id(password, params);
    store.pending.set(slot, pending);
  }
  try {
    const key = await pending;
    if (!verify(key)) return undefined;
    store.keys.set(slot, key);
    return key;
  } finally {
    store.pending.delete(slot);
  }
}

/** {@link deriveKey} synchronously (native Argon2id only); `null` when this runtime cannot. */
export function deriveKeySync(
  slot: string,
  password: Uint8Array,
  params: Argon2Params,
  verify: (key: Buffer) => boolean,
): Buffer | undefined | null {
  const store = vaultKeyStore();
  const cached = store.keys.get(slot);
  if (cached) return cached;
  if (!canDeriveSync()) return null;
  store.derivations++;
  const key = argon2idSync(password, params)!;
  if (!verify(key)) return undefined;
  store.keys.set(slot, key);
  return key;
}

/** Forget (and zero) every derived key of `vaultPath`: after a lock or a key rotation. */
export function forgetDerivedKeys(vaultPath: string): void {
  const store = vaultKeyStore();
  for (const [slot, key] of store.keys) {
    if (slot.startsWith(`${vaultPath}\0`)) {
      key.fill(0);
      store.keys.delete(slot);
    }
  }
}
