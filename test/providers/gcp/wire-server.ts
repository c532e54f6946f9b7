// A loopback stand-in for GCP Secret Manager's REST API (v1, https://cloud.google.com/secret-manager/docs/reference/rest),
// speaking the JSON the real client sends with `fallback: true`. Test-only; listens on 127.0.0.1 only.
//
// Implemented, per the REST reference:
//   GET    /v1/{projects/*[/locations/*]}/secrets            list (pageSize, pageToken, filter `name:X`)
//   POST   /v1/{projects/*[/locations/*]}/secrets?secretId=  create (ALREADY_EXISTS when present)
//   GET    /v1/{.../secrets/*}                               get
//   PATCH  /v1/{.../secrets/*}?updateMask=                   update (labels, annotations, expireTime)
//          (create and update: INVALID_ARGUMENT for labels outside [a-z0-9_-] ≤ 63, or bad annotation keys)
//   DELETE /v1/{.../secrets/*}                               delete (all versions)
//   POST   /v1/{.../secrets/*}:addVersion                    add a version (checks payload.dataCrc32c)
//   GET    /v1/{.../secrets/*}/versions                      list versions, newest first
//   GET    /v1/{.../versions/*}                              get a version (`latest` alias)
//   GET    /v1/{.../versions/*}:access                       access (FAILED_PRECONDITION unless ENABLED)
//   POST   /v1/{.../versions/*}:{disable,enable,destroy}     state changes
// Errors use Google's JSON error model: `{ "error": { "code": 404, "message": ..., "status": "NOT_FOUND" } }`.
// Enums are written as numbers when the client asks for `$alt=json;enum-encoding=int` (it does).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32c } from '../../../src/providers/gcp/crc32c.js';
import {
  FailureQueue,
  parseJsonBody,
  readBody,
  sendJson,
  sendPage,
  serveLoopback,
} from '../../servers/loopback.js';

type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';
const STATE_NUMBER: Record<VersionState, number> = { ENABLED: 1, DISABLED: 2, DESTROYED: 3 };

interface StoredVersion {
  id: number;
  state: VersionState;
  created: Date;
  destroyed?: Date;
  data: Buffer;
}

interface StoredSecret {
  /** `projects/p/secrets/s` or `projects/p/locations/l/secrets/s`. */
  name: string;
  created: Date;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  expireTime?: string;
  replication: unknown;
  versions: StoredVersion[];
}

/** An error to answer with instead of doing the work. */
export interface InjectedFailure {
  /** HTTP status (429, 403, 401, 503, ...). */
  status: number;
  /** gRPC status name (`RESOURCE_EXHAUSTED`, ...). */
  grpc: string;
  /** How many requests fail (default 1); `Infinity` until `heal()`. */
  times?: number;
  /** Matching requests answered normally before the failure applies (default 0). */
  after?: number;
  /** Only requests whose RPC is this (`access`, `list`, `addVersion`, ...); default every RPC. */
  rpc?: string;
  /** Answer with an HTML page (a proxy or load balancer in the way) instead of Google's JSON. */
  html?: boolean;
}

export interface GcpWireRequest {
  method: string;
  /** The RPC the server recognised (`access`, `getVersion`, `listVersions`, `list`, ...). */
  rpc: string;
  path: string;
  authorization?: string;
  apiClient?: string;
}

