// Copy secrets between two stores of one resolver (`envmux copy`): list the source, map names,
// compare SHA-256 digests with the destination's current value, write only what is missing or
// different; with `allVersions`, the source's whole history oldest first. Resumable: a re-run after a
// failure writes only what the first run did not. Never puts a value in the report, an error or a
// progress event.

import { EnvmuxError, type ErrorCode, isEnvmuxError, toEnvmuxError } from '../errors.js';
import type { SecretInfo, VersionInfo, WriteContext } from '../providers/provider.js';
import type { Resolver } from '../resolver/client.js';
import { createLimiter } from '../resolver/limit.js';
import { digestOf } from './digest.js';
import { createRenamer, type RenameRule } from './name-mapping.js';
import { keepsVersions, oldestFirst } from './version-history.js';

/** What a copy does with one secret. */
export type CopyAction = 'create' | 'update' | 'skip';

/** One secret of a copy plan or report. */
export interface CopyItem {
  /** Name in the source store. */
  source: string;
  /** Name in the destination store (after `rename`). */
  target: string;
  action: CopyAction;
  /** Why an item is skipped: the destination already holds the same value, or (skip-existing) a different one. */
  reason?: 'unchanged' | 'exists';
  /** `planned` in a dry run; `done` once written (or skipped); `failed` with `error`. */
  status: 'planned' | 'done' | 'failed';
  /** With `verify`: whether the destination read back with the source's digest. */
  verified?: boolean;
  /** With `allVersions`: versions written (or, in a dry run, to write), oldest first. */
  versions?: number;
  error?: { code: ErrorCode; message: string };
}

/** Counts of a copy, by outcome. */
export interface CopyCounts {
  total: number;
  create: number;
  update: number;
  skip: number;
  failed: number;
  verified: number;
  /** Versions written (or planned): one per created/updated secret, more with `allVersions`. */
  versions: number;
}

export interface CopyReport {
  from: string;
  to: string;
  dryRun: boolean;
  mode: 'skip-existing' | 'overwrite';
  /** Whether whole histories were copied (both stores keep versions and `allVersions` was asked). */
  allVersions: boolean;
  /** True when no item failed. */
  ok: boolean;
  counts: CopyCounts;
  items: CopyItem[];
}

/** Progress of a running copy (names only). */
export interface CopyProgress {
  done: number;
  total: number;
  item: CopyItem;
}

export interface CopyOptions {
  /** The resolver whose chain (or pinned types) holds both stores. */
  resolver: Resolver;
  /** Source provider id or type. */
  from: string;
  /** Destination provider id or type. */
  to: string;
  /** Copy only names starting with this (default: every name the source lists). */
  prefix?: string;
  /** Only names this predicate accepts (e.g. a glob), after `prefix`. */
  filter?: (name: string) => boolean;
  /** Name mapping rules (`old/*=new/*`), first match wins; unmatched names keep their name. */
  rename?: Array<RenameRule | string>;
  /**
   * `skip-existing` (default): a name the destination has is left alone. `overwrite`: a name whose
   * destination value differs is written. Equal values are never written again in either mode.
   */
  mode?: 'skip-existing' | 'overwrite';
  /** Plan only: read and compare, write nothing. */
  dryRun?: boolean;
  /** Read every written secret back and compare digests. */
  verify?: boolean;
  /**
   * Copy every version the source keeps, oldest first, with each version's metadata, when both
   * stores keep versions (else the latest only). A version the destination already holds in the
   * same order (same digest) is not written again. Default false: the latest value only.
   */
  allVersions?: boolean;
  /** Secrets in flight at once; default 32. */
  concurrency?: number;
  onProgress?: (progress: CopyProgress) => void;
  signal?: AbortSignal;
}

/**
 * Copy secrets from one store to another and report what happened to each (create, update, skip,
 * failed with a code). Failures do not stop the copy; the report's `ok` is false when any item
 * failed. Throws only when the source cannot be listed or the options are wrong.
 */
