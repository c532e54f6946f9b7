// `env` provider: the process environment (or any record handed in). Synchronous, never writes
// to the real process.env unless that is the record it was given.

import { ownString } from '../resolver/own-string.js';
import { type Provider, type ReadContext, unversioned } from './provider.js';

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
  const id = options.id ?? 'env';
  // Own variables only: `toString` or `constructor` are not variables.
  const getSync = (name: string, ctx: ReadContext = {}) =>
    unversioned(id, name, ownString(source(), prefix + name), ctx);
  return {
    id,
    type: 'env',
    identity: `env|${prefix}`,
    getSync,
    async get(name, ctx) {
      return getSync(name, ctx);
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
