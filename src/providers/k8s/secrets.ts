// `k8s` provider: Kubernetes Secrets through the API server, with the pod's service account or a
// kubeconfig. Decodes base64 `data`; never logs, never puts a value or a token in an error.
//
// Why a small node:https client and not @kubernetes/client-node: `require('@kubernetes/client-node')`
// 1.4 takes ~300 ms (median of 5, Node 20.20, idle machine; 650–1,170 ms with the cores busy) against
// ~4 ms for node:https, and a provider needs four REST calls on one resource. Inside a cluster — where
// the register preload runs in production — nothing is loaded but node:https. Outside, a kubeconfig's
// user entry (client certificates, tokens, exec plugins such as `aws eks get-token`) is what
// client-node's KubeConfig already does well, so it is imported then (an optional peer), for
// credentials only.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { EnvmuxError } from '../../errors.js';
import { monotonicMs } from '../../resolver/clock.js';
import { pickField } from '../../resolver/fields.js';
import { DEFAULT_VALUE_KEY, documentOf, mapOf, pickEntryField } from '../entry-document.js';
import type { Provider, SecretInfo, WriteContext, WriteResult } from '../provider.js';
import {
  fromK8sError,
  K8sApiError,
  K8sClient,
  type K8sConnection,
  type K8sLib,
  SERVICE_ACCOUNT_DIR,
} from './client.js';

/** The npm package this provider loads, outside a cluster only. */
export const K8S_PACKAGES = ['@kubernetes/client-node'] as const;

export interface K8sProviderOptions {
  /** Chain id; default `k8s`. */
  id?: string;
  /**
   * Namespace of names that do not give one; default `K8S_SECRET_NAMESPACE`, else the pod's namespace
   * (in-cluster) or the kubeconfig context's, else `default`.
   */
  namespace?: string;
  /**
   * A default Secret whose keys are secret names (`$<k8s:DB_PASSWORD>` reads its key `DB_PASSWORD`);
   * default `K8S_SECRET_NAME`. Without it, a one-part name is a whole Secret.
   */
  secret?: string;
  /** Use the pod's service account; default: when `KUBERNETES_SERVICE_HOST` is set and its token file exists. */
  inCluster?: boolean;
  /** In-cluster files (overridable for tests and unusual mounts); default under {@link SERVICE_ACCOUNT_DIR}. */
  tokenFile?: string;
  caFile?: string;
  namespaceFile?: string;
  /** The API server URL in-cluster; default `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`. */
  server?: string;
  /** Kubeconfig file outside a cluster; default the first existing file of `KUBECONFIG`, else `~/.kube/config`. */
  kubeconfig?: string;
  /** Kubeconfig context; default its current context. */
  context?: string;
  /** The key a plain string is written under in a whole-Secret write; default `value`. */
  valueKey?: string;
  /** Timeout of each HTTP request in ms; default 10 s. */
  requestTimeout?: number;
  /** Secrets per page when listing; default 250. */
  pageSize?: number;
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
  /** The `@kubernetes/client-node` module, handed in (bundlers, tests); used for kubeconfig only. */
  lib?: K8sLib | { default: K8sLib };
  /** Environment for the defaults above; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** The `k8s` provider, with the field rule for whole-Secret names. */
export interface K8sProvider extends Provider {
  /**
   * How a reference takes its answer from `get`: a key's value as is (`#field` is a JSON path in it);
   * a whole Secret by the rule of entry-document.ts (one key → its value, several → name one with `#key`).
   */
  pick(value: string, field: string | undefined, name: string): string | undefined;
  /** Whether `get(name)` answers a whole Secret (a map entry in `documentOf`'s form), not one key. */
  isEntry(name: string): boolean;
}

interface SecretObject {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    annotations?: Record<string, string>;
  };
  data?: Record<string, string> | null;
}