export async function copySecrets(options: CopyOptions): Promise<CopyReport> {
  const { resolver, from, to } = options;
  const mode = options.mode ?? 'skip-existing';
  if (mode !== 'skip-existing' && mode !== 'overwrite') {
    throw new EnvmuxError('CONFIG', `unknown copy mode "${String(mode)}"`, {
      hint: 'use skip-existing or overwrite',
    });
  }
  const rename = createRenamer(options.rename);
  const [source, target] = await Promise.all([
    resolver.list(options.prefix ?? '', { provider: from }),
    listIfPossible(resolver, to),
  ]);
  const sourceNames = [...new Set(source.map((s) => s.name))]
    .filter((name) => !options.filter || options.filter(name))
    .sort();
  const infos = new Map<string, SecretInfo>(source.map((s) => [s.name, s]));
  const targets = new Map<string, string>();
  for (const name of sourceNames) {
    const mapped = rename(name);
    const clash = targets.get(mapped);
    if (clash !== undefined) {
      throw new EnvmuxError(
        'CONFIG',
        `"${clash}" and "${name}" would both be copied to "${mapped}"`,
        {
          hint: 'change --rename so that every name maps to its own destination',
        },
      );
    }
    targets.set(mapped, name);
  }

  const allVersions =
    !!options.allVersions &&
    (await keepsVersions(resolver, from)) &&
    (await keepsVersions(resolver, to));
  const items: CopyItem[] = [];
  const limit = createLimiter(Math.max(1, options.concurrency ?? 32));
  // Source reads of the latest values start a window at a time (a history is read per name).
  const read = allVersions ? () => undefined : readAhead(sourceNames, options);
  let done = 0;
  await Promise.all(
    sourceNames.map((name, i) =>
      limit(async () => {
        const item = allVersions
          ? await copyHistory(name, rename(name), target, infos.get(name), mode, options)
          : await copyOne(name, rename(name), target, infos.get(name), mode, {
              ...options,
              read: read(i),
            });
        items.push(item);
        options.onProgress?.({ done: ++done, total: sourceNames.length, item });
      }),
    ),
  );
  items.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  const counts: CopyCounts = {
    total: items.length,
    create: 0,
    update: 0,
    skip: 0,
    failed: 0,
    verified: 0,
    versions: 0,
  };
  for (const item of items) {
    if (item.status === 'failed') counts.failed++;
    else counts[item.action]++;
    if (item.verified) counts.verified++;
    counts.versions +=
      item.versions ?? (item.action === 'skip' || item.status === 'failed' ? 0 : 1);
  }
  return {
    from,
    to,
    dryRun: !!options.dryRun,
    mode,
    allVersions,
    ok: counts.failed === 0,
    counts,
    items,
  };
}

/** Source reads started together per window, so the store's batch read fills (AWS: 20 a call). */
const READ_WINDOW = 100;

/**
 * `read(i)`: the source read of name `i`. The first item of a window starts the reads of the whole
 * window in one tick (items start in order), so at most one window of values waits ahead.
 */
function readAhead(names: string[], options: CopyOptions): (i: number) => Promise<string> {
  const reads = new Map<number, Promise<string>>();
  return (i) => {
    if (!reads.has(i)) {
      const window = Math.max(READ_WINDOW, options.concurrency ?? 32);
      for (let j = i; j < Math.min(names.length, i + window); j++) {
        const pending = options.resolver.get(names[j]!, {
          provider: options.from,
          cache: false,
          signal: options.signal,
        });
        pending.catch(() => {}); // its item reports the failure
        reads.set(j, pending);
      }
    }
    const pending = reads.get(i)!;
    reads.delete(i);
    return pending;
  };
}

/** The destination's names, or `undefined` when it cannot list (each name is then read). */
async function listIfPossible(resolver: Resolver, id: string): Promise<Set<string> | undefined> {
  try {
    return new Set((await resolver.list('', { provider: id })).map((s) => s.name));
  } catch (error) {
    const e = toEnvmuxError(error);
    if (e.code === 'CONFIG' && /cannot list/.test(e.message)) return undefined;
    throw e;
  }
}

