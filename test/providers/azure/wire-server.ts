// A loopback stand-in for Azure Key Vault's secrets REST API (https://learn.microsoft.com/rest/api/keyvault/secrets),
// over HTTPS with a certificate made at test time by the openssl CLI. Test-only; listens on 127.0.0.1 only.
//
// Implemented, per the REST reference and Key Vault's authentication flow:
//   any request without `Authorization` → 401 + `WWW-Authenticate: Bearer authorization="…/tenant",
//     resource="https://vault.azure.net"` (the SDK's first, bodiless request); a wrong token → 401 too
//   GET    /secrets/{name}/{version?}        Get Secret (404 SecretNotFound; 403 Forbidden for a disabled secret)
//   PUT    /secrets/{name}                   Set Secret: a new version (409 Conflict while soft-deleted)
//   PATCH  /secrets/{name}/{version}         Update Secret: attributes (enabled, exp, nbf), contentType,
//                                            tags of one version; answers the SecretBundle without value
//   DELETE /secrets/{name}                   Delete Secret: soft delete → DeletedSecretBundle with recoveryId
//   GET    /deletedsecrets/{name}            Get Deleted Secret (404 while the deletion is still in progress)
//   DELETE /deletedsecrets/{name}            Purge Deleted Secret (204)
//   POST   /deletedsecrets/{name}/recover    Recover Deleted Secret
//   GET    /secrets                          Get Secrets: pages of SecretItem with `nextLink`
//   GET    /secrets/{name}/versions          Get Secret Versions: pages with `nextLink`
// Names are compared case-insensitively, as Key Vault does; dates are Unix seconds.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  FailureQueue,
  parseJsonBody,
  readBody,
  sendJson,
  sendPage,
  serveLoopback,
} from '../../servers/loopback.js';

interface StoredVersion {
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  created: number;
  updated: number;
  exp?: number;
  nbf?: number;
}

interface StoredSecret {
  /** The name as first written (Key Vault keeps its case). */
  name: string;
  versions: StoredVersion[];
}

interface DeletedSecret {
  secret: StoredSecret;
  deletedDate: number;
  /** Polls of Get Deleted Secret still to answer 404 ("deletion in progress"). */
  pendingPolls: number;
}

/** An error to answer with instead of doing the work. */
export interface AzureInjectedFailure {
  status: number;
  /** Key Vault error code (`Throttled`, `Forbidden`, ...). */
  code: string;
  /** How many requests fail (default 1); `Infinity` until `heal()`. */
  times?: number;
  /** Only this operation (`get`, `set`, `list`, ...); default every operation. */
  op?: string;
  /** Answer with an HTML page (a proxy or gateway in the way) instead of Key Vault's JSON. */
  html?: boolean;
}

export interface AzureWireRequest {
  method: string;
  op: string;
  path: string;
  apiVersion?: string;
  authorized: boolean;
  /** Whether the request had a body (the SDK's first request of a client has none). */
  hadBody: boolean;
}

export interface AzureWireServer {
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** The PEM certificate to trust. */
  cert: string;
  /** The token the server accepts. */
  token: string;
  requests: AzureWireRequest[];
  /** Authorized requests of one operation (challenges not counted). */
  count(op: string): number;
  /** Store versions (oldest first). */
  seed(name: string, values: string[], options?: { tags?: Record<string, string> }): void;
  /** Add a version now (as `az keyvault secret set` would), creating the secret when absent. */
  add(name: string, value: string): void;
  /** Enable or disable one version (default: the newest). */
  setEnabled(name: string, enabled: boolean, version?: string): void;
  secret(name: string): StoredSecret | undefined;
  deleted(name: string): DeletedSecret | undefined;
  fail(failure: AzureInjectedFailure): void;
  /** Page size of list answers (default 25). */
  setPageSize(size: number): void;
  /** How many Get Deleted Secret polls answer 404 after a delete (default 1). */
  setDeletePolls(polls: number): void;
  /** Delay every answer by `ms`. */
  setLatency(ms: number): void;
  heal(): void;
  reset(): void;
  close(): Promise<void>;
}

