// A loopback stand-in for HashiCorp Vault's HTTP API (https://developer.hashicorp.com/vault/api-docs),
// over HTTP or HTTPS (a certificate made at test time). Test-only; listens on 127.0.0.1 only.
//
// Implemented, per the API docs:
//   GET  sys/health                         200 active, 503 sealed (body {initialized, sealed, standby})
//   GET  sys/internal/ui/mounts/{path}      the mount holding path: {path: "secret/", type: "kv", options: {version}}
//   POST auth/{approle|kubernetes|jwt}/login  {role_id, secret_id} / {role, jwt} → auth.client_token,
//        lease_duration, renewable (400 "invalid role or secret ID", 403 for a refused JWT)
//   GET  auth/token/lookup-self             data.ttl (seconds left), creation_ttl, renewable, policies
//   POST auth/token/renew-self              {increment?} → auth.lease_duration, capped by the token's max TTL
//   KV v2: GET/POST/DELETE {mount}/data/{path} (?version=N; a deleted or destroyed version is a 404 whose
//        body still holds the metadata), GET/POST/DELETE {mount}/metadata/{path}, GET {mount}/metadata/{dir}/?list=true,
//        POST {mount}/delete|undelete|destroy/{path} {versions: [...]}
//   KV v1: GET/POST/DELETE {mount}/{path}, GET {mount}/{dir}/?list=true
//   Database secrets engine: GET {mount}/creds/{role} → lease_id, lease_duration, renewable and
//        data.username/password, new ones per read (400 "unknown role: R"); PUT sys/leases/renew
//        {lease_id, increment?} → lease_id, lease_duration (capped by the role's max TTL, with a
//        warning), renewable (400 "lease not found" for an unknown, expired or revoked lease; 400
//        "lease is not renewable"); PUT sys/leases/revoke {lease_id} → 204
// Tokens travel in X-Vault-Token, the namespace in X-Vault-Namespace (mounts are per namespace). A
// missing token is 400 "missing client token"; an unknown, expired or revoked one is 403 "permission
// denied" (with "invalid token" too, as Vault ≥ 1.10 says it, unless `terseDenials`); a path the
// token's policy denies is 403 "permission denied". Errors are {"errors": [...]}.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Loopback,
  type LoopbackTls,
  parseJsonBody,
  readBody,
  Stall,
  sendJson,
  sendPage,
  serveLoopback,
} from '../../servers/loopback.js';

interface KvVersion {
  data: Record<string, unknown> | null;
  created: string;
  deleted: string;
  destroyed: boolean;
}

interface KvEntry {
  versions: KvVersion[];
  custom: Record<string, string> | null;
}

interface Mount {
  version: 1 | 2;
  entries: Map<string, KvEntry>;
  /** KV v1 values. */
  plain: Map<string, Record<string, unknown>>;
}

export interface TokenSettings {
  /** Seconds; 0 = never expires. Default 3600. */
  ttl?: number;
  renewable?: boolean;
  /** Seconds from issue the token can live in all, renewals included; default 24 h. */
  maxTtl?: number;
  /** API paths (without /v1/) the token's policy denies. */
  deny?: RegExp[];
  /** Issue a token Vault does not know (a broken login: every use is refused). */
  dead?: boolean;
}

interface Token {
  id: string;
  ttl: number;
  renewable: boolean;
  issued: number;
  expiresAt?: number;
  maxExpiresAt: number;
  deny: RegExp[];
}

/** `html500` / `html403`: a proxy's HTML page instead of Vault's JSON. */
export type VaultFault =
  | 'throttle'
  | 'denied'
  | 'revoked'
  | 'internal'
  | 'sealed'
  | 'hang'
  | 'html500'
  | 'html403';

export interface VaultWireRequest {
  method: string;
  /** Path after /v1/, without the query. */
  path: string;
  namespace?: string;
  hasToken: boolean;
  status: number;
}

export interface VaultWireOptions {
  /** Serve HTTPS with this key and certificate. */
  tls?: LoopbackTls;
}

