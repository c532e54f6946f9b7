// Azure Key Vault (`azure`), re-exports only.
export { type AzureProviderOptions, azure } from './key-vault.js';