/** Start the server on a free loopback port with `tls` (see `makeLoopbackCertificate` in test/servers/certificate.ts). */
export async function startAzureWire(tls: { key: string; cert: string }): Promise<AzureWireServer> {
  const token = `test-token-${randomBytes(4).toString('hex')}`;
  const secrets = new Map<string, StoredSecret>();
  const deleted = new Map<string, DeletedSecret>();
  const requests: AzureWireRequest[] = [];
  const failures = new FailureQueue<AzureInjectedFailure>();
  let pageSize = 25;
  let deletePolls = 1;
  let latency = 0;
  let base = '';

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', base);
    const body = await readBody(req);
    if (latency) await new Promise((r) => setTimeout(r, latency));
    const method = req.method ?? 'GET';
    const op = opOf(method, url.pathname);
    const authorization = req.headers.authorization;
    const authorized = authorization === `Bearer ${token}`;
    requests.push({
      method,
      op,
      path: url.pathname,
      apiVersion: url.searchParams.get('api-version') ?? undefined,
      authorized,
      hadBody: body.length > 0,
    });
    if (!authorized) {
      res.setHeader(
        'WWW-Authenticate',
        'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"',
      );
      return send(res, 401, {
        error: {
          code: 'Unauthorized',
          message: authorization
            ? 'AKV10032: Invalid issuer.'
            : 'AKV10000: Request is missing a Bearer or PoP token.',
        },
      });
    }
    const failure = failures.take((f) => !f.op || f.op === op);
    if (failure) {
      if (failure.status === 429) res.setHeader('Retry-After', '0');
      if (failure.html) {
        const page = `<html><body><h1>${failure.status} Gateway</h1>proxy</body></html>`;
        return sendPage(res, failure.status, 'text/html', page);
      }
      return send(res, failure.status, {
        error: { code: failure.code, message: `injected ${failure.code}` },
      });
    }
    const json = parseJsonBody(body);
    const answer = dispatch(method, op, url, json);
    if (answer.status === 204) {
      res.writeHead(204);
      return res.end();
    }
    send(res, answer.status, answer.body);
  }

  const notFound = (name: string) => ({
    status: 404,
    body: {
      error: {
        code: 'SecretNotFound',
        message: `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      },
    },
  });

  function dispatch(
    method: string,
    op: string,
    url: URL,
    json: any,
  ): { status: number; body?: unknown } {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const name = parts[1] ?? '';
    const key = name.toLowerCase();
    const now = Math.floor(Date.now() / 1000);
    switch (op) {
      case 'get': {
        const secret = secrets.get(key);
        const version = parts[2]
          ? secret?.versions.find((v) => v.version === parts[2])
          : secret?.versions[secret.versions.length - 1];
        if (!secret || !version) return notFound(name);
        if (!version.enabled) {
          return {
            status: 403,
            body: {
              error: {
                code: 'Forbidden',
                message: 'Operation get is not allowed on a disabled secret.',
                innererror: { code: 'SecretDisabled' },
              },
            },
          };
        }
        return { status: 200, body: bundle(secret, version, true) };
      }
      case 'set': {
        if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) {
          return {
            status: 400,
            body: {
              error: {
                code: 'BadParameter',
                message:
                  'The request URI contains an invalid name: only 0-9, a-z, A-Z, and - are allowed.',
              },
            },
          };
        }
        if (deleted.has(key)) {
          return {
            status: 409,
            body: {
              error: {
                code: 'Conflict',
                message: `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
                innererror: { code: 'ObjectIsDeletedButRecoverable' },
              },
            },
          };
        }
        const secret = secrets.get(key) ?? { name, versions: [] };
        secrets.set(key, secret);
        const version: StoredVersion = {
          version: randomBytes(16).toString('hex'),
          value: String(json.value ?? ''),
          contentType: json.contentType,
          tags: json.tags,
          enabled: json.attributes?.enabled ?? true,
          created: now,
          updated: now,
          exp: json.attributes?.exp,
          nbf: json.attributes?.nbf,
        };
        secret.versions.push(version);
        return { status: 200, body: bundle(secret, version, true) };
      }
      case 'update': {
        const secret = secrets.get(key);
        const version = secret?.versions.find((v) => v.version === parts[2]);
        if (!secret || !version) return notFound(name);
        const attrs = json?.attributes ?? {};
        if (attrs.enabled !== undefined) version.enabled = !!attrs.enabled;
        if (attrs.exp !== undefined) version.exp = attrs.exp;
        if (attrs.nbf !== undefined) version.nbf = attrs.nbf;
        if (json?.contentType !== undefined) version.contentType = json.contentType;
        if (json?.tags !== undefined) version.tags = json.tags;
        version.updated = now;
        return { status: 200, body: bundle(secret, version, false) };
      }
      case 'delete': {
        const secret = secrets.get(key);
        if (!secret) return notFound(name);
        secrets.delete(key);
        deleted.set(key, { secret, deletedDate: now, pendingPolls: deletePolls });
        return { status: 200, body: deletedBundle(secret, now) };
      }
      case 'getDeleted': {
        const d = deleted.get(key);
        if (!d || d.pendingPolls > 0) {
          if (d) d.pendingPolls--;
          return {
            status: 404,
            body: {
              error: {
                code: 'DeletedSecretNotFound',
                message: `Deleted Secret not found: ${name}`,
              },
            },
          };
        }
        return { status: 200, body: deletedBundle(d.secret, d.deletedDate) };
      }
      case 'purge': {
        if (!deleted.has(key)) {
          return {
            status: 404,
            body: {
              error: {
                code: 'DeletedSecretNotFound',
                message: `Deleted Secret not found: ${name}`,
              },
            },
          };
        }
        deleted.delete(key);
        return { status: 204 };
      }
      case 'recover': {
        const d = deleted.get(key);
        if (!d) {
          return {
            status: 404,
            body: {
              error: {
                code: 'DeletedSecretNotFound',
                message: `Deleted Secret not found: ${name}`,
              },
            },
          };
        }
        deleted.delete(key);
        secrets.set(key, d.secret);
        return { status: 200, body: bundle(d.secret, d.secret.versions.at(-1)!, false) };
      }
      case 'list': {
        const items = [...secrets.values()]
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((s) => item(s, s.versions[s.versions.length - 1]!, false));
        return { status: 200, body: pageOf(items, url) };
      }
      case 'listVersions': {
        const secret = secrets.get(key);
        if (!secret) return notFound(name);
        // Key Vault documents no order for versions: answer oldest first on purpose.
        const items = secret.versions.map((v) => item(secret, v, true));
        return { status: 200, body: pageOf(items, url) };
      }
      default:
        return {
          status: 400,
          body: {
            error: { code: 'BadParameter', message: `unsupported ${method} ${url.pathname}` },
          },
        };
    }
  }

  function attributes(v: StoredVersion) {
    return {
      enabled: v.enabled,
      created: v.created,
      updated: v.updated,
      ...(v.exp !== undefined ? { exp: v.exp } : {}),
      ...(v.nbf !== undefined ? { nbf: v.nbf } : {}),
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    };
  }

  function bundle(s: StoredSecret, v: StoredVersion, withValue: boolean) {
    return {
      ...(withValue ? { value: v.value } : {}),
      id: `${base}/secrets/${s.name}/${v.version}`,
      ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
      attributes: attributes(v),
      ...(v.tags ? { tags: v.tags } : {}),
    };
  }

  function item(s: StoredSecret, v: StoredVersion, withVersion: boolean) {
    return {
      id: withVersion ? `${base}/secrets/${s.name}/${v.version}` : `${base}/secrets/${s.name}`,
      ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
      attributes: attributes(v),
      ...(v.tags ? { tags: v.tags } : {}),
    };
  }

  function deletedBundle(s: StoredSecret, deletedDate: number) {
    const latest = s.versions[s.versions.length - 1]!;
    return {
      ...bundle(s, latest, false),
      recoveryId: `${base}/deletedsecrets/${s.name}`,
      deletedDate,
      scheduledPurgeDate: deletedDate + 90 * 86400,
    };
  }

  function pageOf(items: unknown[], url: URL) {
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
    const max = Math.min(pageSize, Number(url.searchParams.get('maxresults')) || pageSize);
    const slice = items.slice(skip, skip + max);
    let nextLink: string | null = null;
    if (skip + max < items.length) {
      const next = new URL(url.pathname, base);
      next.searchParams.set('api-version', url.searchParams.get('api-version') ?? '');
      next.searchParams.set('$skiptoken', String(skip + max));
      if (url.searchParams.get('maxresults')) {
        next.searchParams.set('maxresults', url.searchParams.get('maxresults')!);
      }
      nextLink = next.toString();
    }
    return { value: slice, nextLink };
  }

  const loopback = await serveLoopback(
    handle,
    (res, error) =>
      send(res, 500, { error: { code: 'InternalServerError', message: String(error) } }),
    tls,
  );
  base = loopback.url;

  return {
    url: base,
    cert: tls.cert,
    token,
    requests,
    count: (op) => requests.filter((r) => r.op === op && r.authorized).length,
    seed(name, values, options = {}) {
      const created = Math.floor(Date.now() / 1000) - 3600;
      secrets.set(name.toLowerCase(), {
        name,
        versions: values.map((value, i) => ({
          version: randomBytes(16).toString('hex'),
          value,
          enabled: true,
          created: created + i * 60,
          updated: created + i * 60,
          ...(options.tags ? { tags: options.tags } : {}),
        })),
      });
    },
    add(name, value) {
      const key = name.toLowerCase();
      const secret = secrets.get(key) ?? { name, versions: [] };
      secrets.set(key, secret);
      const now = Math.floor(Date.now() / 1000);
      secret.versions.push({
        version: randomBytes(16).toString('hex'),
        value,
        enabled: true,
        created: now,
        updated: now,
      });
    },
    setEnabled(name, enabled, version) {
      const s = secrets.get(name.toLowerCase());
      const v = version ? s?.versions.find((x) => x.version === version) : s?.versions.at(-1);
      if (!v) throw new Error(`no version of ${name}`);
      v.enabled = enabled;
    },
    secret: (name) => secrets.get(name.toLowerCase()),
    deleted: (name) => deleted.get(name.toLowerCase()),
    fail(failure) {
      failures.add(failure);
    },
    setPageSize(size) {
      pageSize = size;
    },
    setDeletePolls(polls) {
      deletePolls = polls;
    },
    setLatency(ms) {
      latency = ms;
    },
    heal() {
      failures.clear();
      latency = 0;
    },
    reset() {
      secrets.clear();
      deleted.clear();
      requests.length = 0;
      failures.clear();
      pageSize = 25;
      deletePolls = 1;
      latency = 0;
    },
    close: loopback.close,
  };
}

/** Which operation a method + path is. */
function opOf(method: string, path: string): string {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'secrets') {
    if (parts.length === 1 && method === 'GET') return 'list';
    if (parts.length === 3 && parts[2] === 'versions' && method === 'GET') return 'listVersions';
    if (parts.length >= 2 && parts.length <= 3 && method === 'GET') return 'get';
    if (parts.length === 2 && method === 'PUT') return 'set';
    if (parts.length === 2 && method === 'DELETE') return 'delete';
    if (parts.length === 3 && method === 'PATCH') return 'update';
  }
  if (parts[0] === 'deletedsecrets' && parts.length === 3 && parts[2] === 'recover') {
    if (method === 'POST') return 'recover';
  }
  if (parts[0] === 'deletedsecrets' && parts.length === 2) {
    if (method === 'GET') return 'getDeleted';
    if (method === 'DELETE') return 'purge';
  }
  return 'unknown';
}

function send(res: ServerResponse, status: number, body: unknown) {
  sendJson(res, status, body, {
    'content-type': 'application/json; charset=utf-8',
    'x-ms-keyvault-service-version': '1.9.0.0',
  });
}
