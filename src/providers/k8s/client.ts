// A small Kubernetes API client for the `k8s` provider: node:https, credentials from the pod's
// service account (in-cluster) or from a kubeconfig (via @kubernetes/client-node's KubeConfig, loaded
// only then), and API errors mapped to stable codes. Never logs, never puts a token or a value in an error.

import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { classify, EnvmuxError, type ErrorCode, isEnvmuxError } from '../../errors.js';
import { importLib } from '../import-lib.js';
import { tlsFailureCode } from '../tls-failure.js';

/** The service-account files every pod gets (unless `automountServiceAccountToken: false`). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The part of `@kubernetes/client-node`'s KubeConfig the client uses (1.x and 2.x). */
export interface KubeConfigLike {
  loadFromFile(file: string): void;
  setCurrentContext(name: string): void;
  getCurrentContext(): string;
  getContextObject(name: string): { namespace?: string } | null;
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(options: Record<string, any>): Promise<void>;
}

/** What `lib` must provide: the module's KubeConfig class. */
export interface K8sLib {
  KubeConfig: new () => KubeConfigLike;
}

/** Where the client connects and how it proves who it is. */
export type K8sConnection =
  | {
      kind: 'in-cluster';
      /** `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, or the `server` option. */
      server: string;
      tokenFile: string;
      caFile: string;
      namespaceFile: string;
    }
  | {
      kind: 'kubeconfig';
      file: string;
      context?: string;
      lib?: K8sLib | { default: K8sLib };
    };

/** Resolved credentials for requests, re-made after {@link K8sClient.refresh}. */
interface Credentials {
  server: URL;
  headers: Record<string, string>;
  tls: {
    ca?: Buffer | string;
    cert?: Buffer | string;
    key?: Buffer | string;
    rejectUnauthorized?: boolean;
    servername?: string;
  };
  namespace?: string;
  /** When they must be read again (a rotated projected token, an exec plugin's fresh token). */
  expires: number;
}

/** A Kubernetes API error answer (a `Status` object). */
export class K8sApiError extends Error {
  override readonly name = 'K8sApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface K8sRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** API path with query, e.g. `/api/v1/namespaces/ns/secrets/name`. */
  path: string;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export interface K8sErrorContext {
  provider: string;
  /** `get Secret "ns/name"`. */
  operation: string;
  /** The RBAC verb and namespace a denial is about. */
  verb?: string;
  namespace?: string;
}

/**
 * Imported by a non-literal specifier on purpose: the package is no dependency of envmux's build, and a
 * literal would let the bundler inline all 14 MB of it into the `k8s` chunk (seen with tsdown).
 */
const CLIENT_NODE: string = '@kubernetes/client-node';

/** How long credentials are reused before they are read again. */
const CREDENTIALS_TTL_MS = 60_000;

export class K8sClient {
  private credentials: Promise<Credentials> | undefined;
  private readonly agents = {
    https: new HttpsAgent({ keepAlive: true }),
    http: new HttpAgent({ keepAlive: true }),
  };
  /** A request with the current credentials succeeded (a later 401 then means they expired). */
  proven = false;

  constructor(
    private readonly id: string,
    private readonly connection: K8sConnection,
    private readonly timeout: number,
  ) {}

  /** The namespace of the pod, or of the kubeconfig context (undefined when it names none). */
  async namespace(): Promise<string | undefined> {
    return (await this.creds()).namespace;
  }

  /** Drop the credentials: the next request reads the token (or kubeconfig) again. */
  refresh(): void {
    this.credentials = undefined;
    this.proven = false;
  }

  close(): void {
    this.agents.https.destroy();
    this.agents.http.destroy();
  }

