// The `op` store (1Password CLI), re-exports only.
export { type OpProviderOptions, op } from './op.js';
export { referenceOf } from './references.js';
