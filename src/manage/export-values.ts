// `envmux export`'s library half: load and resolve the env files (fail closed: any problem throws
// one aggregate error, nothing is exported), then format every key of the files.

import { EnvmuxAggregateError, type EnvmuxError } from '../errors.js';
import { type LoadOptions, loadEnvironment } from '../resolver/load.js';
import type { StandardSchemaV1 } from '../resolver/validate.js';
import {
  type ExportFormat,
  type FormatOptions,
  type FormattedValues,
  formatValues,
} from './export-formats.js';

export interface ExportOptions extends LoadOptions<StandardSchemaV1 | undefined>, FormatOptions {
  format: ExportFormat;
  /** Only these keys (default: every key the files set). */
  keys?: string[];
}

export interface ExportResult extends FormattedValues {
  /** The keys exported, in file order. */
  keys: string[];
  /** The values exported (for the caller's own masking of messages; never print them). */
  values: string[];
}

/**
 * Resolve the env files and format every key they set (its value after resolution; the process
 * environment wins as in a load unless `override`). Throws {@link EnvmuxAggregateError} listing
 * every problem when anything fails to resolve.
 */
export async function exportValues(options: ExportOptions): Promise<ExportResult> {
  const loaded = await loadEnvironment(options);
  if (loaded.errors.length) throw new EnvmuxAggregateError(loaded.errors as EnvmuxError[]);
  const processEnv = options.processEnv ?? process.env;
  const pairs: Array<[string, string]> = [];
  for (const key of loaded.entries.keys()) {
    if (options.keys && !options.keys.includes(key)) continue;
    const value = loaded.values.get(key) ?? processEnv[key];
    if (value !== undefined) pairs.push([key, value]);
  }
  const formatted = formatValues(pairs, options.format, options);
  return { ...formatted, keys: pairs.map(([k]) => k), values: pairs.map(([, v]) => v) };
}