export interface GcpWireServer {
  /** `127.0.0.1:PORT` (what the client's `apiEndpoint` + `port` point at). */
  host: string;
  port: number;
  /** Every request, in order. */
  requests: GcpWireRequest[];
  /** How many requests had this RPC. */
  count(rpc: string): number;
  /** Store versions of a secret (oldest first) under `projects/{project}[/locations/{loc}]`. */
  seed(
    project: string,
    secretId: string,
    values: string[],
    options?: { location?: string; labels?: Record<string, string> },
  ): void;
  /** Add a version (as `gcloud secrets versions add` would), creating the secret when absent. */
  add(project: string, secretId: string, value: string): void;
  /** Change a stored version's state directly. */
  setState(fullSecretName: string, version: number, state: VersionState): void;
  /** The stored secret (or undefined), for assertions on labels, versions and states. */
  secret(fullSecretName: string): StoredSecret | undefined;
  /** Fail requests with an error (see {@link InjectedFailure}). */
  fail(failure: InjectedFailure): void;
  /** Answer the next `access` calls with a payload whose `dataCrc32c` does not match. */
  corruptChecksum(times?: number): void;
  /** Delay every answer by `ms`. */
  setLatency(ms: number): void;
  heal(): void;
  reset(): void;
  close(): Promise<void>;
}

const PAGE_DEFAULT = 25;

