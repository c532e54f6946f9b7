// The `keychain` store (OS credential store), re-exports only.
export {
  KEYCHAIN_PACKAGES,
  type KeychainProviderOptions,
  type KeyringLib,
  keychain,
} from './keychain.js';
