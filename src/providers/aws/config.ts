// Shared client settings of the `aws` and `ssm` providers: region, endpoint and credentials (the
// SDK's default chain, explicit keys, or a role assumed through STS, loaded lazily). Never logs keys.

import { EnvmuxError } from '../../errors.js';
import { importLib } from '../import-lib.js';
import { fromAwsError } from './errors.js';

/** Static keys, as `aws configure` would store them. */
export interface AwsStaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A role to assume with STS `AssumeRole` (needs `@aws-sdk/client-sts`, loaded on first use). */
export interface AwsAssumeRole {
  /** `arn:aws:iam::123456789012:role/app-secrets`. */
  roleArn: string;
  /** Default `envmux-<pid>`. */
  roleSessionName?: string;
  /** For roles whose trust policy requires one. */
  externalId?: string;
  /** Session length in seconds; default the role's (1 h). The SDK renews it before it expires. */
  durationSeconds?: number;
  /** Credentials that assume the role; default the SDK's default chain. */
  source?: AwsStaticCredentials | AwsCredentialProvider;
  /** STS region; default the provider's region. */
  region?: string;
  /** STS endpoint override (FIPS, VPC endpoint, a test server); default `AWS_ENDPOINT_URL_STS`. */
  endpoint?: string;
  /** The `@aws-sdk/client-sts` module, handed in (bundlers, tests). */
  lib?: object;
}

/** A function resolving to credentials, as the SDK accepts (`fromIni()`, `fromSSO()`, ...). */
export type AwsCredentialProvider = () => Promise<AwsStaticCredentials & { expiration?: Date }>;

/** How an AWS provider authenticates: default chain (omit), keys, a role, or an SDK provider. */
export type AwsCredentials = AwsStaticCredentials | AwsAssumeRole | AwsCredentialProvider;

/** The slice of an SDK v3 client the providers use (handed in as `client`). */
export interface AwsSdkClient {
  send(command: any, options?: any): Promise<any>;
  destroy?(): void;
}

/** Options both AWS providers share. */
export interface AwsCommonOptions {
  /** Region; default the SDK's (`AWS_REGION`, the profile). */
  region?: string;
  /** Endpoint override (VPC endpoint, LocalStack, a test server); default the SDK's resolution. */
  endpoint?: string;
  /**
   * Credentials: omitted = the SDK's default chain (env keys, SSO/profile, web identity, ECS/EC2
   * role); `{ accessKeyId, secretAccessKey }`; `{ roleArn }` to assume a role; or an SDK provider.
   */
  credentials?: AwsCredentials;
  /**
   * Extra settings for the SDK client constructor, applied last. envmux sets `maxAttempts: 1`
   * (the resolver retries with backoff, audit and deadline); set it here to let the SDK retry too.
   */
  clientConfig?: Record<string, unknown>;
  /** A ready SDK client (tests, custom middleware); envmux then never creates or destroys one. */
  client?: AwsSdkClient;
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
}

function isRole(c: AwsCredentials): c is AwsAssumeRole {
  return typeof c === 'object' && typeof (c as AwsAssumeRole).roleArn === 'string';
}

