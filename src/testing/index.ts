// Test helpers (`envmux/testing`), re-exports only.
export { type MemoryProvider, type MemoryProviderOptions, memory } from '../providers/memory.js';
export {
  type ConformanceCapabilities,
  type ConformanceFault,
  type ConformanceHarness,
  type ConformanceOptions,
  type ConformanceRunner,
  providerConformance,
} from './conformance.js';
