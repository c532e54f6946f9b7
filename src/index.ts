// Public API of `envmux` (re-exports only).
export { type AuditEntry, type AuditFilter, AuditLog, processAuditLog } from './audit/audit-log.js';
export type { CacheOptions, CacheStats } from './cache/secret-cache.js';
export {
  EnvmuxAggregateError,
  EnvmuxError,
  ERROR_CODES,
  type ErrorCode,
  isEnvmuxError,
} from './errors.js';
export {
  capabilitiesOf,
  defineProvider,
  type Provider,
  type ProviderDefinition,
  type ReadContext,
} from './providers/provider.js';
export {
  type BreakerOptions,
  type BreakerState,
  type ChangeEvent,
  createResolver,
  type GetOptions,
  type MetricListener,
  type Resolver,
  type ResolverMetric,
  type ResolverOptions,
} from './resolver/client.js';
export type {
  ConfigChangeEvent,
  ConfigWatcher,
  ConfigWatchOptions,
  WatchedConfig,
} from './resolver/config-watch.js';
export { defineConfig } from './resolver/define-config.js';
export { parseDuration } from './resolver/durations.js';
export { envFilesFor } from './resolver/files.js';
export {
  type LoadedConfig,
  type LoadOptions,
  loadConfig,
  loadEnvironment,
} from './resolver/load.js';
export { type EnvEntry, parseEnvSource } from './resolver/parse.js';
export { type Reference, scan, type Template } from './resolver/scan.js';
export type { InferOutput, StandardSchemaV1 } from './resolver/validate.js';
