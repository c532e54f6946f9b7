// Provider factories (`envmux/providers`), re-exports only.
export { type AwsProviderOptions, aws, type SsmProviderOptions, ssm } from './aws/index.js';
export { type AzureProviderOptions, azure } from './azure/index.js';
export { type BwProviderOptions, bw } from './bw/index.js';
export { type EnvProviderOptions, env } from './env.js';
export { type FileProviderOptions, file } from './file.js';
export { type GcpProvider, type GcpProviderOptions, gcp } from './gcp/index.js';
export { type K8sProvider, type K8sProviderOptions, k8s } from './k8s/index.js';
export { type KeychainProviderOptions, keychain } from './keychain/index.js';
export { type LocalProvider, type LocalProviderOptions, local } from './local/index.js';
export { type MemoryProvider, type MemoryProviderOptions, memory } from './memory.js';
export { type OpProviderOptions, op } from './op/index.js';
export { type PassProviderOptions, pass } from './pass/index.js';
export type { Capabilities, Provider, ProviderDefinition } from './provider.js';
export { capabilitiesOf, defineProvider } from './provider.js';
export { availableProviderTypes, detectChain, PROVIDER_TYPES } from './registry.js';
export { type VaultProvider, type VaultProviderOptions, vault } from './vault/index.js';
