// A loopback stand-in for the Kubernetes API server's core/v1 Secrets
// (https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/secret-v1/),
// over HTTPS with a certificate made at test time. Test-only; listens on 127.0.0.1 only.
//
// Implemented, per the API reference:
//   GET    /api/v1/namespaces/{ns}/secrets/{name}   read (404 Status NotFound)
//   GET    /api/v1/namespaces/{ns}/secrets          list, paged with ?limit=&continue= (metadata.continue)
//   POST   /api/v1/namespaces/{ns}/secrets          create → 201 (409 AlreadyExists)
//   PATCH  /api/v1/namespaces/{ns}/secrets/{name}   JSON merge patch (application/merge-patch+json;
//                                                   other patch types → 415); a null removes a key
//   DELETE /api/v1/namespaces/{ns}/secrets/{name}   → 200 Status Success (404 NotFound)
//   GET    /version
// Writes fold `stringData` into `data` (base64); answers never carry `stringData`. Every request needs
// `Authorization: Bearer <token>` (401 Unauthorized otherwise); RBAC denials are 403 Forbidden with
// the API server's message; errors are `Status` objects {kind: "Status", status: "Failure", reason, code}.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Loopback,
  parseJsonBody,
  readBody,
  Stall,
  sendJson,
  serveLoopback,
} from '../../servers/loopback.js';

export interface StoredSecret {
  name: string;
  namespace: string;
  data: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion: number;
  created: string;
}

export type K8sFault = 'throttle' | 'forbidden' | 'unauthorized' | 'unavailable' | 'hang';

export interface K8sWireRequest {
  method: string;
  path: string;
  query: string;
  contentType?: string;
  authorized: boolean;
  status: number;
}

/** Loopback API server. Create with {@link K8sWire.start}. */
export class K8sWire {
  readonly url: string;
  readonly port: number;
  /** Bearer tokens the server accepts (a rotated service-account token adds one, drops the old). */
  tokens = new Set<string>([`sa-token-${randomBytes(6).toString('hex')}`]);
  readonly requests: K8sWireRequest[] = [];
  /** `namespace/secret` names the service account may not read or write (RBAC). */
  forbidden: RegExp[] = [];
  private readonly secrets = new Map<string, StoredSecret>();
  private faults = new Set<K8sFault>();
  private readonly stall = new Stall();
  private version = 100;

  private constructor(private readonly loopback: Loopback) {
    this.port = loopback.port;
    this.url = loopback.url;
  }

  static async start(tls: { key: string; cert: string }): Promise<K8sWire> {
    let wire: K8sWire | undefined;
    const loopback = await serveLoopback(
      (req, res) => wire!.handle(req, res),
      (res, error) => status(res, 500, 'InternalError', String(error)),
      tls,
    );
    wire = new K8sWire(loopback);
    return wire;
  }

  /** The one token currently accepted (the first). */
  get token(): string {
    return [...this.tokens][0]!;
  }

