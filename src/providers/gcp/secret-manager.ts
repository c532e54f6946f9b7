// `gcp` provider: GCP Secret Manager through @google-cloud/secret-manager (an optional peer, loaded on
// first use). Verifies each payload's CRC32C; never logs, and never puts a value in an error.

import { EnvmuxError } from '../../errors.js';
import { importLib } from '../import-lib.js';
import type {
  HealthResult,
  Provider,
  SecretInfo,
  VersionInfo,
  WriteContext,
  WriteResult,
} from '../provider.js';
import { RETIRE_METADATA } from '../provider.js';
import { metadataToStore, versionToRetire } from '../retire-version.js';
import { crc32c } from './crc32c.js';
import { fromGcpError, gcpStatusOf } from './errors.js';

/** The npm package this provider loads. */
export const GCP_PACKAGES = ['@google-cloud/secret-manager'] as const;

/** The calls this provider makes, as the SDK's client answers them (`[response, ...]`). */
export interface GcpSecretClient {
  accessSecretVersion(
    request: object,
    options?: object,
  ): Promise<[GcpAccessResponse, ...unknown[]]>;
  listSecrets(
    request: object,
    options?: object,
  ): Promise<[GcpSecret[], GcpPageRequest | null, ...unknown[]]>;
  listSecretVersions(
    request: object,
    options?: object,
  ): Promise<[GcpSecretVersion[], GcpPageRequest | null, ...unknown[]]>;
  createSecret(request: object, options?: object): Promise<[GcpSecret, ...unknown[]]>;
  addSecretVersion(request: object, options?: object): Promise<[GcpSecretVersion, ...unknown[]]>;
  updateSecret(request: object, options?: object): Promise<[GcpSecret, ...unknown[]]>;
  getSecret(request: object, options?: object): Promise<[GcpSecret, ...unknown[]]>;
  deleteSecret(request: object, options?: object): Promise<unknown>;
  disableSecretVersion(
    request: object,
    options?: object,
  ): Promise<[GcpSecretVersion, ...unknown[]]>;
  enableSecretVersion(request: object, options?: object): Promise<[GcpSecretVersion, ...unknown[]]>;
  destroySecretVersion(
    request: object,
    options?: object,
  ): Promise<[GcpSecretVersion, ...unknown[]]>;
  getProjectId?(): Promise<string>;
  close?(): Promise<void>;
}

/** A protobuf Timestamp as the SDK returns it (`{ seconds: '1700000000', nanos: 0 }`), or RFC 3339. */
type GcpTimestamp = { seconds?: unknown; nanos?: unknown } | string | null | undefined;

interface GcpAccessResponse {
  name?: string | null;
  payload?: { data?: Uint8Array | string | null; dataCrc32c?: unknown } | null;
}

interface GcpSecret {
  name?: string | null;
  createTime?: GcpTimestamp;
  expireTime?: GcpTimestamp;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
}

interface GcpSecretVersion {
  name?: string | null;
  createTime?: GcpTimestamp;
  state?: string | number | null;
}

interface GcpPageRequest {
  pageToken?: string;
}

/** What `lib` must provide: the module's client class. */
export interface GcpLib {
  SecretManagerServiceClient: new (options?: Record<string, unknown>) => GcpSecretClient;
}

