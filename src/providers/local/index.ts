// The local vault (`local` provider and its management API), re-exports only.

export { FORMAT_VERSION } from './format.js';
export { type InitVaultOptions, type InitVaultResult, initVault } from './init.js';
export { argon2Implementation, DEFAULT_ARGON2, derivationCount } from './kdf.js';
export { formatRawKey, parseRawKey } from './key-source.js';
export {
  type CleanupItem,
  canOpenLocalSync,
  configuredKeyFile,
  type LocalProvider,
  type LocalProviderOptions,
  type LocalVersionInfo,
  local,
  openLocal,
  type RotateKeyOptions,
  type RotateKeyResult,
  type VaultInfo,
  vaultDir,
} from './local.js';
export { DEFAULT_VAULT_PATH, detectLocalVault, keyFileFrom, vaultPathFrom } from './paths.js';
export { DEFAULT_SESSION_IDLE_MS, removeSession, sessionFile, writeSession } from './session.js';