  /** Store a Secret as `kubectl create secret generic` would (values in plain text, stored base64). */
  put(namespace: string, name: string, values: Record<string, string>): void {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(values))
      data[k] = Buffer.from(v, 'utf8').toString('base64');
    this.store(namespace, name, data);
  }

  /** Set one key of a Secret (creating it), bytes as given. */
  putKey(namespace: string, name: string, key: string, value: string | Buffer): void {
    const existing = this.secrets.get(`${namespace}/${name}`);
    this.store(namespace, name, {
      ...(existing?.data ?? {}),
      [key]: Buffer.from(value).toString('base64'),
    });
  }

  secret(namespace: string, name: string): StoredSecret | undefined {
    return this.secrets.get(`${namespace}/${name}`);
  }

  /** A key's decoded value, as `kubectl get secret -o jsonpath='{.data.key}' | base64 -d` shows it. */
  value(namespace: string, name: string, key: string): string | undefined {
    const b64 = this.secret(namespace, name)?.data[key];
    return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
  }

  inject(fault: K8sFault): void {
    this.faults.add(fault);
  }

  heal(): void {
    this.faults.clear();
    this.stall.release();
  }

  count(method: string, pattern: RegExp): number {
    return this.requests.filter((r) => r.method === method && pattern.test(r.path)).length;
  }

  async close(): Promise<void> {
    this.heal();
    await this.loopback.close();
  }

  private store(
    namespace: string,
    name: string,
    data: Record<string, string>,
    annotations?: Record<string, string>,
  ) {
    const key = `${namespace}/${name}`;
    const existing = this.secrets.get(key);
    const secret: StoredSecret = {
      name,
      namespace,
      data,
      resourceVersion: ++this.version,
      created: existing?.created ?? new Date().toISOString(),
    };
    const merged = annotations ?? existing?.annotations;
    if (merged) secret.annotations = merged;
    this.secrets.set(key, secret);
    return secret;
  }

  private toObject(s: StoredSecret) {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: s.name,
        namespace: s.namespace,
        resourceVersion: String(s.resourceVersion),
        creationTimestamp: s.created,
        uid: `uid-${s.namespace}-${s.name}`,
        ...(s.annotations ? { annotations: s.annotations } : {}),
      },
      data: s.data,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://k8s');
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    const authorization = req.headers.authorization ?? '';
    const authorized =
      authorization.startsWith('Bearer ') &&
      this.tokens.has(authorization.slice(7)) &&
      !this.faults.has('unauthorized');
    const record: K8sWireRequest = {
      method,
      path: url.pathname,
      query: url.search,
      authorized,
      status: 0,
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
    };
    this.requests.push(record);
    const reply = (code: number, payload: unknown) => {
      record.status = code;
      sendJson(res, code, payload);
    };
    const fail = (code: number, reason: string, message: string, name?: string) => {
      record.status = code;
      status(res, code, reason, message, name);
    };

    while (this.faults.has('hang')) await this.stall.wait();
    if (!authorized) return fail(401, 'Unauthorized', 'Unauthorized');
    if (this.faults.has('throttle')) {
      res.setHeader('Retry-After', '1');
      return fail(
        429,
        'TooManyRequests',
        'the server has received too many requests and has asked us to try again later',
      );
    }
    if (this.faults.has('unavailable'))
      return fail(
        503,
        'ServiceUnavailable',
        'the server is currently unable to handle the request',
      );
    if (url.pathname === '/version')
      return reply(200, { major: '1', minor: '31', gitVersion: 'v1.31.0' });

    const match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match) return fail(404, 'NotFound', 'the server could not find the requested resource');
    const namespace = decodeURIComponent(match[1]!);
    const name = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const verb =
      method === 'GET'
        ? name
          ? 'get'
          : 'list'
        : method === 'POST'
          ? 'create'
          : method.toLowerCase();
    const json = parseJsonBody(body);
    const target = name ?? json?.metadata?.name;
    if (
      this.faults.has('forbidden') ||
      (target && this.forbidden.some((f) => f.test(`${namespace}/${target}`)))
    ) {
      return fail(
        403,
        'Forbidden',
        `secrets${target ? ` "${target}"` : ''} is forbidden: User "system:serviceaccount:${namespace}:app" cannot ${verb} resource "secrets" in API group "" in the namespace "${namespace}"`,
        target,
      );
    }
    const key = `${namespace}/${name}`;
    const notFound = () => fail(404, 'NotFound', `secrets "${name}" not found`, name);

    if (method === 'GET' && name) {
      const s = this.secrets.get(key);
      return s ? reply(200, this.toObject(s)) : notFound();
    }
    if (method === 'GET') {
      const all = [...this.secrets.values()]
        .filter((s) => s.namespace === namespace)
        .sort((a, b) => a.name.localeCompare(b.name));
      const limit = Number(url.searchParams.get('limit') ?? 0) || all.length || 1;
      const start = Number(url.searchParams.get('continue') ?? 0) || 0;
      const page = all.slice(start, start + limit);
      const next = start + limit < all.length ? String(start + limit) : undefined;
      return reply(200, {
        apiVersion: 'v1',
        kind: 'SecretList',
        metadata: { resourceVersion: String(this.version), ...(next ? { continue: next } : {}) },
        items: page.map((s) => this.toObject(s)),
      });
    }
    if (method === 'POST' && !name) {
      const newName = json?.metadata?.name;
      if (typeof newName !== 'string')
        return fail(422, 'Invalid', 'Secret "" is invalid: metadata.name: Required value');
      if (this.secrets.has(`${namespace}/${newName}`)) {
        return fail(409, 'AlreadyExists', `secrets "${newName}" already exists`, newName);
      }
      const s = this.store(
        namespace,
        newName,
        withStringData(json.data, json.stringData),
        json.metadata?.annotations,
      );
      return reply(201, this.toObject(s));
    }
    if (method === 'PATCH' && name) {
      if (!String(req.headers['content-type']).startsWith('application/merge-patch+json')) {
        return fail(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format`,
        );
      }
      const s = this.secrets.get(key);
      if (!s) return notFound();
      const data = { ...s.data };
      for (const [k, v] of Object.entries((json.data ?? {}) as Record<string, string | null>)) {
        if (v === null) delete data[k];
        else data[k] = v;
      }
      const annotations = json.metadata?.annotations
        ? { ...(s.annotations ?? {}), ...json.metadata.annotations }
        : undefined;
      const updated = this.store(
        namespace,
        name,
        withStringData(data, json.stringData),
        annotations,
      );
      return reply(200, this.toObject(updated));
    }
    if (method === 'DELETE' && name) {
      if (!this.secrets.delete(key)) return notFound();
      return reply(200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, kind: 'secrets' },
      });
    }
    return fail(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
  }
}

function withStringData(
  data: Record<string, string> | undefined,
  stringData: Record<string, string> | undefined,
) {
  const out = { ...(data ?? {}) };
  for (const [k, v] of Object.entries(stringData ?? {}))
    out[k] = Buffer.from(v, 'utf8').toString('base64');
  return out;
}

function status(res: ServerResponse, code: number, reason: string, message: string, name?: string) {
  sendJson(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(name ? { details: { name, kind: 'secrets' } } : {}),
    code,
  });
}