/** Loopback Vault. Create with {@link VaultWire.start}. */
export class VaultWire {
  readonly url: string;
  readonly rootToken = `hvs.root-${randomBytes(6).toString('hex')}`;
  readonly requests: VaultWireRequest[] = [];
  /** Logins per auth method, lookups and renewals answered (successful or not). */
  readonly counts = {
    logins: 0,
    approle: 0,
    kubernetes: 0,
    jwt: 0,
    lookups: 0,
    renewals: 0,
    /** Database credential reads and lease renewals answered. */
    creds: 0,
    leaseRenewals: 0,
  };
  /** Database roles by `mount/role`: lease TTLs in seconds. */
  private readonly dbRoles = new Map<string, { ttl: number; maxTtl: number; renewable: boolean }>();
  /** Leases issued for database credentials. */
  readonly leases = new Map<
    string,
    { username: string; expiresAt: number; maxExpiresAt: number; renewable: boolean; ttl: number }
  >();
  /** Credentials the login endpoints accept. */
  approle = { roleId: 'role-id-1', secretId: 'secret-id-1' };
  kubernetes = { role: 'app', jwt: 'k8s-jwt-1' };
  jwt = { role: 'ci', jwt: 'oidc-jwt-1' };
  /** Settings of the tokens logins issue. */
  loginTokens: TokenSettings = {};
  /** Answer a dead token with "permission denied" only (as Vault before 1.10 did). */
  terseDenials = false;
  private readonly tokens = new Map<string, Token>();
  private readonly mounts = new Map<string, Mount>();
  private faults = new Set<VaultFault>();
  private readonly stall = new Stall();

  private constructor(private readonly loopback: Loopback) {
    this.url = loopback.url;
    this.tokens.set(this.rootToken, {
      id: this.rootToken,
      ttl: 0,
      renewable: false,
      issued: Date.now(),
      maxExpiresAt: Number.POSITIVE_INFINITY,
      deny: [],
    });
    this.mount('secret', 2);
  }

  static async start(options: VaultWireOptions = {}): Promise<VaultWire> {
    let wire: VaultWire | undefined;
    const loopback = await serveLoopback(
      (req, res) => wire!.handle(req, res),
      (res, error) => send(res, 500, { errors: [String(error)] }),
      options.tls,
    );
    wire = new VaultWire(loopback);
    return wire;
  }

  /** Define a database role (`vault write database/roles/NAME default_ttl=… max_ttl=…`). */
  databaseRole(
    role: string,
    settings: { ttl?: number; maxTtl?: number; renewable?: boolean; mount?: string } = {},
  ): void {
    this.dbRoles.set(`${settings.mount ?? 'database'}/${role}`, {
      ttl: settings.ttl ?? 3600,
      maxTtl: settings.maxTtl ?? 86_400,
      renewable: settings.renewable ?? true,
    });
  }

  /** Enable a KV mount (in a namespace, `''` = root). */
  mount(name: string, version: 1 | 2, namespace = ''): void {
    this.mounts.set(`${namespace}|${name}`, { version, entries: new Map(), plain: new Map() });
  }

  /** Write an entry as `vault kv put` would (a new version on KV v2). `mountPath` = `secret/app/db`. */
  put(mountPath: string, data: Record<string, unknown>, namespace = ''): void {
    const found = this.findMount(mountPath, namespace);
    if (!found) throw new Error(`no mount for ${mountPath}`);
    this.writeKv(found.mount, found.rest, data);
  }

  /** A KV v2 entry as stored (tests inspect versions and deletions). */
  entry(mountPath: string, namespace = ''): KvEntry | undefined {
    const found = this.findMount(mountPath, namespace);
    return found?.mount.entries.get(found.rest);
  }

  /** Issue a token directly (as `vault token create` would). */
  issueToken(settings: TokenSettings = {}): string {
    const ttl = settings.ttl ?? 3600;
    const now = Date.now();
    const token: Token = {
      id: `hvs.${randomBytes(12).toString('hex')}`,
      ttl,
      renewable: settings.renewable ?? true,
      issued: now,
      expiresAt: ttl > 0 ? now + ttl * 1000 : undefined,
      maxExpiresAt: now + (settings.maxTtl ?? 86_400) * 1000,
      deny: settings.deny ?? [],
    };
    if (!settings.dead) this.tokens.set(token.id, token);
    return token.id;
  }

