// The provider chain of one resolver: built once from explicit inputs or auto-detection, plus the
// providers a reference pins by type (`$<aws:...>` with no `aws` in the chain), built on demand.
// See docs/architecture.md, "Provider chain".

import { EnvmuxError } from '../errors.js';
import { asProvider, type Provider, type ProviderDefinition } from '../providers/provider.js';
import {
  buildProvider,
  detectChain,
  type Env,
  isProviderType,
  PROVIDER_TYPES,
} from '../providers/registry.js';
import { nearest } from './near-names.js';

/** A chain entry: a provider, a `defineProvider` definition, or a type built from env vars. */
export type ProviderInput = Provider | ProviderDefinition | string;

/** The chain and the pinned providers of one resolver. */
export interface Chain {
  /** The providers of the chain, in order (built on first call). */
  providers(): Promise<Provider[]>;
  /** A provider by id: one of the chain, else a type built from the environment. */
  pinned(id: string): Promise<Provider>;
  /** Whether `word` is a scheme this resolver answers (`secret`, `env`, a provider id or type). */
  isScheme(word: string): boolean;
  /** Every provider built so far (for `close`). */
  built(): Promise<Provider[]>;
}

export function createChain(inputs: ProviderInput[] | undefined, environment: Env): Chain {
  const explicitIds = new Set((inputs ?? []).map((p) => (typeof p === 'string' ? p : p?.id)));
  let chainPromise: Promise<Provider[]> | undefined;
  const providers = () => {
    chainPromise ??= buildChain(inputs, environment);
    return chainPromise;
  };
  const extra = new Map<string, Promise<Provider>>();
  return {
    providers,
    async pinned(id) {
      const found = (await providers()).find((p) => p.id === id);
      if (found) return found;
      if (!isProviderType(id)) {
        const ids = (await providers()).map((p) => p.id);
        const near = nearest(id, ['secret', 'env', ...ids, ...PROVIDER_TYPES]);
        throw new EnvmuxError('INVALID_REFERENCE', `unknown provider "${id}"`, {
          hint: `${near ? `did you mean "${near}"? else ` : ''}use secret:, env:, or the id of a configured provider`,
        });
      }
      let built = extra.get(id);
      if (!built) {
        built = buildProvider(id, environment);
        extra.set(id, built);
      }
      return built;
    },
    isScheme: (word) =>
      word === 'secret' || word === 'env' || explicitIds.has(word) || isProviderType(word),
    async built() {
      return [
        ...(chainPromise ? await chainPromise.catch(() => []) : []),
        ...(await Promise.all(extra.values()).catch(() => [])),
      ];
    },
  };
}

/** Build the chain from explicit inputs, or auto-detect it. */
export async function buildChain(
  inputs: ProviderInput[] | undefined,
  environment: Env,
): Promise<Provider[]> {
  const list: ProviderInput[] = inputs ?? detectChain(environment).map((d) => d.type);
  if (!Array.isArray(list)) {
    throw new EnvmuxError('CONFIG', '`providers` must be an array', {
      hint: "e.g. providers: ['local', 'env'] or [aws(), defineProvider({ ... })]",
    });
  }
  const providers = await Promise.all(
    list.map((input, i) => {
      if (typeof input === 'string') return buildProvider(input, environment);
      if (!input || typeof input !== 'object' || typeof input.get !== 'function') {
        throw new EnvmuxError(
          'CONFIG',
          `providers[${i}] is not a provider (${input === null ? 'null' : typeof input})`,
          {
            hint: 'use a provider type name, a factory from envmux/providers, or defineProvider({ id, get })',
          },
        );
      }
      return asProvider(input);
    }),
  );
  const seen = new Set<string>();
  for (const p of providers) {
    if (seen.has(p.id)) {
      throw new EnvmuxError('CONFIG', `two providers of the chain share the id "${p.id}"`, {
        hint: 'give each instance its own id, e.g. aws({ id: "aws-east" })',
      });
    }
    seen.add(p.id);
  }
  return providers;
}
