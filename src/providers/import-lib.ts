// How every provider loads its SDK: lazily, on first use, through this one helper, so the preload
// never imports an SDK a chain does not use. Never loads anything itself when a module is handed in.

import { EnvmuxError } from '../errors.js';

const MISSING = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);

/**
 * The SDK module a provider needs: `lib` when the caller handed one in (the escape hatch for
 * bundlers and tests), else `await loader()`. A missing package becomes a `CONFIG` error whose
 * hint is the exact install line:
 * ```ts
 * const sdk = await importLib('aws', '@aws-sdk/client-secrets-manager', options.lib,
 *   () => import('@aws-sdk/client-secrets-manager'));
 * ```
 * Keep the `import()` inside the loader literal so bundlers see it and Node resolves it from the
 * provider's own location.
 */
export async function importLib<T>(
  providerId: string,
  pkg: string,
  lib: T | undefined,
  loader: () => Promise<T>,
): Promise<T> {
  if (lib !== undefined && lib !== null) return lib;
  try {
    return await loader();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e && typeof e === 'object' && MISSING.has(String(e.code))) {
      // Only this package missing means "install it"; a broken install names its missing part.
      const ours = typeof e.message === 'string' && e.message.includes(pkg);
      throw new EnvmuxError(
        'CONFIG',
        ours
          ? `provider "${providerId}" needs the package ${pkg}, which is not installed`
          : `provider "${providerId}" could not load ${pkg}: a module it needs is missing`,
        {
          provider: providerId,
          hint: ours ? `npm install ${pkg}` : `reinstall it: npm install ${pkg}`,
          cause: error,
          retryable: false,
        },
      );
    }
    throw new EnvmuxError('CONFIG', `provider "${providerId}" could not load ${pkg}`, {
      provider: providerId,
      hint: `check the installed version: npm ls ${pkg}`,
      cause: error,
      retryable: false,
    });
  }
}

/**
 * {@link importLib} once: the first call loads, later calls share the result; a failed load is
 * forgotten so that a later call tries again (e.g. after `npm install`).
 */
export function importLibOnce<T>(
  providerId: string,
  pkg: string,
  lib: T | undefined,
  loader: () => Promise<T>,
): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= importLib(providerId, pkg, lib, loader).catch((error) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