  /** Every token issued so far expires now (the root token too, unless `keepRoot`). */
  expireAll(keepRoot = true): void {
    for (const id of [...this.tokens.keys()]) {
      if (keepRoot && id === this.rootToken) continue;
      this.tokens.delete(id);
    }
  }

  /** Add a policy denial to an existing token. */
  deny(token: string, path: RegExp): void {
    this.tokens.get(token)?.deny.push(path);
  }

  inject(fault: VaultFault): void {
    this.faults.add(fault);
  }

  heal(): void {
    this.faults.clear();
    this.stall.release();
  }

  /** Forget requests and counters (not data or tokens). */
  resetCounts(): void {
    this.requests.length = 0;
    for (const key of Object.keys(this.counts) as Array<keyof VaultWire['counts']>)
      this.counts[key] = 0;
  }

  count(pattern: RegExp, method?: string): number {
    return this.requests.filter((r) => pattern.test(r.path) && (!method || r.method === method))
      .length;
  }

  async close(): Promise<void> {
    this.heal();
    await this.loopback.close();
  }

  private findMount(mountPath: string, namespace: string) {
    const parts = mountPath.replace(/^\/+/, '').split('/');
    for (let i = parts.length; i > 0; i--) {
      const name = parts.slice(0, i).join('/');
      const mount = this.mounts.get(`${namespace}|${name}`);
      if (mount) return { name, mount, rest: parts.slice(i).join('/') };
    }
    return undefined;
  }

