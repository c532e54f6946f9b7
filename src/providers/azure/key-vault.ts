// `azure` provider: Azure Key Vault secrets through @azure/keyvault-secrets (+ @azure/identity for the
// default credential), both optional peers loaded on first use. Never logs, and never puts a value in an error.

import {
  classify,
  EnvmuxError,
  type ErrorCode,
  httpStatusOf,
  isEnvmuxError,
} from '../../errors.js';
import { importLib } from '../import-lib.js';
import type { HealthResult, Provider, SecretInfo, VersionInfo, WriteResult } from '../provider.js';
import { metadataToStore, versionToRetire } from '../retire-version.js';
import { AZURE_NAME_MAX, decodeAzureName, encodeAzureName } from './names.js';

/** The npm packages this provider loads (the second only for the default credential). */
export const AZURE_PACKAGES = ['@azure/keyvault-secrets', '@azure/identity'] as const;

/** An `@azure/core-auth` TokenCredential: what the client authenticates with. */
export interface AzureTokenCredential {
  getToken(
    scopes: string | string[],
    options?: object,
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/** Secret properties as the SDK returns them (never the value). */
export interface AzureSecretProperties {
  name: string;
  version?: string;
  enabled?: boolean;
  createdOn?: Date;
  updatedOn?: Date;
  expiresOn?: Date;
  contentType?: string;
  tags?: Record<string, string>;
  recoveryId?: string;
}

/** A page-able async iterator, as `listPropertiesOf...` return. */
interface AzurePagedIterator<T> extends AsyncIterable<T> {
  byPage(settings?: { maxPageSize?: number }): AsyncIterableIterator<T[]>;
}

/** The calls this provider makes on the SDK's `SecretClient`. */
export interface AzureSecretClient {
  getSecret(
    name: string,
    options?: { version?: string; abortSignal?: AbortSignal },
  ): Promise<{ value?: string; properties: AzureSecretProperties }>;
  setSecret(
    name: string,
    value: string,
    options?: object,
  ): Promise<{ properties: AzureSecretProperties }>;
  beginDeleteSecret(
    name: string,
    options?: { intervalInMs?: number; abortSignal?: AbortSignal },
  ): Promise<{
    pollUntilDone(options?: { abortSignal?: AbortSignal }): Promise<unknown>;
    getResult(): { properties?: AzureSecretProperties } | undefined;
  }>;
  purgeDeletedSecret(name: string, options?: { abortSignal?: AbortSignal }): Promise<void>;
  updateSecretProperties(
    name: string,
    version: string,
    options?: { enabled?: boolean; abortSignal?: AbortSignal },
  ): Promise<AzureSecretProperties>;
  beginRecoverDeletedSecret(
    name: string,
    options?: { intervalInMs?: number; abortSignal?: AbortSignal },
  ): Promise<{ pollUntilDone(options?: { abortSignal?: AbortSignal }): Promise<unknown> }>;
  listPropertiesOfSecrets(options?: {
    abortSignal?: AbortSignal;
  }): AzurePagedIterator<AzureSecretProperties>;
  listPropertiesOfSecretVersions(
    name: string,
    options?: { abortSignal?: AbortSignal },
  ): AzurePagedIterator<AzureSecretProperties>;
}

/** What `lib` must provide: the `@azure/keyvault-secrets` module's client class. */
export interface AzureLib {
  SecretClient: new (
    vaultUrl: string,
    credential: AzureTokenCredential,
    options?: Record<string, unknown>,
  ) => AzureSecretClient;
}

/** What `identityLib` must provide: the `@azure/identity` module's default credential. */
export interface AzureIdentityLib {
  DefaultAzureCredential: new (options?: Record<string, unknown>) => AzureTokenCredential;
}

export interface AzureProviderOptions {
  /** Chain id; default `azure`. */
  id?: string;
  /**
   * The vault (`https://NAME.vault.azure.net`); default `AZURE_KEYVAULT_URL`, else
   * `https://${AZURE_KEY_VAULT_NAME}.vault.azure.net`.
   */
  vaultUrl?: string;
  /**
   * Prepended to every Key Vault name, after the name mapping (`myapp-` + `db`); letters, digits
   * and dashes only. Default `AZURE_SECRET_PREFIX`.
   */
  prefix?: string;
  /** How to authenticate; default `new DefaultAzureCredential()` from @azure/identity. */
  credential?: AzureTokenCredential;
  /**
   * Options for the SDK's `SecretClient` (`serviceVersion`, `tlsOptions`,
   * `disableChallengeResourceVerification`, ...). Its own retries are always turned off
   * (`retryOptions.maxRetries: 0`): the resolver retries.
   */
  clientOptions?: Record<string, unknown>;
  /** A ready client (tests, custom pipelines); `vaultUrl`, `credential` and `lib` are then unused. */
  client?: AzureSecretClient;
  /** The `@azure/keyvault-secrets` module, handed in instead of imported (bundlers, tests). */
  lib?: AzureLib;
  /** The `@azure/identity` module, handed in instead of imported. */
  identityLib?: AzureIdentityLib;
  /** `contentType` of the secrets `set` writes, unless `metadata.contentType` says otherwise. */
  contentType?: string;
  /**
   * How often a forced delete polls for the soft delete to finish before it purges, in ms;
   * default 2,000 (Key Vault takes seconds).
   */
  pollIntervalMs?: number;
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
  /** Environment for the defaults above; default `process.env`. */
  env?: Record<string, string | undefined>;
}

const VERSION_ID = /^[A-Za-z0-9]{1,64}$/;

/** The vault URL the options and environment name, if any. */
export function azureVaultUrl(
  options: Pick<AzureProviderOptions, 'vaultUrl'>,
  env: Record<string, string | undefined>,
): string | undefined {
  if (options.vaultUrl) return options.vaultUrl;
  if (env.AZURE_KEYVAULT_URL) return env.AZURE_KEYVAULT_URL;
  const name = env.AZURE_KEY_VAULT_NAME;
  return name ? `https://${name}.vault.azure.net` : undefined;
}

/**
 * Secrets from Azure Key Vault. Names go through the reversible mapping of `names.ts`
 * (`prod/db` → `prod--db`, `DB_PASSWORD` → `DB-x5f-PASSWORD`); valid Key Vault names map to themselves.
 */
export function azure(options: AzureProviderOptions = {}): Provider {
  const id = options.id ?? 'azure';
  const env = options.env ?? process.env;
  const prefix = options.prefix ?? env.AZURE_SECRET_PREFIX ?? '';
  const pollIntervalMs = options.pollIntervalMs ?? 2000;

  const configError = (message: string, hint: string) =>
    new EnvmuxError('CONFIG', `provider "${id}": ${message}`, { provider: id, hint });

  let clientPromise: Promise<AzureSecretClient> | undefined;
  const client = (): Promise<AzureSecretClient> => {
    clientPromise ??= (async () => {
      if (options.client) return options.client;
      if (!/^[A-Za-z0-9-]*$/.test(prefix)) {
        throw configError(
          `the prefix "${prefix}" is not a Key Vault name part`,
          'AZURE_SECRET_PREFIX may hold only letters, digits and dashes',
        );
      }
      const vaultUrl = azureVaultUrl(options, env);
      if (!vaultUrl) {
        throw configError(
          'no vault is configured',
          'set AZURE_KEYVAULT_URL (https://NAME.vault.azure.net) or AZURE_KEY_VAULT_NAME, or pass azure({ vaultUrl })',
        );
      }
      const mod = await importLib<AzureLib | { default: AzureLib }>(
        id,
        '@azure/keyvault-secrets',
        options.lib,
        () => import('@azure/keyvault-secrets') as Promise<unknown> as Promise<AzureLib>,
      );
      const SecretClient =
        (mod as AzureLib).SecretClient ?? (mod as { default: AzureLib }).default?.SecretClient;
      let credential = options.credential;
      if (!credential) {
        const identity = await importLib<AzureIdentityLib | { default: AzureIdentityLib }>(
          id,
          '@azure/identity',
          options.identityLib,
          () => import('@azure/identity') as Promise<unknown> as Promise<AzureIdentityLib>,
        );
        const Credential =
          (identity as AzureIdentityLib).DefaultAzureCredential ??
          (identity as { default: AzureIdentityLib }).default?.DefaultAzureCredential;
        credential = new Credential();
      }
      const clientOptions = options.clientOptions ?? {};
      return new SecretClient(vaultUrl, credential, {
        ...clientOptions,
        retryOptions: {
          ...(clientOptions.retryOptions as object | undefined),
          maxRetries: 0,
        },
      });
    })();
    clientPromise.catch(() => {
      clientPromise = undefined;
    });
    return clientPromise;
  };

  /** The Key Vault name of `name`, checked against Key Vault's limits. */
  const vaultNameOf = (name: string): string => {
    const vaultName = prefix + encodeAzureName(name);
    if (!name || vaultName.length > AZURE_NAME_MAX) {
      throw new EnvmuxError(
        'INVALID_REFERENCE',
        name
          ? `"${name}" maps to a Key Vault name of ${vaultName.length} characters (at most ${AZURE_NAME_MAX})`
          : 'an empty name is not a Key Vault secret',
        {
          provider: id,
          hint: 'use a shorter name (characters other than letters, digits, "-" and "/" take 4-8 each)',
        },
      );
    }
    return vaultName;
  };

  /** One SDK call with its errors mapped to ours; a status in `tolerate` resolves to `undefined`. */
  const call = async <T>(
    what: { operation: string; name?: string; permission: string; tolerate?: number[] },
    send: (c: AzureSecretClient) => Promise<T>,
  ): Promise<T | undefined> => {
    const c = await client();
    try {
      return await send(c);
    } catch (error) {
      const status = statusOf(error);
      if (status !== undefined && what.tolerate?.includes(status)) return undefined;
      throw fromAzureError(error, { provider: id, ...what });
    }
  };

  /**
   * Every version of a secret, newest first. Key Vault dates versions in whole seconds, so versions
   * written within one second tie: the current version (what a read without a version returns)
   * is asked for and put first.
   */
  const listVersions = async (name: string, signal?: AbortSignal) => {
    const vaultName = vaultNameOf(name);
    const [all, current] = await Promise.all([
      call(
        { operation: 'ListSecretVersions', name, permission: 'secrets/list', tolerate: [404] },
        async (c) => {
          const out: AzureSecretProperties[] = [];
          for await (const p of c.listPropertiesOfSecretVersions(vaultName, {
            abortSignal: signal,
          })) {
            out.push(p);
          }
          return out;
        },
      ),
      // Only the version id is used; a disabled or unreadable current version leaves the order as is.
      call({ operation: 'GetSecret', name, permission: 'secrets/get' }, (c) =>
        c.getSecret(vaultName, { abortSignal: signal }),
      ).then(
        (secret) => secret?.properties.version,
        () => undefined,
      ),
    ]);
    const time = (v: AzureSecretProperties) => v.createdOn?.getTime() ?? 0;
    return (all ?? []).sort(
      (a, b) => time(b) - time(a) || Number(b.version === current) - Number(a.version === current),
    );
  };

  const provider: Provider = {
    id,
    type: 'azure',
    identity: ((url) => (url ? `azure|${url}|${prefix}` : undefined))(azureVaultUrl(options, env)),
    ttl: options.ttl,
    // Tags belong to a version; listing secrets answers the current version's tags.
    keepsMetadata: true,

    async get(name, ctx) {
      const vaultName = vaultNameOf(name);
      let version = ctx.version === undefined || ctx.version === 'latest' ? '' : ctx.version;
      if (version === 'previous') {
        const previous = previousOf(await listVersions(name, ctx.signal));
        if (!previous?.version) return undefined;
        version = previous.version;
      } else if (version && !VERSION_ID.test(version)) {
        throw new EnvmuxError(
          'INVALID_REFERENCE',
          `"${version}" is not a Key Vault secret version`,
          {
            provider: id,
            hint: 'use a version id (32 hex characters), "latest" or "previous"',
          },
        );
      }
      try {
        const secret = await call(
          { operation: 'GetSecret', name, permission: 'secrets/get', tolerate: [404] },
          (c) => c.getSecret(vaultName, { version, abortSignal: ctx.signal }),
        );
        return secret ? (secret.value ?? '') : undefined;
      } catch (error) {
        if (!/disabled secret|SecretDisabled/i.test((error as Error).message)) throw error;
        // Key Vault answers 403 for a disabled secret: it exists but is not served.
        throw new EnvmuxError('NOT_FOUND', `"${name}" is disabled in Key Vault`, {
          provider: id,
          hint: 'enable the secret (or its current version), or pin an enabled version',
        });
      }
    },

    async set(name, value, ctx): Promise<WriteResult> {
      const vaultName = vaultNameOf(name);
      const { contentType, ...given } = ctx.metadata ?? {};
      // Tags belong to a version: the new one carries the current one's (a scheduled retirement's
      // marker, the description, the rest unless this write names its own). A current version that
      // cannot be read (disabled, or no get permission) has none to carry.
      const current = ctx.create
        ? undefined
        : await call(
            { operation: 'GetSecret', name, permission: 'secrets/get', tolerate: [403, 404] },
            (c) => c.getSecret(vaultName, { abortSignal: ctx.signal }),
          );
      const { description, ...currentTags } = current?.properties.tags ?? {};
      const tags = {
        ...(description !== undefined ? { description } : {}),
        ...metadataToStore(ctx.metadata && given, currentTags),
        ...(ctx.description !== undefined ? { description: ctx.description } : {}),
      };
      const write = (c: AzureSecretClient) =>
        c.setSecret(vaultName, value, {
          contentType: contentType ?? options.contentType,
          ...(Object.keys(tags).length ? { tags } : {}),
          ...(ctx.expiresAt ? { expiresOn: ctx.expiresAt } : {}),
          abortSignal: ctx.signal,
        });
      const result = await call({ operation: 'SetSecret', name, permission: 'secrets/set' }, (c) =>
        write(c).catch(async (error) => {
          if (!isDeletedButRecoverable(error)) throw error;
          // The name is held by a soft-deleted secret: recover it (its versions return as
          // history, nothing is purged), then add the new version on top.
          const poller = await c.beginRecoverDeletedSecret(vaultName, {
            intervalInMs: pollIntervalMs,
            abortSignal: ctx.signal,
          });
          await poller.pollUntilDone({ abortSignal: ctx.signal });
          return write(c);
        }),
      );
      return { version: result?.properties.version };
    },

    async delete(name, ctx) {
      const vaultName = vaultNameOf(name);
      // Soft delete: the secret is kept for the vault's retention period and can be recovered.
      const poller = await call(
        { operation: 'DeleteSecret', name, permission: 'secrets/delete', tolerate: [404] },
        (c) =>
          c.beginDeleteSecret(vaultName, { intervalInMs: pollIntervalMs, abortSignal: ctx.signal }),
      );
      if (!ctx.force) return;
      if (poller) {
        // A vault without soft delete deletes at once (no recoveryId): nothing is left to purge.
        if (!poller.getResult()?.properties?.recoveryId) return;
        await call({ operation: 'DeleteSecret', name, permission: 'secrets/get' }, () =>
          poller.pollUntilDone({ abortSignal: ctx.signal }),
        );
      }
      await call(
        { operation: 'PurgeDeletedSecret', name, permission: 'secrets/purge', tolerate: [404] },
        (c) => c.purgeDeletedSecret(vaultName, { abortSignal: ctx.signal }),
      );
    },

    async list(filter, ctx) {
      const out: SecretInfo[] = [];
      await call({ operation: 'ListSecrets', permission: 'secrets/list' }, async (c) => {
        // Key Vault has no server-side name filter; names are decoded, then matched.
        for await (const p of c.listPropertiesOfSecrets({ abortSignal: ctx.signal })) {
          if (!p.name.startsWith(prefix)) continue;
          const name = decodeAzureName(p.name.slice(prefix.length));
          if (name === undefined || !name.startsWith(filter)) continue;
          const { description, ...tags } = p.tags ?? {};
          out.push({
            name,
            ...(description !== undefined ? { description } : {}),
            created: p.createdOn,
            updated: p.updatedOn,
            expires: p.expiresOn,
            ...(Object.keys(tags).length ? { metadata: tags } : {}),
          });
        }
      });
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    /**
     * Retire a version: Key Vault deletes secrets, not versions, so the version is disabled (Update
     * Secret with `attributes.enabled = false`): reads of it answer 403, `previous` skips it. A
     * disabled newest version would make the secret unreadable, so removing the newest (a rollback)
     * first writes the value of the enabled version before it as a new version.
     */
    async deleteVersion(name, version, ctx = {}) {
      const target = await versionToRetire(provider, name, version, ctx, (value, rewrite) =>
        provider.set!(name, value, rewrite),
      );
      if (!target) return;
      if (!target.enabled) return;
      await call({ operation: 'UpdateSecretProperties', name, permission: 'secrets/set' }, (c) =>
        c.updateSecretProperties(vaultNameOf(name), version, {
          enabled: false,
          abortSignal: ctx.signal,
        }),
      );
    },

    async versions(name, ctx): Promise<VersionInfo[]> {
      const versions = await listVersions(name, ctx.signal);
      const previous = previousOf(versions);
      // Oldest first, latest last (the order every provider's `versions()` keeps).
      return [...versions].reverse().map((v) => {
        const stages: string[] = [];
        if (v === versions[0]) stages.push('latest');
        if (v === previous) stages.push('previous');
        return {
          version: v.version ?? '',
          created: v.createdOn,
          stages,
          enabled: v.enabled !== false,
        };
      });
    },

    async health(ctx): Promise<HealthResult> {
      const started = Date.now();
      try {
        await call({ operation: 'ListSecrets', permission: 'secrets/list' }, async (c) => {
          const pages = c.listPropertiesOfSecrets({ abortSignal: ctx.signal }).byPage({
            maxPageSize: 1,
          });
          await pages.next();
        });
        return { ok: true, latencyMs: Date.now() - started, detail: azureVaultUrl(options, env) };
      } catch (error) {
        const e = error as EnvmuxError;
        return { ok: false, latencyMs: Date.now() - started, detail: `${e.code}: ${e.message}` };
      }
    },
  };
  return provider;
}

/** The newest enabled version after the newest one (`versions` newest first), if any. */
function previousOf(versions: AzureSecretProperties[]): AzureSecretProperties | undefined {
  return versions.slice(1).find((v) => v.enabled !== false);
}

/** Key Vault's 409 for a name still held by a soft-deleted secret. */
function isDeletedButRecoverable(error: unknown): boolean {
  return (
    statusOf(error) === 409 &&
    /deleted but recoverable|ObjectIsDeletedButRecoverable/i.test(String((error as Error).message))
  );
}

/** The HTTP status of an SDK error (`RestError.statusCode`, or its raw response's), if it has one. */
const statusOf = httpStatusOf;

/** @azure/identity's error names: the credential could not get a token. */
const CREDENTIAL_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
  'AuthenticationRequiredError',
]);

interface AzureErrorContext {
  provider: string;
  operation: string;
  name?: string;
  /** The Key Vault permission a denial is about (`secrets/get`). */
  permission: string;
}

/**
 * Map an SDK error to an {@link EnvmuxError}: credential errors are AUTH_FAILED, then by HTTP status
 * (404, 429, 403, 401, 409, 5xx), then by network error code. Keeps Key Vault's message (it names
 * secrets, never values); the request, which may hold a value, is never kept.
 */
export function fromAzureError(error: unknown, context: AzureErrorContext): EnvmuxError {
  if (isEnvmuxError(error)) {
    if (error.provider === undefined) error.provider = context.provider;
    return error;
  }
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  const status = statusOf(error);
  let code: ErrorCode;
  if (typeof e.name === 'string' && CREDENTIAL_ERRORS.has(e.name)) code = 'AUTH_FAILED';
  else if (status === 404) code = 'NOT_FOUND';
  else if (status === 429) code = 'THROTTLED';
  else if (status === 403) code = 'ACCESS_DENIED';
  else if (status === 401) code = 'AUTH_FAILED';
  else if (status === 409) code = 'CONFIG';
  else if (status === 400) code = 'INVALID_REFERENCE';
  else if (status === 408) code = 'TIMEOUT';
  else if (status !== undefined && status >= 500) code = 'UNAVAILABLE';
  else code = classify(error);
  const message = typeof e.message === 'string' ? e.message : String(error);
  const detail = [typeof e.code === 'string' ? e.code : status, truncate(message, 160)]
    .filter((x) => x !== undefined && x !== '')
    .join(': ');
  const subject = context.name ? ` "${context.name}"` : '';
  return new EnvmuxError(
    code,
    `provider "${context.provider}": ${context.operation}${subject} failed (${detail})`,
    { provider: context.provider, hint: hintFor(code, context, message), cause: error },
  );
}

function hintFor(code: ErrorCode, context: AzureErrorContext, message: string): string | undefined {
  switch (code) {
    case 'ACCESS_DENIED':
      return `the Azure identity needs ${context.permission} on the vault (RBAC: Key Vault Secrets User / Officer, or an access policy)`;
    case 'AUTH_FAILED':
      return 'no usable Azure credentials: run `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or use a managed identity';
    case 'THROTTLED':
      return 'Key Vault is rate limiting (per vault, per 10 s): envmux retries with backoff; a longer cache TTL helps';
    case 'CONFIG':
      return /deleted but recoverable|ObjectIsDeletedButRecoverable/i.test(message)
        ? 'a deleted secret with this name is kept for recovery: the identity needs secrets/recover, or purge it (delete with force)'
        : undefined;
    default:
      return undefined;
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
