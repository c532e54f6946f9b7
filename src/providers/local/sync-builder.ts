// The local vault's synchronous builder, added to the registry by the preload, which must read a
// vault with a raw key (or an unlock session) in its own thread; the library loads vault code lazily.

import { registerSyncBuilder } from '../registry.js';
import { canOpenLocalSync, local } from './local.js';

/** Let `buildProviderSync('local', env)` open a vault that needs no key derivation. */
export function registerLocalSyncBuilder(): void {
  // A raw key, key file or unlock session opens synchronously; a passphrase does only on Node ≥ 24.7.
  registerSyncBuilder('local', (environment) =>
    canOpenLocalSync({ env: environment }) ? local({ env: environment }) : undefined,
  );
}