/** Done, or failed when `--verify` reads back a digest other than `expected`. */
async function finished(item: CopyItem, options: CopyOptions, expected: string): Promise<CopyItem> {
  if (options.verify) {
    const { resolver, to, from, signal } = options;
    const readBack = await digestAt(resolver, to, item.target, signal);
    item.verified = readBack === expected;
    if (!item.verified) {
      item.status = 'failed';
      item.error = {
        code: 'VALIDATION_FAILED',
        message: `"${item.target}" read back from "${to}" differs from "${item.source}" in "${from}" (digests)`,
      };
      return item;
    }
  }
  item.status = 'done';
  return item;
}

/** The item, failed with the error's code and our message (a store's own text is never kept). */
function failed(item: CopyItem, error: unknown): CopyItem {
  const e = toEnvmuxError(error);
  item.status = 'failed';
  item.error = { code: e.code, message: e.message };
  return item;
}

/** The current value's digest, or `undefined` when the store does not have the name. */
async function digestAt(
  resolver: Resolver,
  provider: string,
  name: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    return digestOf(await resolver.get(name, { provider, cache: false, signal }));
  } catch (error) {
    if (isEnvmuxError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

async function copyOne(
  name: string,
  target: string,
  existing: Set<string> | undefined,
  info: SecretInfo | undefined,
  mode: 'skip-existing' | 'overwrite',
  options: CopyOptions & { read?: Promise<string> },
): Promise<CopyItem> {
  const { resolver, from, to, signal } = options;
  const item: CopyItem = { source: name, target, action: 'create', status: 'planned' };
  try {
    let value: string | undefined = await (options.read ??
      resolver.get(name, { provider: from, cache: false, signal }));
    const sourceDigest = digestOf(value);
    // The destination's current value decides: nothing is written twice (resumable re-runs).
    const current =
      existing && !existing.has(target) ? undefined : await digestAt(resolver, to, target, signal);
    if (current === sourceDigest) {
      Object.assign(item, { action: 'skip', reason: 'unchanged' });
      if (options.verify) item.verified = true;
    } else if (current !== undefined) {
      if (mode === 'skip-existing') Object.assign(item, { action: 'skip', reason: 'exists' });
      else item.action = 'update';
    }
    if (options.dryRun || item.action === 'skip') {
      value = undefined;
      item.status = options.dryRun ? 'planned' : 'done';
      return item;
    }
    const context = writeContext(to, signal, info);
    if (existing && !existing.has(target)) context.create = true; // the listing lacks it
    await resolver.set(target, value, context);
    value = undefined;
    return await finished(item, options, sourceDigest);
  } catch (error) {
    return failed(item, error);
  }
}

/**
 * Metadata a copy carries: the store's own, without envmux's bookkeeping keys (`envmux.*`: the
 * writer, a pending retirement), which belong to the source's versions.
 */
function copiedMetadata(
  metadata: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (!metadata) return undefined;
  const out = Object.fromEntries(
    Object.entries(metadata).filter(([k]) => !k.startsWith('envmux.')),
  );
  return Object.keys(out).length ? out : undefined;
}

/** The write context of one copied version: description, expiry, metadata, writer. */
function writeContext(
  to: string,
  signal: AbortSignal | undefined,
  info: Pick<SecretInfo, 'description' | 'expires' | 'metadata'> | undefined,
  actor?: string,
): WriteContext & { provider: string } {
  const context: WriteContext & { provider: string } = { provider: to, signal };
  if (info?.description) context.description = info.description;
  if (info?.expires) context.expiresAt = info.expires;
  const metadata = copiedMetadata(info?.metadata);
  if (metadata) context.metadata = metadata;
  if (actor) context.actor = actor;
  return context;
}

/** One version of the source: its value (dropped once written) and the value's digest. */
interface SourceVersion {
  info: VersionInfo;
  digest: string;
  value?: string;
}

/** The source's readable versions, oldest first (an expired or retired version is left out). */
async function sourceHistory(
  resolver: Resolver,
  provider: string,
  name: string,
  signal?: AbortSignal,
): Promise<SourceVersion[]> {
  const out: SourceVersion[] = [];
  for (const info of oldestFirst(await resolver.versions(name, { provider }))) {
    if (info.enabled === false) continue;
    try {
      const value = await resolver.get(name, {
        provider,
        version: info.version,
        cache: false,
        signal,
      });
      out.push({ info, digest: digestOf(value), value });
    } catch (error) {
      if (isEnvmuxError(error) && (error.code === 'EXPIRED' || error.code === 'NOT_FOUND'))
        continue;
      throw error;
    }
  }
  return out;
}

/** Digests of the destination's versions, oldest first (`undefined` for one that cannot be read). */
async function targetHistory(
  resolver: Resolver,
  provider: string,
  name: string,
  signal?: AbortSignal,
): Promise<Array<string | undefined>> {
  let list: VersionInfo[];
  try {
    list = oldestFirst(await resolver.versions(name, { provider }));
  } catch (error) {
    if (isEnvmuxError(error) && error.code === 'NOT_FOUND') return [];
    throw error;
  }
  const out: Array<string | undefined> = [];
  for (const info of list) {
    try {
      out.push(
        digestOf(
          await resolver.get(name, { provider, version: info.version, cache: false, signal }),
        ),
      );
    } catch {
      out.push(undefined);
    }
  }
  return out;
}

/**
 * How many of the source's versions the destination already holds, in order (a greedy match of
 * digests): a copy that stopped part-way resumes after them, with no duplicate.
 */
function copiedPrefix(source: SourceVersion[], target: Array<string | undefined>): number {
  let k = 0;
  for (const digest of target) {
    if (k < source.length && digest === source[k]!.digest) k++;
  }
  return k;
}

/** Copy one secret's history oldest first; see {@link CopyOptions.allVersions}. */
async function copyHistory(
  name: string,
  target: string,
  existing: Set<string> | undefined,
  info: SecretInfo | undefined,
  mode: 'skip-existing' | 'overwrite',
  options: CopyOptions,
): Promise<CopyItem> {
  const { resolver, from, to, signal } = options;
  const item: CopyItem = { source: name, target, action: 'create', status: 'planned' };
  try {
    const source = await sourceHistory(resolver, from, name, signal);
    if (!source.length) {
      // Nothing readable in the history (e.g. every version expired): the latest-value copy says why.
      return await copyOne(name, target, existing, info, mode, options);
    }
    const current =
      existing && !existing.has(target) ? [] : await targetHistory(resolver, to, target, signal);
    const k = copiedPrefix(source, current);
    const latest = source[source.length - 1]!;
    let write: SourceVersion[];
    if (!current.length) {
      write = source;
    } else if (k === source.length) {
      if (current[current.length - 1] === latest.digest) {
        Object.assign(item, { action: 'skip', reason: 'unchanged' });
        if (options.verify) item.verified = true;
        write = [];
      } else if (mode === 'skip-existing') {
        Object.assign(item, { action: 'skip', reason: 'exists' });
        write = [];
      } else {
        item.action = 'update';
        write = [latest];
      }
    } else if (k > 0) {
      // An earlier copy stopped part-way: go on after what it wrote.
      item.action = 'update';
      write = source.slice(k);
    } else if (mode === 'skip-existing') {
      Object.assign(item, { action: 'skip', reason: 'exists' });
      write = [];
    } else {
      item.action = 'update';
      write = source;
    }
    item.versions = write.length;
    for (const version of source) if (!write.includes(version)) version.value = undefined;
    if (options.dryRun || !write.length) {
      item.status = options.dryRun ? 'planned' : 'done';
      return item;
    }
    for (const version of write) {
      const value = version.value!;
      version.value = undefined;
      const isLatest = version === latest;
      await resolver.set(
        target,
        value,
        writeContext(
          to,
          signal,
          {
            description: version.info.description ?? (isLatest ? info?.description : undefined),
            expires: version.info.expires ?? (isLatest ? info?.expires : undefined),
            metadata: version.info.metadata ?? (isLatest ? info?.metadata : undefined),
          },
          version.info.updatedBy,
        ),
      );
    }
    return await finished(item, options, latest.digest);
  } catch (error) {
    return failed(item, error);
  }
}
