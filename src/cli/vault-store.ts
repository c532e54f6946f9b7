// `local:<where>` as a store on the command line: the local vault at a PostgreSQL URL or a vault
// file, beside the configured stores, so one command names a file vault and a database vault
// (`envmux copy --from local --to local:postgres://…`). The id shown never holds the URL's password.

import { EnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';

/** A store named on the command line: an id (configured or a type), or a vault built for it. */
export interface NamedStore {
  /** What reports and pins use: the id, or `local:<where>` without the URL's password. */
  id: string;
  /** The vault `local:<where>` names (absent for an id). */
  provider?: Provider;
}

/**
 * Resolve `spec`: `local:postgres://…` (a database vault) or `local:<path>` (a vault file, relative
 * to the working folder) build a `local` provider; anything else is an id, returned as is. Keys come
 * from the usual settings (ENVMUX_VAULT_KEY, ENVMUX_VAULT_KEY_FILE, ENVMUX_VAULT_PASSPHRASE, else
 * a vault file's key file beside it).
 */
export async function namedStore(spec: string): Promise<NamedStore> {
  const match = /^local:(.+)$/s.exec(spec);
  if (!match) return { id: spec };
  const where = match[1]!;
  const { local } = await import('../providers/local/local.js');
  const { isVaultUrl } = await import('../providers/local/storage.js');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(where) && !isVaultUrl(where)) {
    throw new EnvmuxError('CONFIG', `"local:" takes a postgres:// URL or a vault file path`, {
      hint: 'e.g. --to local:postgres://user@host:5432/db or --to local:other/vault.json',
    });
  }
  if (isVaultUrl(where)) {
    const { redactUrl } = await import('../providers/local/postgres-storage.js');
    const id = `local:${redactUrl(where)}`;
    return { id, provider: local({ id, url: where, audit: { source: 'cli' } }) };
  }
  const id = `local:${where}`;
  return { id, provider: local({ id, path: where, audit: { source: 'cli' } }) };
}
