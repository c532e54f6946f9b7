// The store side of retiring a rotated-out version: the marker that schedules retirements, the rule
// that keeps it through writes that replace a secret's metadata, and the first step of removing a
// version where `latest` is simply the newest one (GCP, Azure, Vault KV v2). docs/architecture.md "Writes".

import { EnvmuxError } from '../errors.js';
import { type Provider, RETIRE_METADATA, type VersionInfo, type WriteContext } from './provider.js';

/** One retirement a marker schedules: a version id and when its grace period ends (ms). */
export interface MarkedRetirement {
  version: string;
  due: number;
}

/**
 * Most retirements one marker holds: four fit the tightest store's value limit (256 characters, an
 * AWS or Azure tag; `<36-character id>@<ISO date>` each). A fifth rotation within one grace period
 * drops the earliest due, whose retirement then stays with the process that rotated.
 */
export const MARKER_ENTRIES = 4;

/** The retirements a marker value (`version@ISO date`, space-separated) schedules; others ignored. */
export function parseRetireMarker(value: string | undefined): MarkedRetirement[] {
  const out: MarkedRetirement[] = [];
  for (const entry of value?.split(/\s+/) ?? []) {
    const match = /^([^@\s]+)@(.+)$/.exec(entry);
    const due = match ? Date.parse(match[2]!) : Number.NaN;
    if (match && Number.isFinite(due)) out.push({ version: match[1]!, due });
  }
  return out;
}

/**
 * The marker value for `entries`: one entry per version (the latest due), the last
 * {@link MARKER_ENTRIES} by due date; `''` when there is none (a write clears the marker with it).
 */
export function formatRetireMarker(entries: MarkedRetirement[]): string {
  const byVersion = new Map<string, number>();
  for (const e of entries) byVersion.set(e.version, Math.max(e.due, byVersion.get(e.version) ?? 0));
  return [...byVersion]
    .sort((a, b) => a[1] - b[1])
    .slice(-MARKER_ENTRIES)
    .map(([version, due]) => `${version}@${new Date(due).toISOString()}`)
    .join(' ');
}

/**
 * The metadata a write stores where it replaces the secret's metadata (a new Azure version's tags,
 * GCP annotations, Vault KV v2 `custom_metadata`, a local vault version): without `given`, `current`
 * whole; with it, `given` (the user's keys, replaced as asked) plus the retirement marker `current`
 * holds, unless `given` names one itself (a rotation; `''` clears it, a rollback). A plain set so
 * never drops a scheduled retirement, and never makes a second marker or brings back a cleared one.
 */
export function metadataToStore(
  given: Record<string, string> | undefined,
  current: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (given === undefined) return current;
  if (Object.hasOwn(given, RETIRE_METADATA)) {
    if (given[RETIRE_METADATA] !== '') return given;
    const { [RETIRE_METADATA]: _cleared, ...rest } = given;
    return rest;
  }
  const marker = current?.[RETIRE_METADATA];
  return marker === undefined ? given : { ...given, [RETIRE_METADATA]: marker };
}

/** The error for removing a secret's only version (delete the secret instead). */
export function onlyVersionError(id: string): EnvmuxError {
  return new EnvmuxError('CONFIG', `provider "${id}" cannot remove the only version`, {
    provider: id,
    hint: 'delete the secret instead',
  });
}

/**
 * The version `version` of `name` as the store lists it (`undefined`: nothing to retire), made safe
 * to remove: when it is the newest, the value of the enabled version before it is written again
 * with `write` first, with the metadata `ctx` gives (a rollback restores the secret's metadata from
 * before the rotation, its marker included).
 */
export async function versionToRetire(
  provider: Pick<Provider, 'id' | 'get' | 'versions'>,
  name: string,
  version: string,
  ctx: WriteContext,
  write: (value: string, ctx: WriteContext) => Promise<unknown>,
): Promise<VersionInfo | undefined> {
  const { signal } = ctx;
  const list = await provider.versions!(name, { signal });
  const target = list.find((v) => v.version === version);
  if (!target?.stages?.includes('latest')) return target;
  const before = [...list].reverse().find((v) => v !== target && v.enabled);
  const value = before && (await provider.get(name, { version: before.version, signal }));
  if (value === undefined || !before) throw onlyVersionError(provider.id);
  await write(value, { signal, ...(ctx.metadata ? { metadata: ctx.metadata } : {}) });
  return target;
}