/** Start the server on a free loopback port. */
export async function startGcpWire(): Promise<GcpWireServer> {
  const secrets = new Map<string, StoredSecret>();
  const requests: GcpWireRequest[] = [];
  const failures = new FailureQueue<InjectedFailure>();
  let corrupt = 0;
  let latency = 0;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(req);
    if (latency) await new Promise((r) => setTimeout(r, latency));
    const numericEnums = (url.searchParams.get('$alt') ?? '').includes('enum-encoding=int');
    const route = routeOf(req.method ?? 'GET', decodeURIComponent(url.pathname));
    requests.push({
      method: req.method ?? 'GET',
      rpc: route?.rpc ?? 'unknown',
      path: url.pathname,
      authorization: req.headers.authorization,
      apiClient: req.headers['x-goog-api-client'] as string | undefined,
    });
    if (!route) return send(res, 404, errorBody(404, 'NOT_FOUND', `no route ${url.pathname}`));
    if (!req.headers.authorization?.startsWith('Bearer ')) {
      return send(res, 401, errorBody(401, 'UNAUTHENTICATED', 'missing credentials'));
    }
    const failure = failures.take((f) => !f.rpc || f.rpc === route.rpc);
    if (failure) {
      if (failure.html) {
        const page = `<html><body><h1>${failure.status} Server Error</h1>proxy</body></html>`;
        return sendPage(res, failure.status, 'text/html', page);
      }
      return send(
        res,
        failure.status,
        errorBody(failure.status, failure.grpc, `injected ${failure.grpc}`),
      );
    }
    const json = parseJsonBody(body);
    const out = (status: number, value: unknown) =>
      send(res, status, numericEnums ? numericStates(value) : value);
    const answer = dispatch(route, url.searchParams, json);
    out(answer.status, answer.body);
  }

  function dispatch(
    route: Route,
    query: URLSearchParams,
    json: any,
  ): { status: number; body: unknown } {
    const notFound = (what: string) => ({
      status: 404,
      body: errorBody(404, 'NOT_FOUND', `${what} not found or has no versions.`),
    });
    const secret = route.secret ? secrets.get(route.secret) : undefined;
    switch (route.rpc) {
      case 'list': {
        const filter = query.get('filter') ?? '';
        const contains = /^name:(.*)$/.exec(filter)?.[1];
        const all = [...secrets.values()]
          .filter((s) => parentOf(s.name) === route.parent)
          .filter((s) => contains === undefined || idOf(s.name).includes(contains))
          .sort((a, b) => a.name.localeCompare(b.name));
        return { status: 200, body: page(all.map(secretJson), 'secrets', query) };
      }
      case 'create': {
        const id = query.get('secretId') ?? '';
        if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) {
          return {
            status: 400,
            body: errorBody(400, 'INVALID_ARGUMENT', 'invalid secret id'),
          };
        }
        const invalid = metadataProblem(json.labels, json.annotations);
        if (invalid) return { status: 400, body: errorBody(400, 'INVALID_ARGUMENT', invalid) };
        const name = `${route.parent}/secrets/${id}`;
        // Global secrets need a replication policy; regional ones take none.
        const regional = route.parent!.includes('/locations/');
        if (regional === Boolean(json.replication)) {
          return {
            status: 400,
            body: errorBody(
              400,
              'INVALID_ARGUMENT',
              regional
                ? 'replication is not allowed for regional secrets'
                : 'replication is required',
            ),
          };
        }
        if (secrets.has(name)) {
          return {
            status: 409,
            body: errorBody(409, 'ALREADY_EXISTS', `Secret [${name}] already exists.`),
          };
        }
        const created: StoredSecret = {
          name,
          created: new Date(),
          labels: json.labels ?? {},
          annotations: json.annotations ?? {},
          expireTime: json.expireTime,
          replication: json.replication,
          versions: [],
        };
        secrets.set(name, created);
        return { status: 200, body: secretJson(created) };
      }
      case 'get':
        return secret
          ? { status: 200, body: secretJson(secret) }
          : notFound(`Secret [${route.secret}]`);
      case 'update': {
        if (!secret) return notFound(`Secret [${route.secret}]`);
        const invalid = metadataProblem(json.labels, json.annotations);
        if (invalid) return { status: 400, body: errorBody(400, 'INVALID_ARGUMENT', invalid) };
        for (const path of (query.get('updateMask') ?? '').split(',').filter(Boolean)) {
          if (path === 'labels') secret.labels = json.labels ?? {};
          else if (path === 'annotations') secret.annotations = json.annotations ?? {};
          else if (path === 'expire_time' || path === 'expireTime')
            secret.expireTime = json.expireTime;
        }
        return { status: 200, body: secretJson(secret) };
      }
      case 'delete':
        if (!secret) return notFound(`Secret [${route.secret}]`);
        secrets.delete(secret.name);
        return { status: 200, body: {} };
      case 'addVersion': {
        if (!secret) return notFound(`Secret [${route.secret}]`);
        const data = Buffer.from(json.payload?.data ?? '', 'base64');
        const sent = json.payload?.dataCrc32c;
        if (sent !== undefined && Number(sent) !== crc32c(data)) {
          return {
            status: 400,
            body: errorBody(400, 'INVALID_ARGUMENT', 'Checksum mismatch for payload data.'),
          };
        }
        const version: StoredVersion = {
          id: secret.versions.length + 1,
          state: 'ENABLED',
          created: new Date(),
          data,
        };
        secret.versions.push(version);
        return { status: 200, body: versionJson(secret, version, sent !== undefined) };
      }
      case 'listVersions': {
        if (!secret) return notFound(`Secret [${route.secret}]`);
        const newestFirst = [...secret.versions].reverse().map((v) => versionJson(secret, v));
        return { status: 200, body: page(newestFirst, 'versions', query) };
      }
      case 'getVersion':
      case 'access':
      case 'disable':
      case 'enable':
      case 'destroy': {
        const version = secret && pickVersion(secret, route.version!);
        if (!secret || !version)
          return notFound(`Secret Version [${route.secret}/versions/${route.version}]`);
        const fullName = `${secret.name}/versions/${version.id}`;
        if (route.rpc === 'getVersion') return { status: 200, body: versionJson(secret, version) };
        if (route.rpc === 'access') {
          if (version.state !== 'ENABLED') {
            return {
              status: 400,
              body: errorBody(
                400,
                'FAILED_PRECONDITION',
                `Secret Version [${fullName}] is in ${version.state} state.`,
              ),
            };
          }
          let checksum = crc32c(version.data);
          if (corrupt > 0) {
            corrupt--;
            checksum = (checksum + 1) >>> 0;
          }
          return {
            status: 200,
            body: {
              name: fullName,
              payload: { data: version.data.toString('base64'), dataCrc32c: String(checksum) },
            },
          };
        }
        if (version.state === 'DESTROYED') {
          return {
            status: 400,
            body: errorBody(
              400,
              'FAILED_PRECONDITION',
              `Secret Version [${fullName}] is in DESTROYED state.`,
            ),
          };
        }
        if (route.rpc === 'disable') version.state = 'DISABLED';
        else if (route.rpc === 'enable') version.state = 'ENABLED';
        else {
          version.state = 'DESTROYED';
          version.destroyed = new Date();
          version.data = Buffer.alloc(0);
        }
        return { status: 200, body: versionJson(secret, version) };
      }
      default:
        return { status: 404, body: errorBody(404, 'NOT_FOUND', 'unknown method') };
    }
  }

  const { port, close } = await serveLoopback(handle, (res, error) =>
    send(res, 500, errorBody(500, 'INTERNAL', String(error))),
  );

  return {
    host: '127.0.0.1',
    port,
    requests,
    count: (rpc) => requests.filter((r) => r.rpc === rpc).length,
    seed(project, secretId, values, options = {}) {
      const parent = options.location
        ? `projects/${project}/locations/${options.location}`
        : `projects/${project}`;
      const name = `${parent}/secrets/${secretId}`;
      const created = new Date(Date.now() - 60_000);
      secrets.set(name, {
        name,
        created,
        labels: options.labels ?? {},
        annotations: {},
        replication: options.location ? undefined : { automatic: {} },
        versions: values.map((value, i) => ({
          id: i + 1,
          state: 'ENABLED',
          created: new Date(created.getTime() + i * 1000),
          data: Buffer.from(value, 'utf8'),
        })),
      });
    },
    add(project, secretId, value) {
      const name = `projects/${project}/secrets/${secretId}`;
      let secret = secrets.get(name);
      if (!secret) {
        secret = {
          name,
          created: new Date(),
          labels: {},
          annotations: {},
          replication: { automatic: {} },
          versions: [],
        };
        secrets.set(name, secret);
      }
      secret.versions.push({
        id: secret.versions.length + 1,
        state: 'ENABLED',
        created: new Date(),
        data: Buffer.from(value, 'utf8'),
      });
    },
    setState(fullSecretName, version, state) {
      const v = secrets.get(fullSecretName)?.versions.find((x) => x.id === version);
      if (!v) throw new Error(`no version ${version} of ${fullSecretName}`);
      v.state = state;
    },
    secret: (name) => secrets.get(name),
    fail(failure) {
      failures.add(failure);
    },
    corruptChecksum(times = 1) {
      corrupt = times;
    },
    setLatency(ms) {
      latency = ms;
    },
    heal() {
      failures.clear();
      corrupt = 0;
      latency = 0;
    },
    reset() {
      secrets.clear();
      requests.length = 0;
      failures.clear();
      corrupt = 0;
      latency = 0;
    },
    close,
  };
}

