// `memory` provider: an in-process store for tests and demos, with injectable latency, errors,
// outages and hangs, and call counters so tests can prove batching and caching.

import { EnvmuxError, type ErrorCode } from '../errors.js';
import type { Provider, ReadContext, VersionInfo } from './provider.js';

export interface MemoryProviderOptions {
  /** Chain id; default `memory`. */
  id?: string;
  /** Initial values; an array holds versions, oldest first (version ids are 1, 2, ...). */
  values?: Record<string, string | string[]>;
  /** Latency of every call in ms, or a function of the name(s). Default 0. */
  latency?: number | ((names: string[]) => number);
  /** Offer `getMany` (default true) with this many names per call (default 100). */
  batch?: boolean;
  batchSize?: number;
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
}

/** What a memory provider has been asked, for assertions. */
export interface MemoryCalls {
  get: number;
  getMany: number;
  /** Names requested through getMany, per call. */
  batches: string[][];
  set: number;
  delete: number;
}

export interface MemoryProvider extends Provider {
  readonly calls: MemoryCalls;
  /** Make reads of `name` (or of every name, with `'*'`) throw `code`; `undefined` heals it. */
  fail(name: string, code: ErrorCode | undefined): void;
  /** Every call throws `code` (default UNAVAILABLE) until `outage(false)`. */
  outage(code?: ErrorCode | false): void;
  /** Every call waits forever (ignoring its signal), until `hang(false)`. */
  hang(on?: boolean): void;
  /** Replace the latency. */
  setLatency(latency: MemoryProviderOptions['latency']): void;
  /** Zero the counters. */
  resetCalls(): void;
}

/** One version the memory store keeps: its value, when and by whom it was written, its metadata. */
interface MemoryVersion {
  value: string;
  created: Date;
  retired?: boolean;
  actor?: string;
  description?: string;
  metadata?: Record<string, string>;
}

