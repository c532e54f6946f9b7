// What a second-tier entry is keyed by besides the name: the identities of the stores that could
// have answered, so resolvers with different chains sharing one Redis never read each other's values.

import { nodeCrypto } from '../crypto/lazy-crypto.js';
import type { Provider } from '../providers/provider.js';

/** Random per provider object: a custom store without an identity is shared by nothing else. */
const anonymous = new WeakMap<Provider, string>();

/**
 * Stores whose answers are never written to the shared tier: they read this process's own
 * environment or files, cost less than a Redis round trip, and may differ from one host to another.
 */
const PROCESS_LOCAL_TYPES = new Set(['env', 'file', 'local']);

/** Whether `provider`'s answers stay out of the shared tier (see {@link PROCESS_LOCAL_TYPES}). */
export function isProcessLocal(provider: Provider): boolean {
  return PROCESS_LOCAL_TYPES.has(provider.type);
}

/**
 * A provider's identity; one without (a custom store) gets its id plus a random part of its own, so
 * its answers are never shared with another process or another provider object.
 */
export function identityOf(provider: Provider): string {
  if (typeof provider.identity === 'string' && provider.identity) return provider.identity;
  let own = anonymous.get(provider);
  if (!own) {
    own = `${provider.type}:${provider.id}|anonymous:${nodeCrypto().randomBytes(16).toString('hex')}`;
    anonymous.set(provider, own);
  }
  return own;
}

/**
 * The scope of a `secret:` lookup: the chain's identities in order, and which errors move on (both
 * decide which store answers). Undefined when every store is process-local: nothing to share.
 */
export function chainScope(
  providers: Provider[],
  failover: readonly string[] | false,
): string | undefined {
  if (providers.every(isProcessLocal)) return undefined;
  return JSON.stringify(['chain', failover, ...providers.map(identityOf)]);
}

/** The scope of a lookup pinned to one provider (`$<aws:name>`); undefined when process-local. */
export function pinnedScope(provider: Provider): string | undefined {
  return isProcessLocal(provider) ? undefined : JSON.stringify(['pinned', identityOf(provider)]);
}