export interface GcpProviderOptions {
  /** Chain id; default `gcp`. */
  id?: string;
  /** The project; default `GCP_PROJECT_ID`, else `GOOGLE_CLOUD_PROJECT`, else the credentials' project. */
  projectId?: string;
  /**
   * A region for regional secrets (`projects/P/locations/L/secrets/S`, served by
   * `secretmanager.L.rep.googleapis.com`); default `GCP_SECRET_LOCATION`, else global secrets.
   */
  location?: string;
  /** Prepended to every secret id (`myapp-` + `db`); default `GCP_SECRET_PREFIX`. */
  prefix?: string;
  /**
   * Options for the SDK's client (`credentials`, `keyFilename`, `apiEndpoint`, `port`,
   * `fallback: true` for HTTP/1 JSON instead of gRPC, `authClient`, ...). Its own retries are
   * always turned off: the resolver retries.
   */
  clientOptions?: Record<string, unknown>;
  /** A ready client (tests, custom transports); `clientOptions` and `lib` are then unused. */
  client?: GcpSecretClient;
  /** The `@google-cloud/secret-manager` module, handed in instead of imported (bundlers, tests). */
  lib?: GcpLib;
  /** Replication of secrets `set` creates; default automatic (ignored for regional secrets). */
  replication?: Record<string, unknown>;
  /** Items per page for `list` and `versions`; default 250. */
  pageSize?: number;
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
  /** Environment for the defaults above; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** The `gcp` provider, with Secret Manager's version state changes besides the common methods. */
export interface GcpProvider extends Provider {
  /** Disable one version (it stays, but cannot be accessed until enabled). */
  disableVersion(name: string, version: string, ctx?: { signal?: AbortSignal }): Promise<void>;
  enableVersion(name: string, version: string, ctx?: { signal?: AbortSignal }): Promise<void>;
  /** Destroy one version's payload for good (the version stays listed as DESTROYED). */
  destroyVersion(name: string, version: string, ctx?: { signal?: AbortSignal }): Promise<void>;
}

const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
const VERSION_ID = /^[A-Za-z0-9_-]{1,63}$/;
const FULL_NAME =
  /^(projects\/[^/]+(?:\/locations\/[^/]+)?)\/secrets\/([^/]+)(?:\/versions\/([^/]+))?$/;
const STATE_NAMES = ['STATE_UNSPECIFIED', 'ENABLED', 'DISABLED', 'DESTROYED'];

/** Where one secret lives. */
interface SecretPath {
  /** `projects/P` or `projects/P/locations/L`. */
  parent: string;
  /** The secret id in the store (prefix included). */
  secretId: string;
  /** A version pinned inside a full resource name. */
  version?: string;
}

/**
 * Secrets from GCP Secret Manager. Names are secret ids (`db` → `projects/P/secrets/db`), or full
 * resource names (`projects/other/secrets/db`) to reach another project.
 */
export function gcp(options: GcpProviderOptions = {}): GcpProvider {
  const id = options.id ?? 'gcp';
  const env = options.env ?? process.env;
  const location = options.location ?? (env.GCP_SECRET_LOCATION || undefined);
  const prefix = options.prefix ?? env.GCP_SECRET_PREFIX ?? '';
  const pageSize = options.pageSize ?? 250;
  /** Every call: no SDK retries (the resolver retries, with its own budget). */
  const NO_RETRY = { retry: null };

  let clientPromise: Promise<GcpSecretClient> | undefined;
  const client = (): Promise<GcpSecretClient> => {
    clientPromise ??= (async () => {
      if (process.env.GOOGLE_SDK_NODE_LOGGING) {
        // Said once, on stderr: the SDK's debug log prints response payloads, i.e. secret values.
        process.stderr.write(
          `envmux: warning: GOOGLE_SDK_NODE_LOGGING is set; the Google SDK logs secret payloads from provider "${id}"\n`,
        );
      }
      if (options.client) return options.client;
      const mod = await importLib<GcpLib | { default: GcpLib }>(
        id,
        '@google-cloud/secret-manager',
        options.lib,
        () => import('@google-cloud/secret-manager') as Promise<unknown> as Promise<GcpLib>,
      );
      const Client =
        (mod as GcpLib).SecretManagerServiceClient ??
        (mod as { default: GcpLib }).default?.SecretManagerServiceClient;
      const clientOptions: Record<string, unknown> = { ...options.clientOptions };
      if (location && clientOptions.apiEndpoint === undefined) {
        clientOptions.apiEndpoint = `secretmanager.${location}.rep.googleapis.com`;
      }
      return new Client(clientOptions);
    })();
    clientPromise.catch(() => {
      clientPromise = undefined;
    });
    return clientPromise;
  };

  let projectPromise: Promise<string> | undefined;
  const project = (): Promise<string> => {
    projectPromise ??= (async () => {
      const configured = options.projectId || env.GCP_PROJECT_ID || env.GOOGLE_CLOUD_PROJECT;
      if (configured) return configured;
      const c = await client();
      let discovered: string | undefined;
      try {
        // The SDK asks its credentials (a key file, the metadata server); any failure means "unknown".
        discovered = await c.getProjectId?.();
      } catch {
        discovered = undefined;
      }
      if (discovered) return discovered;
      throw new EnvmuxError('CONFIG', `provider "${id}" does not know the GCP project`, {
        provider: id,
        hint: 'set GCP_PROJECT_ID (or GOOGLE_CLOUD_PROJECT), or pass gcp({ projectId })',
      });
    })();
    projectPromise.catch(() => {
      projectPromise = undefined;
    });
    return projectPromise;
  };

  const parentOf = async (): Promise<string> => {
    const p = await project();
    return location ? `projects/${p}/locations/${location}` : `projects/${p}`;
  };

  /** Resolve a user's name to the store's resource. */
  const pathOf = async (name: string): Promise<SecretPath> => {
    const full = FULL_NAME.exec(name);
    if (full) return { parent: full[1]!, secretId: full[2]!, version: full[3] };
    const secretId = prefix + name;
    if (!SECRET_ID.test(secretId)) {
      throw new EnvmuxError('INVALID_REFERENCE', `"${name}" is not a valid GCP secret id`, {
        provider: id,
        hint: 'GCP secret ids are 1-255 letters, digits, "-" or "_" (or use a full name: projects/P/secrets/S)',
      });
    }
    return { parent: await parentOf(), secretId };
  };
  const secretName = (p: SecretPath) => `${p.parent}/secrets/${p.secretId}`;

  /**
   * One RPC, cancelled when `signal` aborts, with SDK errors mapped to ours. A gRPC status listed
   * in `tolerate` resolves to `undefined` instead (NOT_FOUND on delete, ALREADY_EXISTS on create).
   */
  const rpc = async <T>(
    call: { operation: string; name?: string; permission: string; tolerate?: string[] },
    signal: AbortSignal | undefined,
    send: (c: GcpSecretClient) => Promise<T>,
  ): Promise<T | undefined> => {
    signal?.throwIfAborted();
    const c = await client();
    // The client's methods return plain promises (no `cancel()`), so an aborted call is abandoned:
    // we stop waiting at once, and its late answer is ignored.
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal?.reason);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const pending = send(c);
      pending.catch(() => {});
      return await Promise.race([pending, aborted]);
    } catch (error) {
      const status = gcpStatusOf(error);
      if (status && call.tolerate?.includes(status)) return undefined;
      throw fromGcpError(error, { provider: id, ...call });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };

