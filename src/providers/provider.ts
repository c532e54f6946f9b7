// The provider interface: what every store (env, file, memory, local, aws, gcp, vault, ...) implements.
// A provider answers for names; it never logs, and never puts a value in an error.

import { EnvmuxError, toEnvmuxError } from '../errors.js';
import type { EntryRule } from '../resolver/fields.js';

/** Passed to every read. `signal` aborts on the call timeout or the load deadline. */
export interface ReadContext {
  /** A pinned version or stage; `previous` is portable across providers. Absent = latest. */
  version?: string;
  signal?: AbortSignal;
  /**
   * A paged `list` calls this as each page arrives: the resolver then gives the next page a call
   * timeout of its own (the whole list stays under a cap and the load deadline).
   */
  page?: () => void;
}

/** Passed to `list`. */
export interface ListContext extends ReadContext {
  /**
   * Answer each secret's metadata too where the store's listing does not carry it and a read per
   * secret does (Vault KV v2 `custom_metadata`); stores whose listing carries it ignore this.
   */
  metadata?: boolean;
}

/** Passed to writes and management calls. */
export interface WriteContext {
  signal?: AbortSignal;
  /** Human description stored beside the secret, where the store keeps one. */
  description?: string;
  /** When the secret stops being served (stores that support expiry). */
  expiresAt?: Date;
  /** Free-form metadata or tags, where the store keeps them. */
  metadata?: Record<string, string>;
  /** Who writes (OS user or `ENVMUX_ACTOR`), kept per version where the store can (local, memory). */
  actor?: string;
  /**
   * Hint: the caller knows the name is absent at this store (a copy that listed it), so a store
   * whose write of a new name costs more requests when it tries an update first (AWS, GCP) creates
   * at once. A wrong hint still writes correctly (the store falls back to adding a version);
   * stores with one write for both cases ignore it.
   */
  create?: boolean;
}

export interface DeleteContext {
  signal?: AbortSignal;
  /** Skip the store's recovery window (soft delete) and delete for good. */
  force?: boolean;
}

export interface RotateContext {
  signal?: AbortSignal;
  /** Produces the new value when the store has no native rotation. */
  generate?: () => string | Promise<string>;
  /**
   * Store-native rotation (AWS `RotateSecret`): the function that rotates (a Lambda ARN) and how
   * often the store rotates by itself (`30d` = every 30 days, or the store's own schedule
   * expression such as `rate(10 days)` / `cron(...)`). The store then makes the new value.
   */
  native?: { lambda?: string; schedule?: string | number };
  /** Metadata stored with the rotated secret, as `set` stores it (a retirement marker). */
  metadata?: Record<string, string>;
}

/** One entry of `list()`: names and metadata, never a value. */
export interface SecretInfo {
  name: string;
  version?: string;
  description?: string;
  created?: Date;
  updated?: Date;
  expires?: Date;
  metadata?: Record<string, string>;
}

/** One entry of `versions()`. */
export interface VersionInfo {
  version: string;
  created?: Date;
  /** Stages or labels (AWSCURRENT, AWSPREVIOUS, latest, ...). */
  stages?: string[];
  enabled?: boolean;
  /** Who wrote this version, where the store keeps it (never invented). */
  updatedBy?: string;
  /** This version's description, expiry and metadata, where the store keeps them per version. */
  description?: string;
  expires?: Date;
  metadata?: Record<string, string>;
}

export interface WriteResult {
  version?: string;
}

export interface HealthResult {
  ok: boolean;
  latencyMs?: number;
  detail?: string;
}

/**
 * A secret store. Only `id` and `get` are required; every other method is a capability, and its
 * presence is the declaration (see {@link capabilitiesOf}).
 */