interface Route {
  rpc: string;
  /** `projects/p[/locations/l]` for collection calls. */
  parent?: string;
  /** Full secret name for calls on one secret or version. */
  secret?: string;
  version?: string;
}

const PARENT = '(projects/[^/]+(?:/locations/[^/]+)?)';
const ID = '([^/:]+)';

/** Which RPC a method + path is, per the service's HTTP bindings. */
function routeOf(method: string, path: string): Route | undefined {
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^/v1/${PARENT}/secrets$`).exec(path))) {
    if (method === 'GET') return { rpc: 'list', parent: m[1] };
    if (method === 'POST') return { rpc: 'create', parent: m[1] };
    return undefined;
  }
  if (
    (m = new RegExp(
      `^/v1/${PARENT}/secrets/${ID}/versions/${ID}(?::(access|disable|enable|destroy))?$`,
    ).exec(path))
  ) {
    const secret = `${m[1]}/secrets/${m[2]}`;
    const verb = m[4];
    if (!verb && method === 'GET') return { rpc: 'getVersion', secret, version: m[3] };
    if (verb === 'access' && method === 'GET') return { rpc: 'access', secret, version: m[3] };
    if (verb && verb !== 'access' && method === 'POST') return { rpc: verb, secret, version: m[3] };
    return undefined;
  }
  if ((m = new RegExp(`^/v1/${PARENT}/secrets/${ID}/versions$`).exec(path))) {
    return method === 'GET'
      ? { rpc: 'listVersions', secret: `${m[1]}/secrets/${m[2]}` }
      : undefined;
  }
  if ((m = new RegExp(`^/v1/${PARENT}/secrets/${ID}:addVersion$`).exec(path))) {
    return method === 'POST' ? { rpc: 'addVersion', secret: `${m[1]}/secrets/${m[2]}` } : undefined;
  }
  if ((m = new RegExp(`^/v1/${PARENT}/secrets/${ID}$`).exec(path))) {
    const secret = `${m[1]}/secrets/${m[2]}`;
    if (method === 'GET') return { rpc: 'get', secret };
    if (method === 'PATCH') return { rpc: 'update', secret };
    if (method === 'DELETE') return { rpc: 'delete', secret };
  }
  return undefined;
}

function pickVersion(secret: StoredSecret, version: string): StoredVersion | undefined {
  if (version === 'latest') return secret.versions[secret.versions.length - 1];
  return secret.versions.find((v) => String(v.id) === version);
}

function parentOf(name: string): string {
  return name.slice(0, name.lastIndexOf('/secrets/'));
}

function idOf(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

function secretJson(s: StoredSecret) {
  return {
    name: s.name,
    ...(s.replication ? { replication: s.replication } : {}),
    createTime: s.created.toISOString(),
    labels: s.labels,
    annotations: s.annotations,
    ...(s.expireTime ? { expireTime: s.expireTime } : {}),
    etag: `"${s.versions.length}"`,
  };
}

function versionJson(s: StoredSecret, v: StoredVersion, clientChecksum = false) {
  return {
    name: `${s.name}/versions/${v.id}`,
    createTime: v.created.toISOString(),
    ...(v.destroyed ? { destroyTime: v.destroyed.toISOString() } : {}),
    state: v.state,
    etag: `"${v.id}"`,
    clientSpecifiedPayloadChecksum: clientChecksum,
  };
}

function page(items: unknown[], field: string, query: URLSearchParams) {
  const size = Math.max(1, Number(query.get('pageSize')) || PAGE_DEFAULT);
  const start = Number(query.get('pageToken') || 0);
  const slice = items.slice(start, start + size);
  const next = start + size < items.length ? String(start + size) : undefined;
  return {
    [field]: slice,
    ...(next ? { nextPageToken: next } : {}),
    totalSize: items.length,
  };
}

function numericStates(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(numericStates);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      k === 'state' && typeof v === 'string' ? STATE_NUMBER[v as VersionState] : numericStates(v);
  }
  return out;
}

/**
 * What the service refuses in a secret's labels (keys start with a lowercase letter; keys and values
 * [a-z0-9_-], ≤ 63 characters) or annotations (keys ≤ 63, alphanumeric at both ends with `-_.`
 * between; keys and values < 16 KiB in all).
 */
function metadataProblem(labels: unknown, annotations: unknown): string | undefined {
  for (const [k, v] of Object.entries((labels ?? {}) as Record<string, string>)) {
    if (!/^[a-z][a-z0-9_-]{0,62}$/.test(k) || !/^[a-z0-9_-]{0,63}$/.test(String(v)))
      return `Invalid label: ${k}`;
  }
  let size = 0;
  for (const [k, v] of Object.entries((annotations ?? {}) as Record<string, string>)) {
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$/.test(k))
      return `Invalid annotation key: ${k}`;
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  return size >= 16 * 1024 ? 'The total size of annotations must be less than 16KiB.' : undefined;
}

function errorBody(code: number, status: string, message: string) {
  return { error: { code, message, status } };
}

function send(res: ServerResponse, status: number, body: unknown) {
  sendJson(res, status, body, { 'content-type': 'application/json; charset=UTF-8' });
}