  /** Every version of a secret, newest first (undefined when the secret does not exist). */
  const listVersions = async (
    name: string,
    signal?: AbortSignal,
  ): Promise<GcpSecretVersion[] | undefined> => {
    const parent = secretName(await pathOf(name));
    const all: GcpSecretVersion[] = [];
    let pageToken: string | undefined;
    do {
      const answer = await rpc(
        {
          operation: 'ListSecretVersions',
          name,
          permission: 'secretmanager.versions.list',
          tolerate: ['NOT_FOUND'],
        },
        signal,
        (c) =>
          c.listSecretVersions(
            { parent, pageSize, ...(pageToken ? { pageToken } : {}) },
            { ...NO_RETRY, autoPaginate: false },
          ),
      );
      if (!answer) return undefined;
      all.push(...answer[0]);
      pageToken = answer[1]?.pageToken || undefined;
    } while (pageToken);
    return all.sort((a, b) => versionNumber(b) - versionNumber(a));
  };

  /** The version to access for a read context (undefined: there is no such version). */
  const versionFor = async (
    name: string,
    path: SecretPath,
    version: string | undefined,
    signal?: AbortSignal,
  ): Promise<string | undefined> => {
    const wanted = version ?? path.version ?? 'latest';
    if (wanted === 'previous') {
      const previous = previousOf((await listVersions(name, signal)) ?? []);
      return previous ? versionIdOf(previous) : undefined;
    }
    if (!VERSION_ID.test(wanted)) {
      throw new EnvmuxError('INVALID_REFERENCE', `"${wanted}" is not a GCP secret version`, {
        provider: id,
        hint: 'use a version number, "latest", "previous" or a version alias',
      });
    }
    return wanted;
  };

  const changeState = async (
    method: 'disableSecretVersion' | 'enableSecretVersion' | 'destroySecretVersion',
    name: string,
    version: string,
    signal?: AbortSignal,
  ): Promise<void> => {
    const path = await pathOf(name);
    const resolved = await versionFor(name, path, version, signal);
    if (!resolved) {
      throw new EnvmuxError('NOT_FOUND', `"${name}" has no version "${version}"`, { provider: id });
    }
    const verb = method.replace('SecretVersion', '');
    await rpc(
      {
        operation: `${verb[0]!.toUpperCase()}${verb.slice(1)}SecretVersion`,
        name,
        permission: `secretmanager.versions.${verb}`,
      },
      signal,
      (c) => c[method]({ name: `${secretName(path)}/versions/${resolved}` }, NO_RETRY),
    );
  };

