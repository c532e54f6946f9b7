// Management and migration on top of the resolver client: copy between stores, migrate a plain
// .env into a store, export resolved values. Re-exports only.

export {
  type BackupKey,
  type BackupOptions,
  type BackupReport,
  openBackup,
  writeBackup,
} from './backup-file.js';
export { type CopyItem, type CopyOptions, type CopyReport, copySecrets } from './copy-secrets.js';
export { entropyOf, secretReason } from './detect-secrets.js';
export { digestOf } from './digest.js';
export { EXPORT_FORMATS, type ExportFormat, formatValues } from './export-formats.js';
export { type ExportOptions, type ExportResult, exportValues } from './export-values.js';
export {
  type MigrateOptions,
  type MigrateReport,
  migrateEnvFile,
  migrationPaths,
  rollbackMigration,
  validateMigration,
} from './migrate-env-file.js';
export { createRenamer, parseRenameRule } from './name-mapping.js';
