// HashiCorp Vault KV (`vault`), re-exports only.
export { type VaultProvider, type VaultProviderOptions, vault } from './kv.js';