  /**
   * Metadata as labels, except a retirement marker: labels allow only [a-z0-9_-] (≤ 63), so the
   * marker (`version@ISO date`) is an annotation, which allows free text.
   */
  const splitMetadata = (metadata: Record<string, string> | undefined) => {
    if (!metadata) return {};
    const { [RETIRE_METADATA]: marker, ...labels } = metadata;
    return {
      ...(Object.keys(labels).length || marker === undefined ? { labels } : {}),
      ...(marker === undefined ? {} : { marker: { [RETIRE_METADATA]: marker } }),
    };
  };

  const createSecret = async (path: SecretPath, name: string, ctx: WriteContext) => {
    const regional = path.parent.includes('/locations/');
    const { labels, marker } = splitMetadata(ctx.metadata);
    const annotations = metadataToStore(
      { ...(ctx.description !== undefined ? { description: ctx.description } : {}), ...marker },
      undefined,
    )!;
    const secret: Record<string, unknown> = {
      ...(regional ? {} : { replication: options.replication ?? { automatic: {} } }),
      ...(labels ? { labels } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ...(ctx.expiresAt ? { expireTime: toTimestamp(ctx.expiresAt) } : {}),
    };
    // ALREADY_EXISTS: someone created it in between; the caller adds its version to theirs.
    const answer = await rpc(
      {
        operation: 'CreateSecret',
        name,
        permission: 'secretmanager.secrets.create',
        tolerate: ['ALREADY_EXISTS'],
      },
      ctx.signal,
      (c) => c.createSecret({ parent: path.parent, secretId: path.secretId, secret }, NO_RETRY),
    );
    return answer !== undefined;
  };

  const updateSecret = async (path: SecretPath, name: string, ctx: WriteContext) => {
    const secret: Record<string, unknown> = { name: secretName(path) };
    const paths: string[] = [];
    const { labels, marker } = splitMetadata(ctx.metadata);
    if (labels) {
      secret.labels = labels;
      paths.push('labels');
    }
    if (marker || ctx.description !== undefined) {
      // The annotations map is replaced whole: keep the ones there (a scheduled retirement's marker,
      // the description) beside what this write names (docs/architecture.md "Writes").
      const current = (
        await rpc(
          { operation: 'GetSecret', name, permission: 'secretmanager.secrets.get' },
          ctx.signal,
          (c) => c.getSecret({ name: secretName(path) }, NO_RETRY),
        )
      )?.[0];
      // An empty marker clears it (a rollback restoring the annotations from before the rotation).
      secret.annotations = metadataToStore(
        {
          ...current?.annotations,
          ...(ctx.description !== undefined ? { description: ctx.description } : {}),
          ...marker,
        },
        undefined,
      );
      paths.push('annotations');
    }
    if (ctx.expiresAt) {
      secret.expireTime = toTimestamp(ctx.expiresAt);
      paths.push('expire_time');
    }
    if (!paths.length) return;
    await rpc(
      { operation: 'UpdateSecret', name, permission: 'secretmanager.secrets.update' },
      ctx.signal,
      (c) => c.updateSecret({ secret, updateMask: { paths } }, NO_RETRY),
    );
  };

  const provider: GcpProvider = {
    id,
    type: 'gcp',
    identity: ((p) => (p ? `gcp|${p}|${location ?? ''}|${prefix}` : undefined))(
      options.projectId || env.GCP_PROJECT_ID || env.GOOGLE_CLOUD_PROJECT,
    ),
    ttl: options.ttl,
    keepsMetadata: true,

    async get(name, ctx) {
      const path = await pathOf(name);
      const version = await versionFor(name, path, ctx.version, ctx.signal);
      if (version === undefined) return undefined;
      const resource = `${secretName(path)}/versions/${version}`;
      let answer: [GcpAccessResponse, ...unknown[]] | undefined;
      try {
        answer = await rpc(
          {
            operation: 'AccessSecretVersion',
            name,
            permission: 'secretmanager.versions.access',
            tolerate: ['NOT_FOUND'],
          },
          ctx.signal,
          (c) => c.accessSecretVersion({ name: resource }, NO_RETRY),
        );
      } catch (error) {
        const state = /is in (DISABLED|DESTROYED) state/.exec((error as Error).message)?.[1];
        if (!state) throw error;
        // `latest` names the newest version whatever its state; a disabled one is not served.
        throw new EnvmuxError('NOT_FOUND', `version "${version}" of "${name}" is ${state}`, {
          provider: id,
          hint: 'enable the version, add a new one, or pin an enabled version with ?version=N',
        });
      }
      return answer ? decodePayload(answer[0], name, id) : undefined;
    },

    async set(name, value, ctx): Promise<WriteResult> {
      const path = await pathOf(name);
      const parent = secretName(path);
      const data = Buffer.from(value, 'utf8');
      // The checksum lets the service reject a payload damaged on the way (INVALID_ARGUMENT).
      const add = () =>
        rpc(
          {
            operation: 'AddSecretVersion',
            name,
            permission: 'secretmanager.versions.add',
            tolerate: ['NOT_FOUND'],
          },
          ctx.signal,
          (c) =>
            c.addSecretVersion({ parent, payload: { data, dataCrc32c: crc32c(data) } }, NO_RETRY),
        );
      // Known new (a copy's listing): create first, then one version (2 requests, not 3).
      let created = ctx.create ? await createSecret(path, name, ctx) : false;
      let added = await add();
      if (!added) {
        if (!created) {
          created = await createSecret(path, name, ctx);
          added = await add();
        }
        if (!added) {
          throw new EnvmuxError('NOT_FOUND', `"${name}" disappeared while it was being written`, {
            provider: id,
            retryable: true,
          });
        }
      }
      if (!created) await updateSecret(path, name, ctx);
      return { version: versionIdOf(added[0]) };
    },

    async delete(name, ctx) {
      // Secret Manager has no recovery window: DeleteSecret removes every version at once.
      const path = await pathOf(name);
      await rpc(
        {
          operation: 'DeleteSecret',
          name,
          permission: 'secretmanager.secrets.delete',
          tolerate: ['NOT_FOUND'],
        },
        ctx.signal,
        (c) => c.deleteSecret({ name: secretName(path) }, NO_RETRY),
      );
    },

    async list(filter, ctx) {
      const parent = await parentOf();
      const wanted = prefix + filter;
      // `name:X` narrows on the server (a "has" match on the name); the exact prefix test is ours.
      const serverFilter = wanted && SECRET_ID.test(wanted) ? { filter: `name:${wanted}` } : {};
      const out: SecretInfo[] = [];
      let pageToken: string | undefined;
      do {
        const answer = await rpc(
          { operation: 'ListSecrets', permission: 'secretmanager.secrets.list' },
          ctx.signal,
          (c) =>
            c.listSecrets(
              { parent, pageSize, ...serverFilter, ...(pageToken ? { pageToken } : {}) },
              { ...NO_RETRY, autoPaginate: false },
            ),
        );
        for (const secret of answer?.[0] ?? []) {
          const secretId = lastSegment(secret.name);
          if (!secretId.startsWith(wanted)) continue;
          const marker = secret.annotations?.[RETIRE_METADATA];
          const labels =
            (secret.labels && Object.keys(secret.labels).length) || marker
              ? { ...secret.labels, ...(marker ? { [RETIRE_METADATA]: marker } : {}) }
              : undefined;
          out.push({
            name: secretId.slice(prefix.length),
            created: toDate(secret.createTime),
            expires: toDate(secret.expireTime),
            description: secret.annotations?.description,
            metadata: labels ? { ...labels } : undefined,
          });
        }
        pageToken = answer?.[1]?.pageToken || undefined;
        ctx.page?.(); // the next page has a call timeout of its own
      } while (pageToken);
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async versions(name, ctx): Promise<VersionInfo[]> {
      const versions = (await listVersions(name, ctx.signal)) ?? [];
      const previous = previousOf(versions);
      // Oldest first, latest last (the order every provider's `versions()` keeps).
      return [...versions].reverse().map((v) => {
        const state = stateOf(v);
        const stages: string[] = [];
        if (v === versions[0]) stages.push('latest');
        if (v === previous) stages.push('previous');
        if (state !== 'ENABLED') stages.push(state);
        return {
          version: versionIdOf(v),
          created: toDate(v.createTime),
          stages,
          enabled: state === 'ENABLED',
        };
      });
    },

    async health(ctx): Promise<HealthResult> {
      const started = Date.now();
      try {
        const parent = await parentOf();
        await rpc(
          { operation: 'ListSecrets', permission: 'secretmanager.secrets.list' },
          ctx.signal,
          (c) => c.listSecrets({ parent, pageSize: 1 }, { ...NO_RETRY, autoPaginate: false }),
        );
        return { ok: true, latencyMs: Date.now() - started, detail: parent };
      } catch (error) {
        const e = error as EnvmuxError;
        return {
          ok: false,
          latencyMs: Date.now() - started,
          detail: `${e.code ?? 'UNAVAILABLE'}: ${e.message}`,
        };
      }
    },

    async close() {
      const pending = clientPromise;
      clientPromise = undefined;
      if (!pending || options.client) return;
      const c = await pending.catch(() => undefined);
      await c?.close?.();
    },

    /**
     * Retire a version: DisableSecretVersion (reversible with enableVersion; destroyVersion is the
     * irreversible one). GCP's `latest` is the newest version whatever its state, so removing the
     * newest (a rollback) first adds the value of the enabled version before it as a new version.
     */
    async deleteVersion(name, version, ctx = {}) {
      const target = await versionToRetire(provider, name, version, ctx, (value, rewrite) =>
        provider.set!(name, value, rewrite),
      );
      if (!target) return;
      if (target.enabled) await changeState('disableSecretVersion', name, version, ctx.signal);
    },
    disableVersion: (name, version, ctx = {}) =>
      changeState('disableSecretVersion', name, version, ctx.signal),
    enableVersion: (name, version, ctx = {}) =>
      changeState('enableSecretVersion', name, version, ctx.signal),
    destroyVersion: (name, version, ctx = {}) =>
      changeState('destroySecretVersion', name, version, ctx.signal),
  };
  return provider;
}

/** The enabled version just before the newest one (`versions` newest first), if any. */
function previousOf(versions: GcpSecretVersion[]): GcpSecretVersion | undefined {
  const newest = versions[0];
  if (!newest) return undefined;
  return versions.find(
    (v) => v !== newest && stateOf(v) === 'ENABLED' && versionNumber(v) < versionNumber(newest),
  );
}

/**
 * The value of an access response, after checking `payload.dataCrc32c`. A mismatch is reported as
 * `UNAVAILABLE` (retryable): the service computed the checksum from what it stores, so a mismatch
 * means the bytes were damaged on the way to us, and Google's guidance is to request again. The
 * damaged bytes are never returned (nor shown).
 */
function decodePayload(response: GcpAccessResponse, name: string, provider: string): string {
  const raw = response.payload?.data;
  const data =
    raw == null ? new Uint8Array(0) : typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw;
  const expected = response.payload?.dataCrc32c;
  if (expected !== undefined && expected !== null) {
    const sent = Number(String(expected));
    if (Number.isFinite(sent) && sent !== crc32c(data)) {
      throw new EnvmuxError(
        'UNAVAILABLE',
        `provider "${provider}": the payload of "${name}" failed its CRC32C check (corrupted in transit)`,
        {
          provider,
          hint: 'retried automatically; if it persists, check proxies between you and Google',
        },
      );
    }
  }
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}

function stateOf(version: GcpSecretVersion): string {
  const s = version.state;
  return typeof s === 'number'
    ? (STATE_NAMES[s] ?? 'STATE_UNSPECIFIED')
    : String(s ?? 'STATE_UNSPECIFIED');
}

function lastSegment(name: string | null | undefined): string {
  const text = name ?? '';
  return text.slice(text.lastIndexOf('/') + 1);
}

function versionIdOf(version: GcpSecretVersion | undefined): string {
  return lastSegment(version?.name);
}

function versionNumber(version: GcpSecretVersion): number {
  const n = Number(versionIdOf(version));
  return Number.isFinite(n) ? n : -1;
}

function toDate(ts: GcpTimestamp): Date | undefined {
  if (!ts) return undefined;
  if (typeof ts === 'string') {
    const d = new Date(ts);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  const seconds = Number(String(ts.seconds ?? 0));
  const nanos = Number(ts.nanos ?? 0);
  if (!Number.isFinite(seconds) || (seconds === 0 && nanos === 0)) return undefined;
  return new Date(seconds * 1000 + Math.floor(nanos / 1e6));
}

function toTimestamp(date: Date): { seconds: number; nanos: number } {
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}