/** A credential provider that assumes `role` through STS (the SDK memoizes and renews it). */
function assumeRoleProvider(
  providerId: string,
  role: AwsAssumeRole,
  region: string | undefined,
): AwsCredentialProvider {
  return async () => {
    const sts = await importLib(
      providerId,
      '@aws-sdk/client-sts',
      role.lib as typeof import('@aws-sdk/client-sts') | undefined,
      () => import('@aws-sdk/client-sts'),
    );
    const client = new sts.STSClient({
      region: role.region ?? region,
      ...(role.endpoint ? { endpoint: role.endpoint } : {}),
      ...(role.source ? { credentials: role.source } : {}),
      maxAttempts: 1,
    });
    try {
      const out = await client.send(
        new sts.AssumeRoleCommand({
          RoleArn: role.roleArn,
          RoleSessionName: role.roleSessionName ?? `envmux-${process.pid}`,
          ExternalId: role.externalId,
          DurationSeconds: role.durationSeconds,
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) {
        throw new EnvmuxError('AUTH_FAILED', `STS returned no credentials for ${role.roleArn}`, {
          provider: providerId,
        });
      }
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
    } catch (error) {
      const e = fromAwsError(error, {
        provider: providerId,
        operation: 'AssumeRole',
        name: role.roleArn,
        action: 'sts:AssumeRole',
      });
      // Whatever stopped the role from being assumed, reads cannot authenticate.
      throw e.code === 'ACCESS_DENIED' || e.code === 'INVALID_REFERENCE'
        ? new EnvmuxError('AUTH_FAILED', e.message, {
            provider: providerId,
            hint: `the source identity needs sts:AssumeRole on ${role.roleArn} (and the role's trust policy must allow it)`,
          })
        : e;
    } finally {
      client.destroy();
    }
  };
}

/** The SDK client constructor settings for `options` (region, endpoint, credentials, attempts). */
export function clientSettings(
  providerId: string,
  options: AwsCommonOptions,
): Record<string, unknown> {
  const settings: Record<string, unknown> = { maxAttempts: 1 };
  if (options.region) settings.region = options.region;
  if (options.endpoint) settings.endpoint = options.endpoint;
  const c = options.credentials;
  if (c) settings.credentials = isRole(c) ? assumeRoleProvider(providerId, c, options.region) : c;
  return { ...settings, ...options.clientConfig };
}

/**
 * A store's identity for the shared cache tier (see `Provider.identity`): service, region, endpoint,
 * name prefix and the configured principal (role ARN, access key id, profile). Undefined — never
 * shared across processes — when the principal is a function or the client was handed in.
 */
export function awsIdentity(service: string, options: AwsCommonOptions, prefix: string) {
  const c = options.credentials;
  if (options.client || typeof c === 'function') return undefined;
  const env = process.env;
  const principal = c
    ? isRole(c)
      ? c.roleArn
      : c.accessKeyId
    : env.AWS_ROLE_ARN || env.AWS_ACCESS_KEY_ID || `profile:${env.AWS_PROFILE ?? 'default'}`;
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? '';
  return [service, region, options.endpoint ?? '', prefix, principal].join('|');
}

/** Environment → common options: region, endpoint, explicit keys when the record holds them. */
export function commonOptionsFromEnv(
  environment: Record<string, string | undefined>,
  service: { regionVars: string[]; endpointVars: string[] },
): AwsCommonOptions {
  const pick = (names: string[]) => names.map((n) => environment[n]).find((v) => v);
  const options: AwsCommonOptions = {};
  const region = pick(service.regionVars);
  const endpoint = pick(service.endpointVars);
  if (region) options.region = region;
  if (endpoint) options.endpoint = endpoint;
  // The SDK reads process.env itself; pass keys only when resolving from another record.
  if (
    environment !== process.env &&
    environment.AWS_ACCESS_KEY_ID &&
    environment.AWS_SECRET_ACCESS_KEY
  ) {
    options.credentials = {
      accessKeyId: environment.AWS_ACCESS_KEY_ID,
      secretAccessKey: environment.AWS_SECRET_ACCESS_KEY,
      ...(environment.AWS_SESSION_TOKEN ? { sessionToken: environment.AWS_SESSION_TOKEN } : {}),
    };
  }
  return options;
}

/** Lazily create (and on `reset`, recreate) one SDK client; an injected client is used as is. */
export function lazyClient<C extends AwsSdkClient>(
  injected: AwsSdkClient | undefined,
  create: () => Promise<C>,
): { get(): Promise<C>; reset(): void; close(): void } {
  let pending: Promise<C> | undefined;
  return {
    get() {
      if (injected) return Promise.resolve(injected as C);
      pending ??= create().catch((error) => {
        pending = undefined;
        throw error;
      });
      return pending;
    },
    reset() {
      if (injected || !pending) return;
      const old = pending;
      pending = undefined;
      void old.then((c) => c.destroy?.()).catch(() => {});
    },
    close() {
      this.reset();
    },
  };
}
