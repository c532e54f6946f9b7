// `aws` provider: AWS Secrets Manager through `@aws-sdk/client-secrets-manager` (an optional peer,
// imported on first use). Batch reads, stages, versions, writes, rotation; never puts a value in an error.

import type {
  BatchGetSecretValueCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { EnvmuxError } from '../../errors.js';
import { importLibOnce } from '../import-lib.js';
import { type Provider, RETIRE_METADATA, type SecretInfo, type VersionInfo } from '../provider.js';
import { onlyVersionError } from '../retire-version.js';
import {
  type AwsCommonOptions,
  awsIdentity,
  clientSettings,
  commonOptionsFromEnv,
} from './config.js';
import { fromAwsError, isAwsMarkedForDeletion, isAwsNotFound } from './errors.js';
import { awsSdkCalls } from './sdk-calls.js';

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

/** BatchGetSecretValue takes at most 20 ids per call. */
const MAX_BATCH = 20;

export interface AwsProviderOptions extends AwsCommonOptions {
  /** Chain id; default `aws`. */
  id?: string;
  /** Prepended to every name (`prod/` + `db` = `prod/db`); ARNs are used as given. `AWS_SECRET_PREFIX`. */
  prefix?: string;
  /**
   * How a binary secret (`SecretBinary`) becomes a string: `base64` (default, lossless) or `utf8`
   * (for text files stored as binary, such as PEM keys).
   */
  binary?: 'base64' | 'utf8';
  /** Read latest values with BatchGetSecretValue (default true; at most 20 names per call). */
  batch?: boolean;
  /** Names per BatchGetSecretValue call, 1–20; default 20. */
  batchSize?: number;
  /** KMS key (id, ARN or alias) for secrets this provider creates; default `aws/secretsmanager`. */
  kmsKeyId?: string;
  /** Days a deleted secret can be restored, 7–30; default AWS's (30). `force` skips it. */
  recoveryWindowDays?: number;
  /**
   * Native rotation: a rotation Lambda's ARN, or `true` for secrets whose rotation is already
   * configured in AWS. Without it, `rotate` generates a value and puts it as the new version.
   */
  rotation?: string | true;
  /**
   * With native rotation: how often AWS rotates by itself — `30d` (AutomaticallyAfterDays), a number
   * of days, or an AWS schedule expression (`rate(10 days)`, `cron(0 4 1 * ? *)`).
   */
  rotationSchedule?: string | number;
  /** The `@aws-sdk/client-secrets-manager` module, handed in (bundlers, tests). */
  lib?: object;
}

/**
 * Secrets from AWS Secrets Manager. Versions: `previous` = `AWSPREVIOUS`, `latest`/`current` =
 * `AWSCURRENT`, a 32–64 character id = a `VersionId`, anything else = a staging label.
 */
export function aws(options: AwsProviderOptions = {}): Provider {
  const id = options.id ?? 'aws';
  const prefix = options.prefix ?? '';
  const binary = options.binary ?? 'base64';
  const loadSdk = importLibOnce(
    id,
    '@aws-sdk/client-secrets-manager',
    options.lib as Sdk | undefined,
    () => import('@aws-sdk/client-secrets-manager'),
  );
  const { send, lifecycle } = awsSdkCalls<Sdk, SecretsManagerClient>({
    id,
    service: 'secretsmanager',
    loadSdk,
    injected: options.client,
    create: (lib) => new lib.SecretsManagerClient(clientSettings(id, options)),
  });

  const full = (name: string) => (name.startsWith('arn:') ? name : prefix + name);
  const short = (name: string) =>
    prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;

  const secretText = (out: { SecretString?: string; SecretBinary?: Uint8Array }) => {
    if (typeof out.SecretString === 'string') return out.SecretString;
    if (out.SecretBinary) return Buffer.from(out.SecretBinary).toString(binary);
    return undefined;
  };

  const versionSelector = (version: string | undefined) => {
    if (version === undefined || version === 'latest' || version === 'current') return {};
    if (version === 'previous') return { VersionStage: 'AWSPREVIOUS' };
    return /^[A-Za-z0-9-]{32,64}$/.test(version)
      ? { VersionId: version }
      : { VersionStage: version };
  };

  /** Put a new version of an existing secret; `false` when there is no such secret. */
  const putValue = async (
    name: string,
    value: string,
    description: string | undefined,
    signal?: AbortSignal,
  ): Promise<{ VersionId?: string } | false> => {
    const input = { SecretId: full(name), SecretString: value };
    try {
      return description === undefined
        ? await send('PutSecretValue', name, (l) => new l.PutSecretValueCommand(input), signal)
        : await send(
            'UpdateSecret',
            name,
            (l) => new l.UpdateSecretCommand({ ...input, Description: description }),
            signal,
          );
    } catch (error) {
      if (error instanceof EnvmuxError && error.code === 'NOT_FOUND') return false;
      // Soft-deleted: restore it, then put (what a user who sets a name again expects).
      if (isAwsMarkedForDeletion(error)) {
        await send(
          'RestoreSecret',
          name,
          (l) => new l.RestoreSecretCommand({ SecretId: full(name) }),
          signal,
        );
        return putValue(name, value, description, signal);
      }
      throw error;
    }
  };

  /** An existing secret keeps its tags; TagResource adds or overwrites the ones given. */
  const tag = async (name: string, metadata?: Record<string, string>, signal?: AbortSignal) => {
    if (!metadata || !Object.keys(metadata).length) return;
    const Tags = Object.entries(metadata).map(([Key, Value]) => ({ Key, Value }));
    await send(
      'TagResource',
      name,
      (l) => new l.TagResourceCommand({ SecretId: full(name), Tags }),
      signal,
    );
  };

  const provider: Provider = {
    id,
    type: 'aws',
    identity: awsIdentity('aws', options, prefix),
    ttl: options.ttl,
    keepsMetadata: true,
    async get(name, ctx) {
      try {
        const out = await send<{ SecretString?: string; SecretBinary?: Uint8Array }>(
          'GetSecretValue',
          name,
          (l) =>
            new l.GetSecretValueCommand({ SecretId: full(name), ...versionSelector(ctx.version) }),
          ctx.signal,
        );
        return secretText(out);
      } catch (error) {
        if ((error as EnvmuxError).code === 'NOT_FOUND' || isAwsMarkedForDeletion(error))
          return undefined;
        throw error;
      }
    },
    async set(name, value, ctx) {
      // Known new (a copy's listing): CreateSecret at once instead of PutSecretValue first.
      const put = ctx.create ? false : await putValue(name, value, ctx.description, ctx.signal);
      if (put) {
        await tag(name, ctx.metadata, ctx.signal);
        return { version: put.VersionId };
      }
      try {
        const created = await send<{ VersionId?: string }>(
          'CreateSecret',
          name,
          (l) =>
            new l.CreateSecretCommand({
              Name: full(name),
              SecretString: value,
              Description: ctx.description,
              KmsKeyId: options.kmsKeyId,
              Tags: ctx.metadata
                ? Object.entries(ctx.metadata).map(([Key, Value]) => ({ Key, Value }))
                : undefined,
            }),
          ctx.signal,
        );
        return { version: created.VersionId };
      } catch (error) {
        // Created meanwhile by someone else (or a wrong `create` hint, or a soft-deleted name the
        // hint skipped the restore of): put the value as a new version.
        const cause = (error as EnvmuxError).cause;
        const again =
          (cause instanceof Error && cause.name === 'ResourceExistsException') ||
          (ctx.create && isAwsMarkedForDeletion(error))
            ? await putValue(name, value, ctx.description, ctx.signal)
            : false;
        if (again) {
          await tag(name, ctx.metadata, ctx.signal);
          return { version: again.VersionId };
        }
        throw error;
      }
    },
    async delete(name, ctx) {
      try {
        await send(
          'DeleteSecret',
          name,
          (l) =>
            new l.DeleteSecretCommand({
              SecretId: full(name),
              ...(ctx.force
                ? { ForceDeleteWithoutRecovery: true }
                : options.recoveryWindowDays
                  ? { RecoveryWindowInDays: options.recoveryWindowDays }
                  : {}),
            }),
          ctx.signal,
        );
      } catch (error) {
        if ((error as EnvmuxError).code === 'NOT_FOUND') return;
        // Already scheduled for deletion: deleting again is done, unless it must go now.
        if (isAwsMarkedForDeletion(error) && !ctx.force) return;
        throw error;
      }
    },
    async list(filter, ctx) {
      const wanted = prefix + filter;
      const out: SecretInfo[] = [];
      let token: string | undefined;
      do {
        const page = await send<{
          SecretList?: Array<{
            Name?: string;
            Description?: string;
            CreatedDate?: Date;
            LastChangedDate?: Date;
            Tags?: Array<{ Key?: string; Value?: string }>;
          }>;
          NextToken?: string;
        }>(
          'ListSecrets',
          undefined,
          (l) =>
            new l.ListSecretsCommand({
              MaxResults: 100,
              NextToken: token,
              ...(wanted ? { Filters: [{ Key: 'name', Values: [wanted] }] } : {}),
            }),
          ctx.signal,
        );
        for (const s of page.SecretList ?? []) {
          // The name filter also matches words inside names; keep true prefixes only.
          if (!s.Name?.startsWith(wanted)) continue;
          const info: SecretInfo = { name: short(s.Name) };
          if (s.Description) info.description = s.Description;
          if (s.CreatedDate) info.created = s.CreatedDate;
          if (s.LastChangedDate) info.updated = s.LastChangedDate;
          if (s.Tags?.length)
            info.metadata = Object.fromEntries(s.Tags.map((t) => [t.Key ?? '', t.Value ?? '']));
          out.push(info);
        }
        token = page.NextToken;
        ctx.page?.(); // the next page has a call timeout of its own
      } while (token);
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
    async versions(name, ctx) {
      const out: VersionInfo[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await send<{
            Versions?: Array<{ VersionId?: string; VersionStages?: string[]; CreatedDate?: Date }>;
            NextToken?: string;
          }>(
            'ListSecretVersionIds',
            name,
            (l) =>
              new l.ListSecretVersionIdsCommand({
                SecretId: full(name),
                MaxResults: 100,
                NextToken: token,
              }),
            ctx.signal,
          );
          for (const v of page.Versions ?? []) {
            if (!v.VersionId) continue;
            out.push({
              version: v.VersionId,
              ...(v.CreatedDate ? { created: v.CreatedDate } : {}),
              stages: v.VersionStages ?? [],
            });
          }
          token = page.NextToken;
        } while (token);
      } catch (error) {
        if ((error as EnvmuxError).code === 'NOT_FOUND') return [];
        throw error;
      }
      // Oldest first, like every other provider.
      return out.sort((a, b) => (a.created?.getTime() ?? 0) - (b.created?.getTime() ?? 0));
    },
    async rotate(name, ctx) {
      const lambdaArn =
        ctx.native?.lambda ?? (typeof options.rotation === 'string' ? options.rotation : undefined);
      const schedule = ctx.native?.schedule ?? options.rotationSchedule;
      if (options.rotation || ctx.native) {
        const rules = schedule === undefined ? undefined : rotationRules(id, schedule);
        const out = await send<{ VersionId?: string }>(
          'RotateSecret',
          name,
          (l) =>
            new l.RotateSecretCommand({
              SecretId: full(name),
              RotateImmediately: true,
              ...(lambdaArn ? { RotationLambdaARN: lambdaArn } : {}),
              ...(rules ? { RotationRules: rules } : {}),
            }),
          ctx.signal,
        );
        await tag(name, ctx.metadata, ctx.signal);
        return { version: out.VersionId };
      }
      if (!ctx.generate) {
        throw new EnvmuxError(
          'CONFIG',
          `provider "${id}" has no rotation Lambda and no generator`,
          {
            provider: id,
            hint: 'pass rotation: "<lambda arn>" to aws(), or a generate() function to rotate',
          },
        );
      }
      const value = await ctx.generate();
      return provider.set!(name, value, {
        signal: ctx.signal,
        ...(ctx.metadata ? { metadata: ctx.metadata } : {}),
      });
    },
    /**
     * Retire a version: take its staging labels off (UpdateSecretVersionStage), so it is no longer
     * readable by stage (`previous` is gone) and AWS may delete it. For the current version (a
     * rollback), AWSCURRENT moves back to the AWSPREVIOUS version first.
     */
    async deleteVersion(name, version, ctx = {}) {
      const list = await provider.versions!(name, { signal: ctx.signal });
      const target = list.find((v) => v.version === version);
      if (!target) return; // unlabeled already (or never there): nothing is readable by stage
      const stage = (VersionStage: string, more: object) =>
        send(
          'UpdateSecretVersionStage',
          name,
          (l) =>
            new l.UpdateSecretVersionStageCommand({ SecretId: full(name), VersionStage, ...more }),
          ctx.signal,
        );
      if (target.stages?.includes('AWSCURRENT')) {
        const previous = list.find((v) => v.stages?.includes('AWSPREVIOUS'));
        if (!previous) {
          throw onlyVersionError(id);
        }
        // AWS moves AWSPREVIOUS onto the version AWSCURRENT leaves; that label goes below.
        await stage('AWSCURRENT', {
          MoveToVersionId: previous.version,
          RemoveFromVersionId: version,
        });
        // A rollback puts the retirement marker from before the rotation back (`''`: none).
        const marker = ctx.metadata?.[RETIRE_METADATA];
        if (marker !== undefined) await tag(name, { [RETIRE_METADATA]: marker }, ctx.signal);
      }
      const after = (await provider.versions!(name, { signal: ctx.signal })).find(
        (v) => v.version === version,
      );
      for (const label of after?.stages ?? []) {
        await stage(label, { RemoveFromVersionId: version });
      }
    },
    ...lifecycle((signal) =>
      send('ListSecrets', undefined, (l) => new l.ListSecretsCommand({ MaxResults: 1 }), signal),
    ),
  };

  if (options.batch !== false) {
    const size = Math.min(MAX_BATCH, Math.max(1, options.batchSize ?? MAX_BATCH));
    Object.assign(provider, {
      batchSize: size,
      async getMany(names: string[], ctx: { signal?: AbortSignal }) {
        const found = new Map<string, string | Error>();
        const byId = new Map(names.map((n) => [full(n), n]));
        /** The requested names one answer is for: by name, full ARN, or partial ARN (no suffix). */
        const namesOf = (entryName?: string, arn?: string): string[] =>
          [...byId]
            .filter(
              ([requested]) =>
                requested === entryName ||
                requested === arn ||
                (requested.startsWith('arn:') && !!arn?.startsWith(requested)),
            )
            .map(([, original]) => original);
        for (let i = 0; i < names.length; i += size) {
          const ids = names.slice(i, i + size).map(full);
          let token: string | undefined;
          do {
            const page = await send<BatchGetSecretValueCommandOutput>(
              'BatchGetSecretValue',
              undefined,
              (l) => new l.BatchGetSecretValueCommand({ SecretIdList: ids, NextToken: token }),
              ctx.signal,
            );
            for (const entry of page.SecretValues ?? []) {
              const value = secretText(entry);
              if (value === undefined) continue;
              for (const name of namesOf(entry.Name, entry.ARN)) found.set(name, value);
            }
            for (const failure of page.Errors ?? []) {
              const name = failure.SecretId === undefined ? undefined : byId.get(failure.SecretId);
              if (name === undefined) continue;
              const error = Object.assign(new Error(failure.Message ?? ''), {
                name: failure.ErrorCode ?? 'Error',
              });
              // Missing or soft-deleted: absent, so the chain moves on (as GetSecretValue would).
              if (isAwsNotFound(error) || isAwsMarkedForDeletion(error)) continue;
              found.set(
                name,
                fromAwsError(error, {
                  provider: id,
                  operation: 'BatchGetSecretValue',
                  name,
                  action: 'secretsmanager:GetSecretValue',
                }),
              );
            }
            token = page.NextToken;
          } while (token);
        }
        return found;
      },
    });
  }
  return provider;
}

/** RotateSecret's RotationRules for a schedule: days (`30d`, `30`) or an AWS schedule expression. */
export function rotationRules(
  id: string,
  schedule: string | number,
): { AutomaticallyAfterDays: number } | { ScheduleExpression: string } {
  const text = String(schedule).trim();
  if (/^(rate|cron)\(.+\)$/.test(text)) return { ScheduleExpression: text };
  const days = /^(\d+)d?$/.exec(text);
  const n = days ? Number(days[1]) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new EnvmuxError('CONFIG', `provider "${id}": rotation schedule "${text}" is not valid`, {
      provider: id,
      hint: 'a number of days from 1 to 1000 (30d), or rate(...) / cron(...)',
    });
  }
  return { AutomaticallyAfterDays: n };
}

/** Options for `aws` from environment variables (used by auto-detection and `$<aws:...>`). */
export function awsOptionsFromEnv(
  environment: Record<string, string | undefined>,
): AwsProviderOptions {
  const options: AwsProviderOptions = commonOptionsFromEnv(environment, {
    regionVars: ['AWS_SECRET_MANAGER_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'],
    endpointVars: ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL'],
  });
  if (environment.AWS_SECRET_PREFIX) options.prefix = environment.AWS_SECRET_PREFIX;
  const binary = environment.ENVMUX_AWS_BINARY;
  if (binary === 'utf8' || binary === 'base64') options.binary = binary;
  return options;
}

/** Build the `aws` provider from environment variables. */
export function awsFromEnv(environment: Record<string, string | undefined>): Provider {
  return aws(awsOptionsFromEnv(environment));
}