  private writeKv(mount: Mount, path: string, data: Record<string, unknown>): number {
    if (mount.version === 1) {
      mount.plain.set(path, data);
      return 0;
    }
    let entry = mount.entries.get(path);
    if (!entry) {
      entry = { versions: [], custom: null };
      mount.entries.set(path, entry);
    }
    entry.versions.push({ data, created: new Date().toISOString(), deleted: '', destroyed: false });
    return entry.versions.length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault');
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(url.pathname.replace(/^\/v1\//, ''));
    const namespace = (req.headers['x-vault-namespace'] as string | undefined) ?? '';
    const tokenId = req.headers['x-vault-token'] as string | undefined;
    const record: VaultWireRequest = {
      method,
      path,
      hasToken: !!tokenId,
      status: 0,
      ...(namespace ? { namespace } : {}),
    };
    this.requests.push(record);
    const reply = (status: number, payload?: unknown) => {
      record.status = status;
      send(res, status, payload);
    };
    const errors = (status: number, ...messages: string[]) => reply(status, { errors: messages });

    // A stall: the request waits until heal(), then is answered as usual (the network came back).
    while (this.faults.has('hang')) await this.stall.wait();
    if (path === 'sys/health') {
      const sealed = this.faults.has('sealed');
      return reply(sealed ? 503 : 200, {
        initialized: true,
        sealed,
        standby: false,
        version: '1.17.0',
        cluster_name: 'wire',
      });
    }
    if (this.faults.has('sealed')) return errors(503, 'Vault is sealed');
    if (this.faults.has('throttle')) {
      res.setHeader('Retry-After', '0');
      return errors(429, `request path "${path}": rate limit quota exceeded`);
    }
    if (this.faults.has('internal')) return errors(500, 'internal error');
    for (const [fault, status] of [
      ['html500', 500],
      ['html403', 403],
    ] as const) {
      if (!this.faults.has(fault)) continue;
      record.status = status;
      return sendPage(
        res,
        status,
        'text/html',
        `<html><body><h1>${status}</h1>proxy</body></html>`,
      );
    }
    const json = parseJsonBody(body);

    const login = /^auth\/([^/]+)\/login$/.exec(path);
    if (login && method === 'POST') return this.login(login[1]!, json, reply, errors);

    if (!tokenId) return errors(400, 'missing client token');
    const token = this.tokens.get(tokenId);
    const alive =
      token &&
      !this.faults.has('revoked') &&
      (token.expiresAt === undefined || token.expiresAt > Date.now());
    if (!alive) {
      return this.terseDenials
        ? errors(403, 'permission denied')
        : errors(403, '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n');
    }

    if (path === 'auth/token/lookup-self' && method === 'GET') {
      this.counts.lookups++;
      const left =
        token.expiresAt === undefined
          ? 0
          : Math.max(0, Math.round((token.expiresAt - Date.now()) / 1000));
      return reply(200, {
        data: {
          id: token.id,
          accessor: `acc-${token.id.slice(-6)}`,
          creation_ttl: token.ttl,
          ttl: left,
          renewable: token.renewable,
          expire_time: token.expiresAt ? new Date(token.expiresAt).toISOString() : null,
          policies: ['default'],
        },
      });
    }
    if (path === 'auth/token/renew-self' && method === 'POST') {
      this.counts.renewals++;
      if (!token.renewable) return errors(400, 'lease is not renewable');
      const wanted = json.increment ? Number.parseInt(String(json.increment), 10) : token.ttl;
      const left = Math.floor((token.maxExpiresAt - Date.now()) / 1000);
      const granted = Math.max(0, Math.min(wanted, left));
      token.expiresAt = Date.now() + granted * 1000;
      return reply(200, {
        auth: {
          client_token: token.id,
          lease_duration: granted,
          renewable: token.renewable,
          policies: ['default'],
        },
      });
    }

    if (this.faults.has('denied') || token.deny.some((d) => d.test(path))) {
      return errors(403, 'permission denied');
    }

    const creds = /^([^/]+)\/creds\/([^/]+)$/.exec(path);
    if (creds && method === 'GET' && !this.findMount(path, namespace)) {
      this.counts.creds++;
      const role = this.dbRoles.get(`${creds[1]}/${creds[2]}`);
      if (!role) return errors(400, `unknown role: ${creds[2]}`);
      const leaseId = `${creds[1]}/creds/${creds[2]}/${randomBytes(12).toString('base64url')}`;
      const username = `v-approle-${creds[2]}-${randomBytes(5).toString('hex')}`;
      const now = Date.now();
      this.leases.set(leaseId, {
        username,
        expiresAt: now + role.ttl * 1000,
        maxExpiresAt: now + role.maxTtl * 1000,
        renewable: role.renewable,
        ttl: role.ttl,
      });
      return reply(200, {
        request_id: randomBytes(8).toString('hex'),
        lease_id: leaseId,
        renewable: role.renewable,
        lease_duration: role.ttl,
        data: { username, password: `A1a-${randomBytes(15).toString('base64url')}` },
        wrap_info: null,
        warnings: null,
        auth: null,
      });
    }
    if (path === 'sys/leases/renew' && (method === 'PUT' || method === 'POST')) {
      this.counts.leaseRenewals++;
      const lease = this.leases.get(String(json.lease_id ?? ''));
      if (!lease || lease.expiresAt <= Date.now()) return errors(400, 'lease not found');
      if (!lease.renewable) return errors(400, 'lease is not renewable');
      const wanted = json.increment ? Number.parseInt(String(json.increment), 10) : lease.ttl;
      const left = Math.floor((lease.maxExpiresAt - Date.now()) / 1000);
      const granted = Math.max(0, Math.min(wanted, left));
      lease.expiresAt = Date.now() + granted * 1000;
      return reply(200, {
        lease_id: json.lease_id,
        renewable: lease.renewable,
        lease_duration: granted,
        data: null,
        warnings:
          granted < wanted
            ? [
                `TTL of "${wanted}s" exceeded the effective max_ttl of "${left}s"; TTL value is capped accordingly`,
              ]
            : null,
      });
    }
    if (path === 'sys/leases/revoke' && (method === 'PUT' || method === 'POST')) {
      this.leases.delete(String(json.lease_id ?? ''));
      return reply(204);
    }

    const ui = /^sys\/internal\/ui\/mounts\/(.+)$/.exec(path);
    if (ui && method === 'GET') {
      const found = this.findMount(ui[1]!, namespace);
      if (!found) return errors(404, `no mount found for "${ui[1]}"`);
      return reply(200, {
        data: {
          path: `${found.name}/`,
          type: 'kv',
          options: found.mount.version === 2 ? { version: '2' } : null,
        },
      });
    }

    const found = this.findMount(path, namespace);
    if (!found) return errors(404, `no handler for route "${path}". route entry not found.`);
    const list = url.searchParams.get('list') === 'true' || url.searchParams.get('list') === '1';
    return found.mount.version === 1
      ? this.kv1(found.mount, found.rest, method, list, json, reply, errors)
      : this.kv2(found.mount, found.rest, method, list, json, url, reply, errors);
  }

  private login(
    mount: string,
    json: Record<string, string>,
    reply: (status: number, payload?: unknown) => void,
    errors: (status: number, ...messages: string[]) => void,
  ) {
    this.counts.logins++;
    const revoked = this.faults.has('revoked');
    if (mount === 'approle') {
      this.counts.approle++;
      if (
        revoked ||
        json.role_id !== this.approle.roleId ||
        json.secret_id !== this.approle.secretId
      )
        return errors(400, 'invalid role or secret ID');
    } else if (mount === 'kubernetes') {
      this.counts.kubernetes++;
      if (json.role !== this.kubernetes.role)
        return errors(400, `invalid role name "${json.role}"`);
      if (revoked || json.jwt !== this.kubernetes.jwt) return errors(403, 'permission denied');
    } else if (mount === 'jwt') {
      this.counts.jwt++;
      if (json.role !== this.jwt.role) return errors(400, `role "${json.role}" could not be found`);
      if (revoked || json.jwt !== this.jwt.jwt)
        return errors(400, 'error validating token: invalid audience (aud) claim');
    } else {
      return errors(404, `no handler for route "auth/${mount}/login". route entry not found.`);
    }
    const id = this.issueToken(this.loginTokens);
    return reply(200, {
      auth: {
        client_token: id,
        accessor: `acc-${id.slice(-6)}`,
        policies: ['default', 'app'],
        lease_duration: this.loginTokens.ttl ?? 3600,
        renewable: this.loginTokens.renewable ?? true,
      },
    });
  }

  private kv1(
    mount: Mount,
    rest: string,
    method: string,
    list: boolean,
    json: Record<string, unknown>,
    reply: (status: number, payload?: unknown) => void,
    errors: (status: number, ...messages: string[]) => void,
  ) {
    if (list && method === 'GET') {
      const keys = listKeys([...mount.plain.keys()], rest);
      return keys.length ? reply(200, { data: { keys } }) : errors(404);
    }
    if (method === 'GET') {
      const data = mount.plain.get(rest);
      return data ? reply(200, { data, lease_duration: 2_764_800, renewable: false }) : errors(404);
    }
    if (method === 'POST' || method === 'PUT') {
      mount.plain.set(rest, json);
      return reply(204);
    }
    if (method === 'DELETE') {
      mount.plain.delete(rest);
      return reply(204);
    }
    return errors(405, 'unsupported operation');
  }

  private kv2(
    mount: Mount,
    rest: string,
    method: string,
    list: boolean,
    json: Record<string, any>,
    url: URL,
    reply: (status: number, payload?: unknown) => void,
    errors: (status: number, ...messages: string[]) => void,
  ) {
    const slash = rest.indexOf('/');
    const kind = slash < 0 ? rest : rest.slice(0, slash);
    const path = slash < 0 ? '' : rest.slice(slash + 1);
    const entry = mount.entries.get(path);
    const metadataOf = (e: KvEntry, n: number) => {
      const v = e.versions[n - 1]!;
      return {
        created_time: v.created,
        deletion_time: v.deleted,
        destroyed: v.destroyed,
        version: n,
        custom_metadata: e.custom,
      };
    };
    const versionsOf = (e: KvEntry) =>
      (Array.isArray(json.versions) ? json.versions : []).filter(
        (n: unknown) => typeof n === 'number' && n >= 1 && n <= e.versions.length,
      ) as number[];

    if (kind === 'data') {
      if (method === 'GET') {
        if (!entry?.versions.length) return errors(404);
        const wanted = Number(url.searchParams.get('version') ?? 0) || entry.versions.length;
        const v = entry.versions[wanted - 1];
        if (!v) return errors(404);
        const meta = metadataOf(entry, wanted);
        if (v.deleted || v.destroyed || !v.data)
          return reply(404, { data: { data: null, metadata: meta } });
        return reply(200, { data: { data: v.data, metadata: meta } });
      }
      if (method === 'POST' || method === 'PUT') {
        const n = this.writeKv(mount, path, json.data ?? {});
        return reply(200, { data: metadataOf(mount.entries.get(path)!, n) });
      }
      if (method === 'DELETE') {
        const latest = entry?.versions.at(-1);
        if (latest && !latest.deleted) latest.deleted = new Date().toISOString();
        return reply(204);
      }
    }
    if (kind === 'metadata') {
      if (method === 'GET' && list) {
        const live = [...mount.entries.keys()].filter((k) => mount.entries.get(k)!.versions.length);
        const keys = listKeys(live, path);
        return keys.length ? reply(200, { data: { keys } }) : errors(404);
      }
      if (method === 'GET') {
        if (!entry?.versions.length) return errors(404);
        const versions: Record<string, unknown> = {};
        entry.versions.forEach((v, i) => {
          versions[String(i + 1)] = {
            created_time: v.created,
            deletion_time: v.deleted,
            destroyed: v.destroyed,
          };
        });
        return reply(200, {
          data: {
            current_version: entry.versions.length,
            oldest_version: 1,
            max_versions: 0,
            custom_metadata: entry.custom,
            versions,
          },
        });
      }
      if (method === 'POST' || method === 'PUT') {
        // custom_metadata: at most 64 keys, keys ≤ 128 bytes, values ≤ 512 bytes.
        const custom = Object.entries((json.custom_metadata ?? {}) as Record<string, string>);
        const bad =
          custom.length > 64 ||
          custom.some(([k, v]) => Buffer.byteLength(k) > 128 || Buffer.byteLength(String(v)) > 512);
        if (bad) return reply(400, { errors: ['custom_metadata exceeds the limits'] });
        const e = entry ?? { versions: [], custom: null };
        e.custom = json.custom_metadata ?? e.custom;
        mount.entries.set(path, e);
        return reply(204);
      }
      if (method === 'DELETE') {
        mount.entries.delete(path);
        return reply(204);
      }
    }
    if ((kind === 'delete' || kind === 'undelete' || kind === 'destroy') && method !== 'GET') {
      if (!entry) return reply(204);
      for (const n of versionsOf(entry)) {
        const v = entry.versions[n - 1]!;
        if (kind === 'delete' && !v.deleted) v.deleted = new Date().toISOString();
        if (kind === 'undelete' && !v.destroyed) v.deleted = '';
        if (kind === 'destroy') {
          v.destroyed = true;
          v.data = null;
        }
      }
      return reply(204);
    }
    return errors(405, 'unsupported operation');
  }
}

/** The keys a LIST of `dir` answers: names and `folder/` entries directly under it. */
function listKeys(paths: string[], dir: string): string[] {
  const base = dir && !dir.endsWith('/') ? `${dir}/` : dir;
  const keys = new Set<string>();
  for (const p of paths) {
    if (!p.startsWith(base)) continue;
    const rest = p.slice(base.length);
    const slash = rest.indexOf('/');
    keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
  }
  return [...keys].filter(Boolean).sort();
}

/** Vault's answers: 204 without a body; an error without messages is `{"errors": []}`. */
function send(res: ServerResponse, status: number, payload?: unknown) {
  if (status === 204) {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(204);
    res.end();
    return;
  }
  sendJson(res, status, payload ?? { errors: [] });
}
