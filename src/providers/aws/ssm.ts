// `ssm` provider: AWS Systems Manager Parameter Store through `@aws-sdk/client-ssm` (an optional
// peer, imported on first use). SecureString decryption, paths, versions; never puts a value in an error.

import type { SSMClient } from '@aws-sdk/client-ssm';
import type { EnvmuxError } from '../../errors.js';
import { importLibOnce } from '../import-lib.js';
import type { Provider, SecretInfo, VersionInfo } from '../provider.js';
import {
  type AwsCommonOptions,
  awsIdentity,
  clientSettings,
  commonOptionsFromEnv,
} from './config.js';
import { awsSdkCalls } from './sdk-calls.js';

type Sdk = typeof import('@aws-sdk/client-ssm');

/** GetParameters takes at most 10 names per call. */
const MAX_BATCH = 10;

interface WireParameter {
  Name?: string;
  ARN?: string;
  Value?: string;
  Version?: number;
  LastModifiedDate?: Date;
  Description?: string;
  Labels?: string[];
  /** Who wrote this version (GetParameterHistory returns it). */
  LastModifiedUser?: string;
}

export interface SsmProviderOptions extends AwsCommonOptions {
  /** Chain id; default `ssm`. */
  id?: string;
  /** Prepended to every name (`/prod/app/` + `db` = `/prod/app/db`). `AWS_SSM_PREFIX`. */
  prefix?: string;
  /** Type of parameters this provider writes; default `SecureString`. */
  type?: 'SecureString' | 'String';
  /** KMS key for SecureString parameters this provider writes; default `alias/aws/ssm`. */
  kmsKeyId?: string;
  /** Tier of parameters this provider writes (values over 4 KB need `Advanced`). */
  tier?: 'Standard' | 'Advanced' | 'Intelligent-Tiering';
  /** Read latest values with GetParameters (default true; at most 10 names per call). */
  batch?: boolean;
  /** The `@aws-sdk/client-ssm` module, handed in (bundlers, tests). */
  lib?: object;
}

/**
 * Parameters from AWS SSM Parameter Store, decrypted. A name holding `/` but not starting with
 * one gets the leading `/` a hierarchy needs (`prod/db` = `/prod/db`). Versions: a number, a
 * label, `latest`, or `previous` (the version before the current one).
 */