  /** One API call; resolves to the parsed JSON answer, rejects with a {@link K8sApiError} or a network error. */
  async request<T>(req: K8sRequest): Promise<T> {
    req.signal?.throwIfAborted();
    const creds = await this.creds();
    const url = new URL(req.path, creds.server);
    const https = url.protocol === 'https:';
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { accept: 'application/json', ...creds.headers };
    if (payload) {
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const { status, body } = await new Promise<{ status: number; body: Buffer }>(
      (resolve, reject) => {
        const send = https ? httpsRequest : httpRequest;
        const r = send(
          url,
          {
            method: req.method,
            headers,
            agent: https ? this.agents.https : this.agents.http,
            timeout: this.timeout,
            ...(req.signal ? { signal: req.signal } : {}),
            ...(https ? creds.tls : {}),
          },
          (res: IncomingMessage) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }),
            );
            res.on('error', reject);
          },
        );
        r.on('timeout', () =>
          r.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })),
        );
        r.on('error', reject);
        r.end(payload);
      },
    );
    const json = body.length ? safeJson(body) : undefined;
    if (status >= 400) {
      const s = json as { reason?: unknown; message?: unknown } | undefined;
      throw new K8sApiError(
        status,
        typeof s?.reason === 'string' ? s.reason : '',
        typeof s?.message === 'string' ? s.message : `HTTP ${status}`,
      );
    }
    this.proven = true;
    return json as T;
  }

  private creds(): Promise<Credentials> {
    const current = this.credentials;
    if (current) {
      // Reuse until they are due for a re-read; a failed read is not kept.
      return current.then((c) => (c.expires > Date.now() ? c : this.load()));
    }
    return this.load();
  }

  private load(): Promise<Credentials> {
    const loading =
      this.connection.kind === 'in-cluster'
        ? this.inCluster(this.connection)
        : this.kubeconfig(this.connection);
    this.credentials = loading;
    loading.catch(() => {
      if (this.credentials === loading) this.credentials = undefined;
    });
    return loading;
  }

  private async inCluster(c: Extract<K8sConnection, { kind: 'in-cluster' }>): Promise<Credentials> {
    const token = this.readFile(c.tokenFile, 'service-account token').trim();
    const ca = this.readFile(c.caFile, 'cluster CA');
    let namespace: string | undefined;
    try {
      namespace = readFileSync(c.namespaceFile, 'utf8').trim() || undefined;
    } catch {
      namespace = undefined;
    }
    return {
      server: new URL(c.server),
      headers: { authorization: `Bearer ${token}` },
      tls: { ca },
      namespace,
      expires: Date.now() + CREDENTIALS_TTL_MS,
    };
  }

  private async kubeconfig(
    c: Extract<K8sConnection, { kind: 'kubeconfig' }>,
  ): Promise<Credentials> {
    const mod = await importLib<K8sLib | { default: K8sLib }>(
      this.id,
      '@kubernetes/client-node',
      c.lib,
      () => import(CLIENT_NODE) as Promise<K8sLib>,
    );
    const KubeConfig =
      (mod as K8sLib).KubeConfig ?? (mod as { default: K8sLib }).default.KubeConfig;
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(c.file);
      if (c.context) kc.setCurrentContext(c.context);
    } catch (error) {
      throw new EnvmuxError(
        'CONFIG',
        `provider "${this.id}" cannot load the kubeconfig ${c.file}`,
        {
          provider: this.id,
          hint: 'check KUBECONFIG (or ~/.kube/config) and the context name',
          cause: error,
          retryable: false,
        },
      );
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster?.server) {
      throw new EnvmuxError(
        'CONFIG',
        `provider "${this.id}": the kubeconfig ${c.file} has no current cluster`,
        {
          provider: this.id,
          hint: 'kubectl config use-context <name>, or k8s({ context })',
          retryable: false,
        },
      );
    }
    // KubeConfig turns the user entry (token, client certificate, exec plugin, ...) into TLS options and headers.
    const options: Record<string, any> = {};
    await kc.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(
      (options.headers ?? {}) as Record<string, unknown>,
    )) {
      if (typeof value === 'string') headers[name.toLowerCase()] = value;
    }
    if (typeof options.auth === 'string') {
      headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    }
    const tls: Credentials['tls'] = {};
    for (const key of ['ca', 'cert', 'key', 'servername'] as const) {
      if (options[key] !== undefined) tls[key] = options[key];
    }
    // `insecure-skip-tls-verify: true` in the kubeconfig is the user turning verification off by name.
    if (options.rejectUnauthorized === false) tls.rejectUnauthorized = false;
    return {
      server: new URL(cluster.server),
      headers,
      tls,
      namespace: kc.getContextObject(kc.getCurrentContext())?.namespace || undefined,
      expires: Date.now() + CREDENTIALS_TTL_MS,
    };
  }

  private readFile(path: string, what: string): string {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new EnvmuxError(
        'CONFIG',
        `provider "${this.id}" cannot read the ${what} file ${path}`,
        {
          provider: this.id,
          hint: `check that ${path} exists and is readable (in a pod: automountServiceAccountToken)`,
          cause: error,
          retryable: false,
        },
      );
    }
  }
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function codeFor(status: number): ErrorCode {
  if (status === 400 || status === 422) return 'INVALID_REFERENCE';
  if (status === 401) return 'AUTH_FAILED';
  if (status === 403) return 'ACCESS_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 408 || status === 504) return 'TIMEOUT';
  if (status === 409 || status === 415) return 'CONFIG';
  if (status === 429) return 'THROTTLED';
  return 'UNAVAILABLE';
}

/**
 * Map a Kubernetes call's failure to an {@link EnvmuxError}. A 401 after the same credentials worked is
 * `SESSION_EXPIRED` (a rotated token: the resolver re-authenticates once); the API's `Status.message`
 * names objects, never data.
 */
export function fromK8sError(
  error: unknown,
  context: K8sErrorContext,
  proven = false,
): EnvmuxError {
  if (isEnvmuxError(error)) return error;
  const tls = tlsFailureCode(error);
  if (tls) {
    return new EnvmuxError(
      'CONFIG',
      `provider "${context.provider}": ${context.operation} failed: the API server's TLS certificate was not trusted (${tls})`,
      {
        provider: context.provider,
        hint: "the cluster CA must sign the API server's certificate (in a pod: ca.crt; else the kubeconfig's certificate-authority)",
        cause: error,
        retryable: false,
      },
    );
  }
  if (error instanceof K8sApiError) {
    let code = codeFor(error.status);
    if (code === 'AUTH_FAILED' && proven) code = 'SESSION_EXPIRED';
    const hint =
      code === 'ACCESS_DENIED'
        ? `the service account needs RBAC "${context.verb ?? 'get'}" on secrets${context.namespace ? ` in namespace "${context.namespace}"` : ''}`
        : code === 'AUTH_FAILED'
          ? 'the API server refused the credentials (service-account token, or the kubeconfig user)'
          : code === 'THROTTLED'
            ? 'the API server is rate limiting (API priority and fairness): envmux retries with backoff'
            : undefined;
    return new EnvmuxError(
      code,
      `provider "${context.provider}": ${context.operation} failed (${error.status}${error.reason ? ` ${error.reason}` : ''}: ${truncate(error.message, 160)})`,
      { provider: context.provider, hint, cause: error },
    );
  }
  const code = classify(error);
  const message = error instanceof Error ? error.message : String(error);
  return new EnvmuxError(
    code,
    `provider "${context.provider}": ${context.operation} failed (${truncate(message, 160)})`,
    {
      provider: context.provider,
      cause: error,
    },
  );
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
