// Test helpers (`envmux/testing`), re-exports only.
export { type MemoryProvider, type MemoryProviderOptions, memory } from '../providers/memory.js';
