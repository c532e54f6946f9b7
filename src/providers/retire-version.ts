// The store side of retiring a rotated-out version: the first step of removing one where `latest` is
// simply the newest version (GCP, Azure, Vault KV v2), and the rule that keeps a scheduled
// retirement's marker through the writes that replace a secret's metadata (docs/architecture.md "Writes").

import { EnvmuxError } from '../errors.js';
import { type Provider, RETIRE_METADATA, type VersionInfo } from './provider.js';

/**
 * The metadata a write stores where it replaces the secret's metadata (a new Azure version's tags,
 * Vault KV v2 `custom_metadata`, a local vault version): without `given`, `current` whole; with it,
 * `given` (the user's keys, replaced as asked) plus the retirement marker `current` holds, unless
 * `given` names one itself (a rotation). A plain set so never drops a scheduled retirement, and never
 * makes a second marker or brings back one the store no longer holds.
 */
export function metadataToStore(
  given: Record<string, string> | undefined,
  current: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (given === undefined) return current;
  const marker = current?.[RETIRE_METADATA];
  return marker === undefined || Object.hasOwn(given, RETIRE_METADATA)
    ? given
    : { ...given, [RETIRE_METADATA]: marker };
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
 * with `write` first.
 */
export async function versionToRetire(
  provider: Pick<Provider, 'id' | 'get' | 'versions'>,
  name: string,
  version: string,
  signal: AbortSignal | undefined,
  write: (value: string) => Promise<unknown>,
): Promise<VersionInfo | undefined> {
  const list = await provider.versions!(name, { signal });
  const target = list.find((v) => v.version === version);
  if (!target?.stages?.includes('latest')) return target;
  const before = [...list].reverse().find((v) => v !== target && v.enabled);
  const value = before && (await provider.get(name, { version: before.version, signal }));
  if (value === undefined || !before) throw onlyVersionError(provider.id);
  await write(value);
  return target;
}
