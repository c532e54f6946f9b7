// The `bw` store (Bitwarden CLI), re-exports only.
export { type BwProviderOptions, bw } from './bw.js';
