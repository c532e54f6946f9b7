// `vault` provider: HashiCorp Vault's KV secrets engine (v2 with versions, or v1) through `node-vault`
// (an optional peer, imported on first use). Never logs, never puts a value or a token in an error.

import { existsSync, readFileSync } from 'node:fs';
import { EnvmuxError } from '../../errors.js';
import { monotonicMs } from '../../resolver/clock.js';
import { DEFAULT_VALUE_KEY, documentOf, mapOf, pickEntryField } from '../entry-document.js';
import { importLib } from '../import-lib.js';
import type {
  HealthResult,
  Provider,
  SecretInfo,
  VersionInfo,
  WriteContext,
  WriteResult,
} from '../provider.js';
import { metadataToStore, versionToRetire } from '../retire-version.js';
import {
  authMethodOf,
  createVaultSession,
  encodePath,
  trimSlashes,
  type VaultAuthOptions,
  type VaultCall,
  type VaultSessionStats,
} from './auth.js';
import { fromVaultError, type VaultErrorContext, vaultStatusOf } from './errors.js';
import { credentialLeases } from './leases.js';

/** The npm package this provider loads. */
export const VAULT_PACKAGES = ['node-vault'] as const;

/** What `lib` must be: node-vault's factory (its module export), or a module whose default is it. */
export type VaultLib = (options: Record<string, unknown>) => NodeVaultClient;

/** The part of node-vault's client this provider uses. */
export interface NodeVaultClient {
  request(options: {
    path: string;
    method: string;
    json?: unknown;
    headers?: Record<string, string>;
  }): Promise<any>;
  token?: string;
}