/** An in-memory store. */
export function memory(options: MemoryProviderOptions = {}): MemoryProvider {
  const id = options.id ?? 'memory';
  // A retired version (deleteVersion of one that is not the latest) keeps its slot, so the numbers of
  // the others do not move; it reads as absent.
  const store = new Map<string, MemoryVersion[]>();
  for (const [name, value] of Object.entries(options.values ?? {})) {
    store.set(
      name,
      (Array.isArray(value) ? value : [value]).map((v) => ({ value: v, created: new Date() })),
    );
  }
  let latency = options.latency ?? 0;
  const failures = new Map<string, ErrorCode>();
  let outageCode: ErrorCode | undefined;
  let hanging = false;
  const calls: MemoryCalls = { get: 0, getMany: 0, batches: [], set: 0, delete: 0 };

  const enter = async (names: string[], signal?: AbortSignal) => {
    if (hanging) await new Promise(() => {});
    const ms = typeof latency === 'function' ? latency(names) : latency;
    if (ms > 0) await sleep(ms, signal);
    if (outageCode)
      throw new EnvmuxError(outageCode, `memory provider "${id}" is out (injected)`, {
        provider: id,
      });
    for (const name of names) {
      const code = failures.get(name) ?? failures.get('*');
      if (code) throw new EnvmuxError(code, `injected ${code} for "${name}"`, { provider: id });
    }
  };

  const read = (name: string, ctx: ReadContext): string | undefined => {
    const versions = store.get(name);
    if (!versions?.length) return undefined;
    const v = ctx.version;
    const at = (i: number) => (versions[i]?.retired ? undefined : versions[i]?.value);
    if (v === undefined || v === 'latest') return at(versions.length - 1);
    if (v === 'previous') return at(versions.length - 2);
    // Version ids are exactly 1, 2, ...: not ` 2`, `0x2` or `2e0`.
    return /^[1-9]\d{0,8}$/.test(v) ? at(Number(v) - 1) : undefined;
  };

  const provider: MemoryProvider = {
    id,
    type: 'memory',
    // No `identity`: each instance is its own store, so a shared cache tier gives it a random one
    // of its own when it needs it (drawing it here would load node:crypto at every start).
    ttl: options.ttl,
    batchSize: options.batchSize ?? 100,
    calls,
    async get(name, ctx) {
      calls.get++;
      await enter([name], ctx.signal);
      return read(name, ctx);
    },
    async set(name, value, ctx) {
      calls.set++;
      await enter([name], ctx.signal);
      const versions = store.get(name) ?? [];
      const previous = versions[versions.length - 1];
      const description = ctx.description ?? previous?.description;
      const metadata = ctx.metadata ?? previous?.metadata;
      versions.push({
        value,
        created: new Date(),
        ...(ctx.actor ? { actor: ctx.actor } : {}),
        ...(description ? { description } : {}),
        ...(metadata && Object.keys(metadata).length ? { metadata: { ...metadata } } : {}),
      });
      store.set(name, versions);
      return { version: String(versions.length) };
    },
    async delete(name, ctx) {
      calls.delete++;
      await enter([name], ctx.signal);
      store.delete(name);
    },
    async deleteVersion(name, version, ctx = {}) {
      calls.delete++;
      await enter([name], ctx.signal);
      const versions = store.get(name);
      const n = Number(version);
      if (
        !versions ||
        !Number.isInteger(n) ||
        n < 1 ||
        !versions[n - 1] ||
        versions[n - 1]!.retired
      ) {
        throw new EnvmuxError('NOT_FOUND', `"${name}" has no version ${version}`, {
          key: name,
          provider: id,
        });
      }
      if (n === versions.length) {
        versions.pop();
        while (versions.length && versions[versions.length - 1]!.retired) versions.pop();
        if (!versions.length) store.delete(name);
      } else versions[n - 1] = { ...versions[n - 1]!, value: '', retired: true };
    },
    async list(prefix, ctx) {
      await enter([], ctx.signal);
      return [...store.keys()]
        .filter((name) => name.startsWith(prefix))
        .sort()
        .map((name) => {
          const versions = store.get(name)!;
          const latest = versions[versions.length - 1]!;
          return {
            name,
            version: String(versions.length),
            created: versions[0]!.created,
            updated: latest.created,
            ...(latest.description ? { description: latest.description } : {}),
            ...(latest.metadata ? { metadata: { ...latest.metadata } } : {}),
          };
        });
    },
    async versions(name, ctx) {
      await enter([name], ctx.signal);
      const versions = store.get(name) ?? [];
      return versions.flatMap((v, i): VersionInfo[] =>
        v.retired
          ? []
          : [
              {
                version: String(i + 1),
                created: v.created,
                stages:
                  i === versions.length - 1
                    ? ['latest']
                    : i === versions.length - 2
                      ? ['previous']
                      : [],
                ...(v.actor ? { updatedBy: v.actor } : {}),
                ...(v.description ? { description: v.description } : {}),
                ...(v.metadata ? { metadata: { ...v.metadata } } : {}),
              },
            ],
      );
    },
    async health() {
      return { ok: !outageCode && !hanging };
    },
    fail(name, code) {
      if (code) failures.set(name, code);
      else failures.delete(name);
    },
    outage(code = 'UNAVAILABLE') {
      outageCode = code || undefined;
    },
    hang(on = true) {
      hanging = on;
    },
    setLatency(next) {
      latency = next ?? 0;
    },
    resetCalls() {
      Object.assign(calls, { get: 0, getMany: 0, batches: [], set: 0, delete: 0 });
    },
  };
  if (options.batch !== false) {
    (provider as { getMany?: Provider['getMany'] }).getMany = async (names, ctx) => {
      calls.getMany++;
      calls.batches.push([...names]);
      await enter(names, ctx.signal);
      const found = new Map<string, string>();
      for (const name of names) {
        const value = read(name, ctx);
        if (value !== undefined) found.set(name, value);
      }
      return found;
    };
  }
  return provider;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