/** What a name points at: one key of a Secret, or a whole Secret. */
type Target = { namespace: string; secret: string; key?: string };

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SECRET = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const KEY = /^[-._a-zA-Z0-9]+$/;
const LATEST = new Set(['latest', 'current']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Secrets from Kubernetes. Names: `namespace/secret/key` (one key), `namespace/secret` (the whole
 * Secret as a JSON document, so `#key` picks), or one part: a key of the default Secret
 * (`K8S_SECRET_NAME`) when there is one, else a Secret of the default namespace.
 */
export function k8s(options: K8sProviderOptions = {}): K8sProvider {
  const id = options.id ?? 'k8s';
  const env = options.env ?? process.env;
  const defaultSecret = options.secret ?? (env.K8S_SECRET_NAME || undefined);
  const valueKey = options.valueKey ?? DEFAULT_VALUE_KEY;
  const pageSize = options.pageSize ?? 250;
  const client = new K8sClient(id, connectionOf(options, env), options.requestTimeout ?? 10_000);

  let namespacePromise: Promise<string> | undefined;
  const defaultNamespace = (): Promise<string> => {
    const configured = options.namespace ?? (env.K8S_SECRET_NAMESPACE || undefined);
    if (configured) return Promise.resolve(configured);
    namespacePromise ??= client.namespace().then((ns) => ns ?? 'default');
    namespacePromise.catch(() => {
      namespacePromise = undefined;
    });
    return namespacePromise;
  };

  const invalid = (name: string, why: string) =>
    new EnvmuxError('INVALID_REFERENCE', `"${name}" is not a Kubernetes secret name: ${why}`, {
      provider: id,
      hint: 'namespace/secret/key, namespace/secret, or a key of the default Secret (K8S_SECRET_NAME)',
    });

  const targetOf = async (name: string): Promise<Target> => {
    const parts = name.split('/');
    let target: Target;
    if (parts.length === 3) target = { namespace: parts[0]!, secret: parts[1]!, key: parts[2]! };
    else if (parts.length === 2) target = { namespace: parts[0]!, secret: parts[1]! };
    else if (parts.length === 1 && defaultSecret)
      target = { namespace: await defaultNamespace(), secret: defaultSecret, key: parts[0]! };
    else if (parts.length === 1)
      target = { namespace: await defaultNamespace(), secret: parts[0]! };
    else throw invalid(name, 'too many "/"');
    if (!NAMESPACE.test(target.namespace) || target.namespace.length > 63)
      throw invalid(name, `bad namespace "${target.namespace}"`);
    if (!SECRET.test(target.secret) || target.secret.length > 253)
      throw invalid(name, `bad Secret name "${target.secret}"`);
    if (target.key !== undefined && (!KEY.test(target.key) || target.key.length > 253))
      throw invalid(name, `bad key "${target.key}"`);
    return target;
  };

  const secretPath = (t: { namespace: string; secret?: string }) =>
    `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/secrets${t.secret ? `/${encodeURIComponent(t.secret)}` : ''}`;

  /** One call, errors mapped; a 404 resolves to `undefined` when `missing` allows it. */
  const call = async <T>(
    req: Parameters<K8sClient['request']>[0],
    context: { operation: string; verb: string; namespace: string; missing?: boolean },
  ): Promise<T | undefined> => {
    const proven = client.proven;
    try {
      return await client.request<T>(req);
    } catch (error) {
      if (context.missing && error instanceof K8sApiError && error.status === 404) return undefined;
      throw fromK8sError(error, { provider: id, ...context }, proven);
    }
  };

  const readSecret = (t: Target, signal?: AbortSignal) =>
    call<SecretObject>(
      { method: 'GET', path: secretPath(t), signal },
      {
        operation: `get Secret "${t.namespace}/${t.secret}"`,
        verb: 'get',
        namespace: t.namespace,
        missing: true,
      },
    );

  /** The answer for a target from its Secret: a key's decoded value, or the whole Secret's document. */
  const answerOf = (t: Target, secret: SecretObject | undefined): string | undefined => {
    if (!secret) return undefined;
    const data = secret.data ?? {};
    if (t.key !== undefined) return Object.hasOwn(data, t.key) ? decode(data[t.key]!) : undefined;
    const decoded: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) decoded[k] = decode(v);
    return documentOf(decoded, valueKey);
  };

  const checkVersion = (version: string | undefined): 'latest' | 'none' => {
    if (version === undefined || LATEST.has(version)) return 'latest';
    if (version === 'previous') return 'none';
    throw new EnvmuxError('INVALID_REFERENCE', 'Kubernetes Secrets keep no versions', {
      provider: id,
      hint: 'drop ?version=',
    });
  };

  /** Create the Secret with `data`, or merge-patch `data` into it (a `null` removes a key). */
  const upsert = async (
    t: Target,
    data: Record<string, string | null>,
    ctx: WriteContext,
  ): Promise<WriteResult> => {
    const annotations = {
      ...(ctx.metadata ?? {}),
      ...(ctx.description === undefined ? {} : { 'envmux.dev/description': ctx.description }),
    };
    const meta = Object.keys(annotations).length ? { annotations } : {};
    const where = { verb: 'patch', namespace: t.namespace };
    const patch = () =>
      call<SecretObject>(
        {
          method: 'PATCH',
          path: secretPath(t),
          body: { metadata: meta, data },
          contentType: 'application/merge-patch+json',
          signal: ctx.signal,
        },
        { ...where, operation: `patch Secret "${t.namespace}/${t.secret}"`, missing: true },
      );
    let written = await patch();
    if (!written) {
      const created = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null));
      try {
        written = await client.request<SecretObject>({
          method: 'POST',
          path: secretPath({ namespace: t.namespace }),
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            type: 'Opaque',
            metadata: { name: t.secret, namespace: t.namespace, ...meta },
            data: created,
          },
          signal: ctx.signal,
        });
      } catch (error) {
        // Created by someone else in between: patch theirs.
        if (!(error instanceof K8sApiError && error.status === 409)) {
          throw fromK8sError(error, {
            provider: id,
            operation: `create Secret "${t.namespace}/${t.secret}"`,
            verb: 'create',
            namespace: t.namespace,
          });
        }
        written = await patch();
      }
    }
    const version = written?.metadata?.resourceVersion;
    return version ? { version } : {};
  };

  const listSecrets = async (namespace: string, signal?: AbortSignal): Promise<SecretObject[]> => {
    const items: SecretObject[] = [];
    let token: string | undefined;
    do {
      const query = `?limit=${pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
      const page = await call<{ items?: SecretObject[]; metadata?: { continue?: string } }>(
        { method: 'GET', path: `${secretPath({ namespace })}${query}`, signal },
        { operation: `list Secrets in "${namespace}"`, verb: 'list', namespace },
      );
      items.push(...(page?.items ?? []));
      token = page?.metadata?.continue || undefined;
    } while (token);
    return items;
  };

  const provider: K8sProvider = {
    id,
    type: 'k8s',
    identity: k8sIdentity(
      connectionOf(options, env),
      options.namespace ?? env.K8S_SECRET_NAMESPACE,
    ),
    ttl: options.ttl,
    batchSize: 100,

    async get(name, ctx) {
      const t = await targetOf(name);
      if (checkVersion(ctx.version) === 'none') return undefined;
      return answerOf(t, await readSecret(t, ctx.signal));
    },

    async getMany(names, ctx) {
      // One read per Secret, however many of its keys are asked for.
      const found = new Map<string, string | Error>();
      const bySecret = new Map<string, Array<{ name: string; target: Target }>>();
      for (const name of names) {
        const target = await targetOf(name);
        const key = `${target.namespace}/${target.secret}`;
        bySecret.set(key, [...(bySecret.get(key) ?? []), { name, target }]);
      }
      for (const wanted of bySecret.values()) {
        const secret = await readSecret(wanted[0]!.target, ctx.signal);
        for (const { name, target } of wanted) {
          const value = answerOf(target, secret);
          if (value !== undefined) found.set(name, value);
        }
      }
      return found;
    },

    async set(name, value, ctx) {
      const t = await targetOf(name);
      if (t.key !== undefined) return upsert(t, { [t.key]: encode(value) }, ctx);
      // A whole Secret: its keys become exactly those of the value.
      const map = mapOf(value, valueKey);
      const data: Record<string, string | null> = {};
      const current = await readSecret(t, ctx.signal);
      for (const key of Object.keys(current?.data ?? {})) data[key] = null;
      for (const [key, v] of Object.entries(map)) {
        if (!KEY.test(key)) throw invalid(`${name}#${key}`, `bad key "${key}"`);
        data[key] = encode(typeof v === 'string' ? v : JSON.stringify(v));
      }
      return upsert(t, data, ctx);
    },

    async delete(name, ctx) {
      const t = await targetOf(name);
      if (t.key !== undefined) {
        await call(
          {
            method: 'PATCH',
            path: secretPath(t),
            body: { data: { [t.key]: null } },
            contentType: 'application/merge-patch+json',
            signal: ctx.signal,
          },
          {
            operation: `patch Secret "${t.namespace}/${t.secret}"`,
            verb: 'patch',
            namespace: t.namespace,
            missing: true,
          },
        );
        return;
      }
      await call(
        { method: 'DELETE', path: secretPath(t), signal: ctx.signal },
        {
          operation: `delete Secret "${t.namespace}/${t.secret}"`,
          verb: 'delete',
          namespace: t.namespace,
          missing: true,
        },
      );
    },

    async list(filter, ctx) {
      if (defaultSecret && !filter.includes('/')) {
        const namespace = await defaultNamespace();
        const secret = await readSecret({ namespace, secret: defaultSecret }, ctx.signal);
        return Object.keys(secret?.data ?? {})
          .filter((key) => key.startsWith(filter))
          .sort()
          .map((key): SecretInfo => ({ name: key }));
      }
      const slash = filter.indexOf('/');
      const namespace = slash < 0 ? await defaultNamespace() : filter.slice(0, slash);
      const rest = slash < 0 ? filter : filter.slice(slash + 1);
      const secrets = await listSecrets(namespace, ctx.signal);
      return secrets
        .filter((s) => s.metadata?.name?.startsWith(rest))
        .map((s): SecretInfo => {
          const info: SecretInfo = {
            name: slash < 0 ? s.metadata!.name! : `${namespace}/${s.metadata!.name}`,
          };
          if (s.metadata?.resourceVersion) info.version = s.metadata.resourceVersion;
          if (s.metadata?.creationTimestamp) info.created = new Date(s.metadata.creationTimestamp);
          return info;
        })
        .sort((a, b) => a.name.localeCompare(b.name));
    },

    async rotate(name, ctx) {
      if (!ctx.generate) {
        throw new EnvmuxError('CONFIG', `provider "${id}" rotates with a generator only`, {
          provider: id,
          hint: 'pass generate() to rotate',
        });
      }
      return provider.set!(name, await ctx.generate(), { signal: ctx.signal });
    },

    pick(value, field, name) {
      if (provider.isEntry(name)) return pickEntryField(value, field, name, valueKey);
      return field === undefined ? value : pickField(value, field, name);
    },

    isEntry: (name) => (name.includes('/') ? name.split('/').length === 2 : !defaultSecret),

    async authenticate() {
      client.refresh();
    },

    async health(ctx) {
      const started = monotonicMs();
      const namespace = await defaultNamespace();
      if (defaultSecret) await readSecret({ namespace, secret: defaultSecret }, ctx.signal);
      else
        await call(
          { method: 'GET', path: `${secretPath({ namespace })}?limit=1`, signal: ctx.signal },
          { operation: `list Secrets in "${namespace}"`, verb: 'list', namespace },
        );
      return { ok: true, latencyMs: monotonicMs() - started };
    },

    async close() {
      client.close();
    },
  };
  return provider;
}

