// The shared first step of retiring a version in a store whose `latest` is simply the newest version
// (GCP, Azure, Vault KV v2): find it, and when it is the newest (a rollback), first write the value
// of the enabled version before it as a new version, so removing it never leaves nothing readable.

import { EnvmuxError } from '../errors.js';
import type { Provider, VersionInfo } from './provider.js';

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