export interface Provider {
  /** The id references pin (`$<ID:name>`) and the chain reports; unique within a chain. */
  readonly id: string;
  /** The kind of store (`env`, `aws`, ...); equals `id` unless several instances share a chain. */
  readonly type: string;
  /** Most names one `getMany` call takes (e.g. 20 for AWS BatchGetSecretValue). */
  readonly batchSize?: number;
  /**
   * What this store is, independently of its chain id: type and location (region/account, project,
   * vault URL, address and mount, cluster, directory) and name prefix. The shared (Redis) cache tier
   * keys answers by it, so two resolvers share an entry only when the same store answered. Without
   * one, a provider's answers are shared by nothing outside this process.
   */
  readonly identity?: string;
  /** Cache time-to-live for this provider's values, in ms (overrides the resolver's default). */
  readonly ttl?: number;
  /**
   * Whether the store keeps metadata per secret: `set(name, value, { metadata })` stores it (tags,
   * annotations, custom metadata) and one `list()` answers it for every secret. A scheduled
   * retirement travels across processes in it (`RETIRE_METADATA`; docs/architecture.md "Writes").
   */
  readonly keepsMetadata?: boolean;
  /** Resolve to the value, or `undefined` when the secret does not exist here. */
  get(name: string, ctx: ReadContext): Promise<string | undefined>;
  /**
   * The same answer synchronously, for stores that need no I/O wait (env, mounted files, a local
   * vault with a raw key): lets the register preload resolve without a worker thread.
   */
  getSync?(name: string, ctx: ReadContext): string | undefined;
  /**
   * Read several latest values in one call. The map holds the names found; a name the store
   * reported a per-name error for (e.g. AWS `Errors[]`) may map to that Error.
   */
  getMany?(names: string[], ctx: ReadContext): Promise<Map<string, string | Error>>;
  set?(name: string, value: string, ctx: WriteContext): Promise<WriteResult | undefined>;
  delete?(name: string, ctx: DeleteContext): Promise<void>;
  list?(prefix: string, ctx: ListContext): Promise<SecretInfo[]>;
  versions?(name: string, ctx: ReadContext): Promise<VersionInfo[]>;
  rotate?(name: string, ctx: RotateContext): Promise<WriteResult | undefined>;
  /**
   * Remove one version (retire a rotated-out `previous`, undo a rotation that failed its test).
   * Removing the latest makes the one before it the latest again.
   */
  deleteVersion?(name: string, version: string, ctx?: WriteContext): Promise<void>;
  /**
   * Whether `get(name)` answers a map entry (a Vault KV entry, a whole Kubernetes Secret) as the
   * JSON object of its keys. References to it then follow the entry rule: `#key` picks a key;
   * without `#field`, an entry with exactly one key answers that key's value, and one with several
   * is an error listing the key names (src/resolver/fields.ts `pickEntryField`). `'lines'` is the
   * password-store rule instead: first line by default, `#key` a `key: value` line, `#*` the whole
   * entry (`pickLineField`).
   */
  isEntry?(name: string): EntryRule;
  /** (Re)establish a session; called again, and the operation retried once, after SESSION_EXPIRED. */
  authenticate?(ctx: { signal?: AbortSignal }): Promise<void>;
  health?(ctx: { signal?: AbortSignal }): Promise<HealthResult>;
  close?(): Promise<void>;
}

export interface Capabilities {
  read: true;
  sync: boolean;
  batch: boolean;
  write: boolean;
  delete: boolean;
  list: boolean;
  versions: boolean;
  rotate: boolean;
  /** Metadata per secret that `set` stores and `list` answers ({@link Provider.keepsMetadata}). */
  metadata: boolean;
}

/**
 * The metadata key a rotation with a grace period records its retirement in, as `version@ISO due`
 * (a version id and a date, never a value; one space-separated entry per retirement not yet due,
 * retire-version.ts): any process's `retireExpired()` finds it with one `list`.
 */
export const RETIRE_METADATA = 'envmux.retire';

/** What a provider can do, read from the methods it has. */
export function capabilitiesOf(provider: Provider): Capabilities {
  return {
    read: true,
    sync: typeof provider.getSync === 'function',
    batch: typeof provider.getMany === 'function',
    write: typeof provider.set === 'function',
    delete: typeof provider.delete === 'function',
    list: typeof provider.list === 'function',
    versions: typeof provider.versions === 'function',
    rotate: typeof provider.rotate === 'function',
    metadata: provider.keepsMetadata === true && typeof provider.list === 'function',
  };
}

/** The shape `defineProvider` accepts: `type` defaults to `id`. */
export type ProviderDefinition = Omit<Provider, 'type'> & { type?: string };

const METHODS = [
  'get',
  'getSync',
  'getMany',
  'set',
  'delete',
  'list',
  'versions',
  'rotate',
  'deleteVersion',
  'authenticate',
  'health',
  'close',
] as const;

/**
 * Define a custom store in a few lines:
 * ```ts
 * defineProvider({ id: 'http', async get(name, { signal }) { ... } })
 * ```
 * Whatever the methods throw is mapped to an {@link EnvmuxError} with a stable code.
 */