/** In-cluster (service account) or kubeconfig, from options and environment. */
function connectionOf(
  options: K8sProviderOptions,
  env: Record<string, string | undefined>,
): K8sConnection {
  const tokenFile = options.tokenFile ?? join(SERVICE_ACCOUNT_DIR, 'token');
  const host = env.KUBERNETES_SERVICE_HOST;
  const inCluster = options.inCluster ?? (!!(options.server || host) && existsSync(tokenFile));
  if (inCluster) {
    const port = env.KUBERNETES_SERVICE_PORT || '443';
    const server =
      options.server ??
      (host ? `https://${host.includes(':') ? `[${host}]` : host}:${port}` : undefined);
    if (!server) {
      throw new EnvmuxError(
        'CONFIG',
        'k8s in-cluster needs KUBERNETES_SERVICE_HOST (or the server option)',
        {
          provider: options.id ?? 'k8s',
        },
      );
    }
    return {
      kind: 'in-cluster',
      server,
      tokenFile,
      caFile: options.caFile ?? join(SERVICE_ACCOUNT_DIR, 'ca.crt'),
      namespaceFile: options.namespaceFile ?? join(SERVICE_ACCOUNT_DIR, 'namespace'),
    };
  }
  const candidates = options.kubeconfig
    ? [options.kubeconfig]
    : [
        ...(env.KUBECONFIG ?? '').split(delimiter).filter(Boolean),
        join(env.HOME || homedir(), '.kube', 'config'),
      ];
  const file = candidates.find((f) => existsSync(f)) ?? candidates[0]!;
  return { kind: 'kubeconfig', file, context: options.context, lib: options.lib };
}

/** The store's identity for the shared cache tier: the API server or kubeconfig, and the namespace. */
function k8sIdentity(c: K8sConnection, namespace: string | undefined): string {
  if (c.kind === 'kubeconfig') return `k8s|${c.file}#${c.context ?? ''}|${namespace ?? ''}`;
  let podNamespace = namespace;
  try {
    podNamespace ||= readFileSync(c.namespaceFile, 'utf8').trim();
  } catch {}
  return `k8s|${c.server}|${podNamespace ?? ''}`;
}

/** A Secret's `data` value (base64) as text; bytes that are not UTF-8 stay base64, as stored. */
function decode(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  try {
    return utf8.decode(bytes);
  } catch {
    return base64;
  }
}

function encode(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}