export interface VaultProviderOptions extends VaultAuthOptions {
  /** Chain id; default `vault`. */
  id?: string;
  /** Vault's address; default `VAULT_ADDR`, else `https://127.0.0.1:8200`. */
  address?: string;
  /** Vault Enterprise namespace, sent as `X-Vault-Namespace`; default `VAULT_NAMESPACE`. */
  namespace?: string;
  /** The KV mount names are read from; default `VAULT_PATH`, else `secret`. */
  mount?: string;
  /** Prepended to every name inside the mount (`app/` + `db` = `app/db`); default `VAULT_PREFIX`. */
  prefix?: string;
  /** KV engine version; default `VAULT_KV_VERSION`, else detected from the mount (sys/internal/ui/mounts). */
  kvVersion?: 1 | 2;
  /** The key a plain string is written under and read back from; default `value`. */
  valueKey?: string;
  /** The login mount (`auth/<authMount>/login`); default the method's name. `VAULT_AUTH_MOUNT`. */
  authMount?: string;
  /** PEM of the CA(s) to trust for Vault's certificate. */
  ca?: string | Buffer;
  /** A PEM file of the CA(s) to trust; default `VAULT_CACERT`. */
  caCert?: string;
  /** Client certificate and key (PEM files) for TLS client auth; default `VAULT_CLIENT_CERT`/`VAULT_CLIENT_KEY`. */
  clientCert?: string;
  clientKey?: string;
  /** The name to verify Vault's certificate against (SNI); default `VAULT_TLS_SERVER_NAME`. */
  tlsServerName?: string;
  /**
   * Accept any certificate. Off unless set here, by this name: `VAULT_SKIP_VERIFY` is deliberately not
   * read (node-vault would read it from `process.env`; envmux turns that off).
   */
  tlsSkipVerify?: boolean;
  /**
   * How a rotated-out KV v2 version is retired after its grace period: `delete` (default; a soft
   * delete that `undelete` reverses) or `destroy` (its data is removed for good).
   */
  retire?: 'delete' | 'destroy';
  /**
   * Mounts of the database secrets engine: a name `MOUNT/creds/ROLE` (or `/MOUNT/creds/ROLE`) with
   * MOUNT listed here reads dynamic credentials (a lease of `username` and `password`, picked with
   * `#username` / `#password`); default `['database']`.
   */
  databaseMounts?: string[];
  /** Timeout of each HTTP request in ms (background renewals included); default 10 s. */
  requestTimeout?: number;
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
  /** The `node-vault` module, handed in instead of imported (bundlers, tests). */
  lib?: VaultLib | { default: VaultLib };
  /** Environment for the defaults above; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** The `vault` provider: the common methods, KV v2's version management and the field rule. */
export interface VaultProvider extends Provider {
  /** Soft-delete versions (KV v2): they stay listed and can be undeleted. */
  deleteVersions(name: string, versions: string[], ctx?: { signal?: AbortSignal }): Promise<void>;
  /** Restore soft-deleted versions (KV v2). */
  undelete(name: string, versions: string[], ctx?: { signal?: AbortSignal }): Promise<void>;
  /** Destroy versions' data for good (KV v2). */
  destroy(name: string, versions: string[], ctx?: { signal?: AbortSignal }): Promise<void>;
  /**
   * How a reference takes its answer from what `get` returned (see `entry-document.ts`): `#field`
   * picks a key; without one, an entry with exactly one key answers its value, else an error lists the keys.
   */
  pick(value: string, field: string | undefined, name: string): string | undefined;
  /**
   * Whether `get(name)` answers a map entry in `documentOf`'s form (always, for Vault): the per-name
   * flag a resolver hook needs, since answers cross the preload's worker boundary as data.
   */
  isEntry(name: string): boolean;
  /** Logins, lookups and renewals so far (never a token). */
  readonly session: VaultSessionStats;
}

const LATEST = new Set(['latest', 'current']);

/** Where one entry lives. */
interface Location {
  mount: string;
  /** Path inside the mount, prefix applied. */
  path: string;
  version: 1 | 2;
}

/**
 * Secrets from HashiCorp Vault's KV engine. A name is a path inside the mount (`app/db` →
 * `secret/data/app/db` on KV v2); a name starting with `/` is a full path whose mount Vault names
 * (`/kv/app/db`). `get` answers the entry's single `value` key as is, any other entry as the JSON of its
 * keys, so `$<vault:app/db#password>` picks a key.
 */
export function vault(options: VaultProviderOptions = {}): VaultProvider {
  const id = options.id ?? 'vault';
  const env = options.env ?? process.env;
  const address = (options.address ?? env.VAULT_ADDR ?? 'https://127.0.0.1:8200').replace(
    /\/+$/,
    '',
  );
  const namespace = options.namespace ?? (env.VAULT_NAMESPACE || undefined);
  const defaultMount = trimSlashes(options.mount ?? (env.VAULT_PATH || 'secret'));
  const prefix = options.prefix ?? env.VAULT_PREFIX ?? '';
  const valueKey = options.valueKey ?? DEFAULT_VALUE_KEY;
  const configuredVersion = options.kvVersion ?? kvVersionOf(env.VAULT_KV_VERSION, id);
  const timeout = options.requestTimeout ?? 10_000;

  let clientPromise: Promise<NodeVaultClient> | undefined;
  const client = (): Promise<NodeVaultClient> => {
    clientPromise ??= (async () => {
      const mod = await importLib<VaultLib | { default: VaultLib }>(
        id,
        'node-vault',
        options.lib,
        () => import('node-vault') as Promise<unknown> as Promise<VaultLib>,
      );
      const factory = typeof mod === 'function' ? mod : mod.default;
      const tls = tlsOptions(id, options, env);
      const c = factory({
        endpoint: address,
        apiVersion: 'v1',
        // GET ?list=true instead of the LIST verb, which proxies and load balancers often refuse.
        noCustomHTTPVerbs: true,
        // node-vault's debug output includes request bodies (secret values, secret ids): never.
        debug: () => {},
        // node-vault turns verification off when VAULT_SKIP_VERIFY is set in process.env: not here.
        rpDefaults: { strictSSL: tls.strictSSL, timeout },
        requestOptions: tls,
      });
      // node-vault also reads VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX (a URL prefix, not ours)
      // from process.env: each request here carries its own token and namespace instead.
      const raw = c as unknown as Record<string, unknown>;
      raw.token = undefined;
      raw.namespace = undefined;
      raw.pathPrefix = '';
      return c;
    })();
    clientPromise.catch(() => {
      clientPromise = undefined;
    });
    return clientPromise;
  };

  const call: VaultCall = async (method, path, how = {}) => {
    const c = await client();
    const headers: Record<string, string> = {};
    if (how.token) headers['X-Vault-Token'] = how.token;
    // sys/health answers for the whole server (it lives in the root namespace).
    if (namespace && !path.startsWith('sys/health')) headers['X-Vault-Namespace'] = namespace;
    return c.request({
      path: `/${path}`,
      method,
      headers,
      ...(how.body === undefined ? {} : { json: how.body }),
    });
  };

  const method = authMethodOf(options, env, existsSync);
  const session = createVaultSession(
    id,
    call,
    { ...options, mount: options.authMount },
    env,
    method,
  );

  /**
   * One authenticated call. A 403 goes through the session (policy, or an expired token); a 404
   * resolves to `undefined` when `missing` allows it.
   */
  const send = async (
    verb: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    context: Omit<VaultErrorContext, 'provider'> & { body?: unknown; missing?: boolean },
    signal?: AbortSignal,
  ): Promise<any> => {
    signal?.throwIfAborted();
    const token = await session.token();
    const ctx: VaultErrorContext = { provider: id, path, ...context };
    try {
      const out = await call(verb, path, { token, body: context.body });
      session.succeeded(token);
      return out;
    } catch (error) {
      const status = vaultStatusOf(error);
      if (status === 404 && context.missing) {
        session.succeeded(token);
        return undefined;
      }
      if (status === 403) throw await session.denied(error, token, ctx);
      throw fromVaultError(error, ctx);
    }
  };

  const versionOfMount = new Map<string, Promise<1 | 2>>();
  /** KV version of a mount: configured, else Vault's answer for the mount (cached). */
  const kvVersion = (mount: string, signal?: AbortSignal): Promise<1 | 2> => {
    if (configuredVersion) return Promise.resolve(configuredVersion);
    let known = versionOfMount.get(mount);
    if (!known) {
      const asked = preflight(mount, signal);
      known = asked.then((answer) => answer.version);
      versionOfMount.set(mount, known);
      // A guess (the preflight was denied) or a failure is not kept: ask again next time.
      asked.then(
        (answer) => answer.assumed && versionOfMount.delete(mount),
        () => versionOfMount.delete(mount),
      );
    }
    return known;
  };

  /** Ask Vault which mount holds `path`, and its KV version (what `vault kv` does first). */
  const preflight = async (
    path: string,
    signal?: AbortSignal,
  ): Promise<{ mount: string; version: 1 | 2; assumed: boolean }> => {
    const out = await send(
      'GET',
      `sys/internal/ui/mounts/${encodePath(path)}`,
      { operation: `find the mount of "${path}"`, capability: 'read', missing: true },
      signal,
    ).catch((error: EnvmuxError) => {
      // A token whose policies do not cover the preflight still reads: assume KV v2 (the default).
      if (error.code === 'ACCESS_DENIED') return undefined;
      throw error;
    });
    const data = out?.data;
    const mount = typeof data?.path === 'string' && data.path ? trimSlashes(data.path) : undefined;
    // A KV mount without options.version is v1 (`generic` is KV v1's old name); unknown: v2.
    const kv = data?.type === 'kv' || data?.type === 'generic';
    const version = kv && String(data.options?.version ?? '1') === '1' ? 1 : 2;
    return { mount: mount ?? path.split('/')[0]!, version, assumed: !data };
  };

  const validate = (name: string): string[] => {
    const segments = name.split('/');
    const bad =
      !name ||
      /[?#\0]/.test(name) ||
      segments.some((s) => s === '..' || s === '.') ||
      segments.slice(0, -1).some((s) => s === '');
    if (bad) {
      throw new EnvmuxError('INVALID_REFERENCE', `"${name}" is not a Vault KV path`, {
        provider: id,
        hint: 'a path inside the mount (app/db), or a full path with its mount (/kv/app/db)',
      });
    }
    return segments;
  };

  const locate = async (name: string, signal?: AbortSignal): Promise<Location> => {
    if (name.startsWith('/')) {
      const full = trimSlashes(name);
      validate(full);
      const found = await preflight(full, signal);
      const version = configuredVersion ?? found.version;
      return { mount: found.mount, path: trimSlashes(full.slice(found.mount.length)), version };
    }
    validate(prefix + name);
    return {
      mount: defaultMount,
      path: prefix + name,
      version: await kvVersion(defaultMount, signal),
    };
  };

  const dataPath = (l: Location, kind: 'data' | 'metadata' | 'delete' | 'undelete' | 'destroy') =>
    l.version === 2
      ? `${encodePath(l.mount)}/${kind}/${encodePath(l.path)}`
      : `${encodePath(l.mount)}/${encodePath(l.path)}`;

  const needV2 = (l: Location, what: string) => {
    if (l.version !== 2) {
      throw new EnvmuxError(
        'CONFIG',
        `${what} needs KV version 2; mount "${l.mount}" is version 1`,
        {
          provider: id,
          hint: 'KV v1 keeps one value per path, with no versions',
          retryable: false,
        },
      );
    }
  };

  /** KV v2 metadata of an entry, or `undefined` when it does not exist. */
  const metadata = async (l: Location, name: string, signal?: AbortSignal) => {
    const out = await send(
      'GET',
      dataPath(l, 'metadata'),
      { operation: `read the metadata of "${name}"`, capability: 'read', missing: true },
      signal,
    );
    return out?.data as
      | {
          current_version?: number;
          custom_metadata?: Record<string, string> | null;
          versions?: Record<
            string,
            { created_time?: string; deletion_time?: string; destroyed?: boolean }
          >;
        }
      | undefined;
  };

  /** The version a read context pins (v2): a number, `undefined` for the latest, `null` for none. */
  const pinnedVersion = async (
    l: Location,
    name: string,
    version: string | undefined,
    signal?: AbortSignal,
  ): Promise<number | undefined | null> => {
    if (version === undefined || LATEST.has(version)) return undefined;
    if (/^\d+$/.test(version)) return Number(version);
    if (version === 'previous') {
      const meta = await metadata(l, name, signal);
      const current = meta?.current_version ?? 0;
      const live = Object.entries(meta?.versions ?? {})
        .filter(([n, v]) => Number(n) < current && !v.deletion_time && !v.destroyed)
        .map(([n]) => Number(n));
      return live.length ? Math.max(...live) : null;
    }
    throw new EnvmuxError('INVALID_REFERENCE', `"${version}" is not a Vault KV version`, {
      provider: id,
      hint: 'use a version number, "latest" or "previous"',
    });
  };

  const changeVersions = async (
    kind: 'delete' | 'undelete' | 'destroy',
    name: string,
    versions: string[],
    signal?: AbortSignal,
  ) => {
    const l = await locate(name, signal);
    needV2(l, kind);
    const numbers = versions.map((v) => {
      if (!/^\d+$/.test(v)) {
        throw new EnvmuxError('INVALID_REFERENCE', `"${v}" is not a Vault KV version`, {
          provider: id,
        });
      }
      return Number(v);
    });
    await send(
      'POST',
      dataPath(l, kind),
      {
        operation: `${kind} versions of "${name}"`,
        capability: 'update',
        body: { versions: numbers },
      },
      signal,
    );
  };

  /** Names under `dir` (recursively, into folders that can hold a match) that start with `wanted`. */
  const listUnder = async (
    l: Location,
    dir: string,
    wanted: string,
    out: string[],
    signal?: AbortSignal,
  ): Promise<void> => {
    const base = l.version === 2 ? `${encodePath(l.mount)}/metadata` : encodePath(l.mount);
    const path = dir ? `${base}/${encodePath(dir.replace(/\/$/, ''))}/` : `${base}/`;
    const answer = await send(
      'GET',
      `${path}?list=true`,
      { operation: `list "${dir || '/'}"`, capability: 'list', missing: true },
      signal,
    );
    const keys: unknown[] = answer?.data?.keys ?? [];
    for (const key of keys) {
      if (typeof key !== 'string') continue;
      const full = dir + key;
      if (key.endsWith('/')) {
        if (full.startsWith(wanted) || wanted.startsWith(full))
          await listUnder(l, full, wanted, out, signal);
      } else if (full.startsWith(wanted)) {
        out.push(full);
      }
    }
  };

  const write = async (name: string, value: string, ctx: WriteContext): Promise<WriteResult> => {
    const l = await locate(name, ctx.signal);
    const data = mapOf(value, valueKey);
    // custom_metadata is replaced whole: a scheduled retirement's marker and the description stay
    // unless this write names them (read before the value is written; a policy without read on
    // the metadata writes as before).
    const writesMetadata =
      l.version === 2 && (ctx.metadata !== undefined || ctx.description !== undefined);
    const current = writesMetadata
      ? ((
          await metadata(l, name, ctx.signal).catch((error: unknown) => {
            if ((error as EnvmuxError).code === 'ACCESS_DENIED') return undefined;
            throw error;
          })
        )?.custom_metadata ?? undefined)
      : undefined;
    const out = await send(
      'POST',
      dataPath(l, 'data'),
      {
        operation: `write "${name}"`,
        capability: 'create',
        body: l.version === 2 ? { data } : data,
      },
      ctx.signal,
    );
    const custom = {
      ...(current?.description === undefined ? {} : { description: current.description }),
      ...metadataToStore(ctx.metadata, current),
      ...(ctx.description === undefined ? {} : { description: ctx.description }),
    };
    // Nothing to write only when there was nothing and is nothing (a cleared marker is a write).
    if (writesMetadata && (Object.keys(custom).length || Object.keys(current ?? {}).length)) {
      await send(
        'POST',
        dataPath(l, 'metadata'),
        {
          operation: `write the metadata of "${name}"`,
          capability: 'update',
          body: { custom_metadata: custom },
        },
        ctx.signal,
      );
    }
    const version = out?.data?.version;
    return version === undefined ? {} : { version: String(version) };
  };

  const databaseMounts = new Set(options.databaseMounts ?? ['database']);
  /** `MOUNT/creds/ROLE` of a database secrets engine mount, else undefined (a KV name). */
  const credentialsPath = (name: string): string | undefined => {
    const m = /^\/?([^/]+)\/creds\/([^/]+)$/.exec(name);
    return m && databaseMounts.has(m[1]!)
      ? `${encodePath(m[1]!)}/creds/${encodePath(m[2]!)}`
      : undefined;
  };
  const leases = credentialLeases(send);

  const provider: VaultProvider = {
    id,
    type: 'vault',
    identity: `vault|${address}|${namespace ?? ''}|${defaultMount}|${prefix}`,
    ttl: options.ttl,
    // KV v2 custom_metadata (a KV v1 mount keeps none, so it carries no retirement).
    keepsMetadata: true,
    session: session.stats,

    async get(name, ctx) {
      const creds = credentialsPath(name);
      if (creds) {
        if (ctx.version !== undefined && !LATEST.has(ctx.version)) {
          throw new EnvmuxError('INVALID_REFERENCE', 'dynamic credentials have no versions', {
            provider: id,
            hint: 'drop ?version= from a database/creds reference',
          });
        }
        const lease = await leases.get(creds, ctx.signal);
        return documentOf(lease.data, valueKey);
      }
      const l = await locate(name, ctx.signal);
      let path = dataPath(l, 'data');
      if (l.version === 2) {
        const pinned = await pinnedVersion(l, name, ctx.version, ctx.signal);
        if (pinned === null) return undefined;
        if (pinned !== undefined) path += `?version=${pinned}`;
      } else if (ctx.version !== undefined && !LATEST.has(ctx.version)) {
        if (ctx.version === 'previous') return undefined;
        throw new EnvmuxError('INVALID_REFERENCE', `KV v1 mount "${l.mount}" keeps no versions`, {
          provider: id,
          hint: 'drop ?version=, or use a KV v2 mount',
        });
      }
      const out = await send(
        'GET',
        path,
        { operation: `read "${name}"`, capability: 'read', missing: true },
        ctx.signal,
      );
      const data = l.version === 2 ? out?.data?.data : out?.data;
      if (!data || typeof data !== 'object') return undefined;
      return documentOf(data as Record<string, unknown>, valueKey);
    },

    set: (name, value, ctx) => write(name, value, ctx),

    async delete(name, ctx) {
      const l = await locate(name, ctx.signal);
      // KV v2: a soft delete of the latest version (undelete restores it); `force` removes every
      // version and the metadata for good.
      const path = l.version === 2 && ctx.force ? dataPath(l, 'metadata') : dataPath(l, 'data');
      await send(
        'DELETE',
        path,
        { operation: `delete "${name}"`, capability: 'delete', missing: true },
        ctx.signal,
      );
    },

    async list(filter, ctx) {
      if (filter.startsWith('/')) {
        throw new EnvmuxError('INVALID_REFERENCE', 'list takes a prefix inside the mount', {
          provider: id,
        });
      }
      const wanted = prefix + filter;
      const l = {
        mount: defaultMount,
        path: '',
        version: await kvVersion(defaultMount, ctx.signal),
      };
      const names: string[] = [];
      await listUnder(l, wanted.slice(0, wanted.lastIndexOf('/') + 1), wanted, names, ctx.signal);
      const out = names.map((full): SecretInfo => ({ name: full.slice(prefix.length) }));
      if (ctx.metadata && l.version === 2) {
        // LIST answers names only: each entry's custom_metadata is one metadata read, 8 at a time.
        for (let i = 0; i < out.length; i += 8) {
          await Promise.all(
            out.slice(i, i + 8).map(async (info) => {
              const meta = await metadata(
                { ...l, path: prefix + info.name },
                info.name,
                ctx.signal,
              );
              const custom = meta?.custom_metadata ?? {};
              if (custom.description !== undefined) info.description = custom.description;
              if (Object.keys(custom).length) info.metadata = { ...custom };
            }),
          );
        }
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },

    async versions(name, ctx) {
      const l = await locate(name, ctx.signal);
      needV2(l, 'versions');
      const meta = await metadata(l, name, ctx.signal);
      if (!meta?.versions) return [];
      return Object.entries(meta.versions)
        .map(([n, v]): VersionInfo => {
          const info: VersionInfo = {
            version: n,
            enabled: !v.deletion_time && !v.destroyed,
            stages: Number(n) === meta.current_version ? ['latest'] : [],
          };
          if (v.created_time) info.created = new Date(v.created_time);
          return info;
        })
        .sort((a, b) => Number(a.version) - Number(b.version));
    },

    async rotate(name, ctx) {
      if (!ctx.generate) {
        throw new EnvmuxError('CONFIG', `provider "${id}" rotates with a generator only`, {
          provider: id,
          hint: 'pass generate() to rotate; KV has no native rotation',
        });
      }
      return write(name, await ctx.generate(), {
        signal: ctx.signal,
        ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
      });
    },

    /**
     * Retire a KV v2 version (`retire`: soft delete, or destroy): `previous` then skips it. A deleted
     * current version makes the entry unreadable, so removing the current one (a rollback) first
     * writes the value of the live version before it as a new version.
     */
    async deleteVersion(name, version, ctx = {}) {
      const target = await versionToRetire(provider, name, version, ctx, (value, rewrite) =>
        write(name, value, rewrite),
      );
      if (!target) return;
      const kind = options.retire === 'destroy' ? 'destroy' : 'delete';
      if (kind === 'delete' && !target.enabled) return;
      await changeVersions(kind, name, [version], ctx.signal);
    },

    deleteVersions: (name, versions, ctx = {}) =>
      changeVersions('delete', name, versions, ctx.signal),
    undelete: (name, versions, ctx = {}) => changeVersions('undelete', name, versions, ctx.signal),
    destroy: (name, versions, ctx = {}) => changeVersions('destroy', name, versions, ctx.signal),

    pick: (value, field, name) => pickEntryField(value, field, name, valueKey),
    isEntry: () => true,

    async authenticate() {
      await session.authenticate();
    },

    async health(ctx): Promise<HealthResult> {
      const started = monotonicMs();
      let out: any;
      try {
        // sys/health answers with a status per state (429 standby, 503 sealed); node-vault resolves them all.
        out = await call('GET', 'sys/health?standbyok=true&perfstandbyok=true');
      } catch (error) {
        throw fromVaultError(error, { provider: id, operation: 'health check' });
      }
      const latencyMs = monotonicMs() - started;
      if (out?.initialized === false) return { ok: false, latencyMs, detail: 'not initialized' };
      if (out?.sealed === true) return { ok: false, latencyMs, detail: 'sealed' };
      ctx.signal?.throwIfAborted();
      await session.token();
      return {
        ok: true,
        latencyMs,
        detail: `${out?.standby ? 'standby' : 'active'}, auth ${session.method}`,
      };
    },

    async close() {
      leases.close();
      session.close();
    },
  };
  return provider;
}

function kvVersionOf(value: string | undefined, id: string): 1 | 2 | undefined {
  if (!value) return undefined;
  const v = value.trim().replace(/^v/i, '');
  if (v === '1' || v === '2') return Number(v) as 1 | 2;
  throw new EnvmuxError('CONFIG', `VAULT_KV_VERSION is "${value}"`, {
    provider: id,
    hint: 'VAULT_KV_VERSION is 1 or 2 (or unset, to ask Vault)',
  });
}

/** node-vault's TLS options (its former `request` names): CA, client certificate, verification. */
function tlsOptions(
  id: string,
  options: VaultProviderOptions,
  env: Record<string, string | undefined>,
): {
  strictSSL: boolean;
  ca?: string | Buffer;
  cert?: Buffer;
  key?: Buffer;
  agentOptions?: object;
} {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new EnvmuxError('CONFIG', `provider "${id}" cannot read the ${what} ${path}`, {
        provider: id,
        hint: `check that ${path} exists and is readable`,
        cause: error,
        retryable: false,
      });
    }
  };
  const caFile = options.caCert ?? (env.VAULT_CACERT || undefined);
  const certFile = options.clientCert ?? (env.VAULT_CLIENT_CERT || undefined);
  const keyFile = options.clientKey ?? (env.VAULT_CLIENT_KEY || undefined);
  const servername = options.tlsServerName ?? (env.VAULT_TLS_SERVER_NAME || undefined);
  const out: ReturnType<typeof tlsOptions> = { strictSSL: options.tlsSkipVerify !== true };
  const ca = options.ca ?? (caFile ? read(caFile, 'CA file') : undefined);
  if (ca) out.ca = ca;
  if (certFile) out.cert = read(certFile, 'client certificate');
  if (keyFile) out.key = read(keyFile, 'client key');
  if (servername) out.agentOptions = { servername };
  return out;
}