export function defineProvider(definition: ProviderDefinition): Provider {
  if (
    !definition ||
    typeof definition.id !== 'string' ||
    !/^[a-z][a-z0-9_-]*$/i.test(definition.id)
  ) {
    throw new EnvmuxError('CONFIG', 'defineProvider needs an id of letters, digits, "-" or "_"', {
      hint: 'defineProvider({ id: "mystore", get(name) { ... } })',
    });
  }
  if (typeof definition.get !== 'function') {
    throw new EnvmuxError('CONFIG', `provider "${definition.id}" has no get(name) method`, {
      provider: definition.id,
    });
  }
  const provider: Record<string, unknown> = {
    ...definition,
    id: definition.id,
    type: definition.type ?? definition.id,
  };
  const id = definition.id;
  for (const method of METHODS) {
    const fn = definition[method] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof fn !== 'function') continue;
    const check =
      ANSWER_CHECKS[method as keyof typeof ANSWER_CHECKS] ?? ((_: string, v: unknown) => v);
    provider[method] =
      method === 'getSync'
        ? (...args: unknown[]) => {
            let answer: unknown;
            try {
              answer = fn.apply(definition, args);
            } catch (error) {
              throw toEnvmuxError(error, { provider: id });
            }
            return check(id, answer);
          }
        : async (...args: unknown[]) => {
            let answer: unknown;
            try {
              answer = await fn.apply(definition, args);
            } catch (error) {
              throw toEnvmuxError(error, { provider: id });
            }
            return check(id, answer);
          };
  }
  Object.defineProperty(provider, CHECKED, { value: true });
  return provider as unknown as Provider;
}

/** Marks a provider whose reads are checked by {@link asProvider}'s rules. */
const CHECKED = Symbol.for('envmux.checkedAnswers');

/**
 * Accepts a Provider, or a definition that still needs `defineProvider`. Either way its reads are
 * checked: an answer is a string, or `undefined` for "not here"; anything else (null, a number,
 * an object) is an INVALID_REFERENCE naming the provider, never the answer.
 */
export function asProvider(value: Provider | ProviderDefinition): Provider {
  // One wrapper per object: a provider handed to several resolvers (or loads) stays one provider,
  // so per-provider state keyed by it (the circuit breaker) lasts across them.
  let wrapped = WRAPPED.get(value);
  if (!wrapped) {
    wrapped = wrap(value);
    WRAPPED.set(value, wrapped);
  }
  return wrapped;
}

const WRAPPED = new WeakMap<object, Provider>();

function wrap(value: Provider | ProviderDefinition): Provider {
  if (typeof (value as Provider).type !== 'string') return defineProvider(value);
  const provider = value as Provider;
  if ((provider as { [CHECKED]?: boolean })[CHECKED]) return provider;
  const id = String(provider.id);
  // A proxy keeps the provider's own `this`, state and identity of every other method.
  return new Proxy(provider, {
    get(target, property, receiver) {
      if (property === CHECKED) return true;
      const original = Reflect.get(target, property, receiver);
      const check = ANSWER_CHECKS[property as keyof typeof ANSWER_CHECKS];
      if (!check || typeof original !== 'function') return original;
      if (property === 'getSync') {
        return (...args: unknown[]) => check(id, original.apply(receiver, args));
      }
      return async (...args: unknown[]) => check(id, await original.apply(receiver, args));
    },
  });
}

/** What a read may answer, per read method. */
const ANSWER_CHECKS = {
  get: checkAnswer,
  getSync: checkAnswer,
  getMany(id: string, answer: unknown): Map<string, string | Error> {
    if (!(answer instanceof Map)) throw notAString(id, answer, 'a Map');
    const out = new Map<string, string | Error>();
    for (const [name, value] of answer) {
      out.set(
        name,
        typeof value === 'string' || value instanceof Error ? value : notAString(id, value),
      );
    }
    return out;
  },
};

function checkAnswer(id: string, answer: unknown): string | undefined {
  if (answer === undefined || typeof answer === 'string') return answer;
  throw notAString(id, answer);
}

function notAString(id: string, answer: unknown, expected = 'a string'): EnvmuxError {
  const kind =
    answer === null
      ? 'null'
      : Array.isArray(answer)
        ? 'an array'
        : typeof answer === 'object'
          ? answer instanceof Promise
            ? 'a promise'
            : 'an object'
          : `a ${typeof answer}`;
  return new EnvmuxError(
    'INVALID_REFERENCE',
    `provider "${id}" answered ${kind} instead of ${expected}`,
    {
      provider: id,
      retryable: false,
      hint: 'a read resolves to the secret as a string, or to undefined when it does not exist',
    },
  );
}

/**
 * The answer of a store that keeps no versions: its value for the latest (no version, or
 * `latest`); for any other pinned version a NOT_FOUND saying the store keeps none, never the
 * current value. A name the store does not hold is "not here" (`undefined`) either way, so a chain
 * walk moves on to a store that may keep versions.
 */
export function unversioned(
  id: string,
  name: string,
  value: string | undefined,
  ctx: ReadContext,
): string | undefined {
  if (value === undefined || ctx.version === undefined || ctx.version === 'latest') return value;
  throw new EnvmuxError(
    'NOT_FOUND',
    `provider "${id}" keeps no versions, so it cannot serve version "${ctx.version}" of "${name}"`,
    {
      provider: id,
      retryable: false,
      hint: 'drop ?version=, or read it from a store that keeps versions',
    },
  );
}
