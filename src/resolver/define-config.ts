// `defineConfig`: typed identity for `envmux.config.*` files.

import type { LoadOptions } from './load.js';
import type { StandardSchemaV1 } from './validate.js';

/** Type-checks a config file's options; returns them unchanged. */
export function defineConfig<S extends StandardSchemaV1 | undefined = undefined>(
  options: LoadOptions<S>,
): LoadOptions<S> {
  return options;
}
