// Version histories for copies and backups: whether a store keeps versions, and its versions
// oldest first. Metadata only, never a value.

import type { VersionInfo } from '../providers/provider.js';
import type { Resolver } from '../resolver/client.js';

/** Whether the provider `id` (an id of the resolver's chain, else a type) keeps versions. */
export async function keepsVersions(resolver: Resolver, id: string): Promise<boolean> {
  const providers = await resolver.chain();
  const p = providers.find((x) => x.id === id) ?? providers.find((x) => x.type === id);
  return typeof p?.versions === 'function';
}

/** Versions oldest first: by created date where every version has one, else as the store listed them. */
export function oldestFirst(list: VersionInfo[]): VersionInfo[] {
  if (!list.every((v) => v.created)) return [...list];
  return list
    .map((v, i) => ({ v, i }))
    .sort((a, b) => +a.v.created! - +b.v.created! || a.i - b.i)
    .map(({ v }) => v);
}
