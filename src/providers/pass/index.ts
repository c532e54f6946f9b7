// The `pass` store (password-store), re-exports only.
export { type PassProviderOptions, pass } from './pass.js';
