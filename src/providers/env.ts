// `env` provider: the process environment (or any record handed in). Synchronous, never writes
// to the real process.env unless that is the record it was given.

import type { Provider } from './provider.js';

export interface EnvProviderOptions {
  /** Chain id; default `env`. */
  id?: string;
  /** The record to read; default `process.env` at call time. */
  env?: Record<string, string | undefined>;
  /** Prepended to every name (`APP_` + `DB_PASSWORD`). */
  prefix?: string;
}

/** Secrets from environment variables. */
export function env(options: EnvProviderOptions = {}): Provider {
  const prefix = options.prefix ?? '';
  const source = () => options.env ?? process.env;
  const getSync = (name: string) => source()[prefix + name];
  return {
    id: options.id ?? 'env',
    type: 'env',
    identity: `env|${prefix}`,
    getSync,
    async get(name) {
      return getSync(name);
    },
    async set(name, value) {
      source()[prefix + name] = value;
      return undefined;
    },
    async delete(name) {
      delete source()[prefix + name];
    },
    async list(filter) {
      return Object.keys(source())
        .filter((key) => key.startsWith(prefix + filter))
        .sort()
        .map((key) => ({ name: key.slice(prefix.length) }));
    },
  };
}