export function ssm(options: SsmProviderOptions = {}): Provider {
  const id = options.id ?? 'ssm';
  const prefix = options.prefix ?? '';
  const loadSdk = importLibOnce(
    id,
    '@aws-sdk/client-ssm',
    options.lib as Sdk | undefined,
    () => import('@aws-sdk/client-ssm'),
  );
  const { send, lifecycle } = awsSdkCalls<Sdk, SSMClient>({
    id,
    service: 'ssm',
    loadSdk,
    injected: options.client,
    create: (lib) => new lib.SSMClient(clientSettings(id, options)),
  });

  const hierarchy = (joined: string) =>
    joined.includes('/') && !joined.startsWith('/') ? `/${joined}` : joined;
  const full = (name: string) => (name.startsWith('arn:') ? name : hierarchy(prefix + name));
  const fullPrefix = hierarchy(prefix);
  const short = (name: string) =>
    fullPrefix && name.startsWith(fullPrefix) ? name.slice(fullPrefix.length) : name;

  const history = async (name: string, signal?: AbortSignal): Promise<WireParameter[]> => {
    const out: WireParameter[] = [];
    let token: string | undefined;
    do {
      // Without decryption: only version numbers, dates and labels are used.
      const page = await send<{ Parameters?: WireParameter[]; NextToken?: string }>(
        'GetParameterHistory',
        name,
        (l) =>
          new l.GetParameterHistoryCommand({
            Name: full(name),
            WithDecryption: false,
            MaxResults: 50,
            NextToken: token,
          }),
        signal,
      );
      out.push(...(page.Parameters ?? []));
      token = page.NextToken;
    } while (token);
    return out.sort((a, b) => (a.Version ?? 0) - (b.Version ?? 0));
  };

  const notFound = (error: unknown) => (error as EnvmuxError).code === 'NOT_FOUND';

  const provider: Provider = {
    id,
    type: 'ssm',
    identity: awsIdentity('ssm', options, prefix),
    ttl: options.ttl,
    async get(name, ctx) {
      let selector = '';
      const v = ctx.version;
      try {
        if (v === 'previous') {
          const versions = await history(name, ctx.signal);
          const before = versions[versions.length - 2]?.Version;
          if (before === undefined) return undefined;
          selector = `:${before}`;
        } else if (v !== undefined && v !== 'latest' && v !== 'current') {
          selector = `:${v}`;
        }
        const out = await send<{ Parameter?: WireParameter }>(
          'GetParameter',
          name,
          (l) => new l.GetParameterCommand({ Name: full(name) + selector, WithDecryption: true }),
          ctx.signal,
        );
        return out.Parameter?.Value;
      } catch (error) {
        if (notFound(error)) return undefined;
        throw error;
      }
    },
    async getMany(names, ctx) {
      const found = new Map<string, string | Error>();
      // Several spellings (`/prod/x`, `prod/x`, an ARN) may name one parameter: ask once, answer each.
      const spellings = new Map<string, string[]>();
      for (const n of names) {
        const f = full(n);
        const list = spellings.get(f);
        if (list) list.push(n);
        else spellings.set(f, [n]);
      }
      const requested = [...spellings.keys()];
      for (let i = 0; i < requested.length; i += MAX_BATCH) {
        const chunk = requested.slice(i, i + MAX_BATCH);
        const out = await send<{ Parameters?: WireParameter[]; InvalidParameters?: string[] }>(
          'GetParameters',
          undefined,
          (l) => new l.GetParametersCommand({ Names: chunk, WithDecryption: true }),
          ctx.signal,
        );
        // Names in InvalidParameters do not exist: absent, so the chain moves on. An answer is
        // matched by its Name and, for a request made by ARN, by its ARN.
        for (const p of out.Parameters ?? []) {
          if (p.Value === undefined) continue;
          for (const key of new Set([p.Name, p.ARN])) {
            for (const original of (key && spellings.get(key)) || []) found.set(original, p.Value);
          }
        }
      }
      return found;
    },
    async set(name, value, ctx) {
      const type = options.type ?? 'SecureString';
      const out = await send<{ Version?: number }>(
        'PutParameter',
        name,
        (l) =>
          new l.PutParameterCommand({
            Name: full(name),
            Value: value,
            Type: type,
            Overwrite: true,
            Description: ctx.description,
            ...(type === 'SecureString' && options.kmsKeyId ? { KeyId: options.kmsKeyId } : {}),
            ...(options.tier ? { Tier: options.tier } : {}),
          }),
        ctx.signal,
      );
      return out.Version === undefined ? undefined : { version: String(out.Version) };
    },
    async delete(name, ctx) {
      try {
        await send(
          'DeleteParameter',
          name,
          (l) => new l.DeleteParameterCommand({ Name: full(name) }),
          ctx.signal,
        );
      } catch (error) {
        if (!notFound(error)) throw error;
      }
    },
    async list(filter, ctx) {
      const wanted = full(filter);
      const out: SecretInfo[] = [];
      const add = (p: WireParameter) => {
        if (!p.Name?.startsWith(wanted)) return;
        const info: SecretInfo = { name: short(p.Name) };
        if (p.Version !== undefined) info.version = String(p.Version);
        if (p.LastModifiedDate) info.updated = p.LastModifiedDate;
        if (p.Description) info.description = p.Description;
        out.push(info);
      };
      let token: string | undefined;
      if (wanted.startsWith('/')) {
        // A hierarchy: the deepest complete path of the prefix, recursively, values undecrypted.
        const cut = wanted.lastIndexOf('/');
        const path = cut > 0 ? wanted.slice(0, cut) : '/';
        do {
          const page = await send<{ Parameters?: WireParameter[]; NextToken?: string }>(
            'GetParametersByPath',
            path,
            (l) =>
              new l.GetParametersByPathCommand({
                Path: path,
                Recursive: true,
                WithDecryption: false,
                MaxResults: 10,
                NextToken: token,
              }),
            ctx.signal,
          );
          for (const p of page.Parameters ?? []) add({ ...p, Value: undefined });
          token = page.NextToken;
        } while (token);
      } else {
        // Names outside any hierarchy: metadata only, filtered by name prefix.
        do {
          const page = await send<{ Parameters?: WireParameter[]; NextToken?: string }>(
            'DescribeParameters',
            undefined,
            (l) =>
              new l.DescribeParametersCommand({
                ...(wanted
                  ? { ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: [wanted] }] }
                  : {}),
                MaxResults: 50,
                NextToken: token,
              }),
            ctx.signal,
          );
          for (const p of page.Parameters ?? []) add(p);
          token = page.NextToken;
        } while (token);
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
    async versions(name, ctx) {
      let list: WireParameter[];
      try {
        list = await history(name, ctx.signal);
      } catch (error) {
        if (notFound(error)) return [];
        throw error;
      }
      return list.map((p, i): VersionInfo => {
        const stages = [...(p.Labels ?? [])];
        if (i === list.length - 1) stages.unshift('latest');
        if (i === list.length - 2) stages.unshift('previous');
        return {
          version: String(p.Version),
          ...(p.LastModifiedDate ? { created: p.LastModifiedDate } : {}),
          stages,
          ...(p.LastModifiedUser ? { updatedBy: p.LastModifiedUser } : {}),
        };
      });
    },
    ...lifecycle((signal) =>
      send(
        'DescribeParameters',
        undefined,
        (l) => new l.DescribeParametersCommand({ MaxResults: 1 }),
        signal,
      ),
    ),
  };
  if (options.batch === false) delete (provider as { getMany?: unknown }).getMany;
  else Object.assign(provider, { batchSize: MAX_BATCH });
  return provider;
}

/** Options for `ssm` from environment variables. */
export function ssmOptionsFromEnv(
  environment: Record<string, string | undefined>,
): SsmProviderOptions {
  const options: SsmProviderOptions = commonOptionsFromEnv(environment, {
    regionVars: ['AWS_SSM_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'],
    endpointVars: ['AWS_ENDPOINT_URL_SSM', 'AWS_ENDPOINT_URL'],
  });
  if (environment.AWS_SSM_PREFIX) options.prefix = environment.AWS_SSM_PREFIX;
  return options;
}

/** Build the `ssm` provider from environment variables. */
export function ssmFromEnv(environment: Record<string, string | undefined>): Provider {
  return ssm(ssmOptionsFromEnv(environment));
}
