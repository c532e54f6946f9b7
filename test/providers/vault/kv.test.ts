// The `vault` provider through the real node-vault client (axios underneath) against
// test/providers/vault/wire-server.ts, over HTTP and over HTTPS with a certificate made at test time.
//
// Documented Vault behaviour asserted here (api-docs: secret/kv/kv-v2, secret/kv/kv-v1, auth/*, system/*):
// - KV v2 reads GET {mount}/data/{path}[?version=N] → data.data (the keys) + data.metadata; a soft-deleted
//   or destroyed version is a 404; writes POST data/{path} {data} → data.version; DELETE data/{path}
//   soft-deletes the latest version; POST delete|undelete|destroy/{path} {versions}; DELETE metadata/{path}
//   removes every version; GET metadata/{path} lists versions (created_time, deletion_time, destroyed)
//   and current_version; listing is GET metadata/{dir}/?list=true → data.keys (folders end with "/"),
//   404 when empty. KV v1: GET/POST/DELETE {mount}/{path}, no versions.
// - The KV version of a mount comes from GET sys/internal/ui/mounts/{path} → data.options.version.
// - Logins: POST auth/approle/login {role_id, secret_id}, auth/kubernetes/login {role, jwt},
//   auth/jwt/login {role, jwt} → auth.client_token, lease_duration, renewable; a refused login is a
//   400 (or 403 for Kubernetes). GET auth/token/lookup-self → data.ttl; POST auth/token/renew-self →
//   auth.lease_duration, never past the token's max TTL.
// - A dead token and a policy denial are both 403 "permission denied" (Vault ≥ 1.10 adds "invalid token"
//   for the first); a missing token is 400 "missing client token"; rate limit quotas answer 429; a sealed
//   Vault answers 503 "Vault is sealed" (sys/health: 503 with sealed=true); X-Vault-Namespace scopes mounts.
// What envmux adds: 404 → undefined; 403 is ACCESS_DENIED when lookup-self still accepts the token,
// SESSION_EXPIRED when a token that worked died (the resolver logs in again once and retries), AUTH_FAILED
// when a fresh one is refused; renewal before expiry on an unref'ed timer; VAULT_SKIP_VERIFY is not read.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EnvmuxError, toEnvmuxError } from '../../../src/errors.js';
import { isObjectText } from '../../../src/providers/entry-document.js';
import { buildProvider, detectChain } from '../../../src/providers/registry.js';
import { type VaultProviderOptions, vault } from '../../../src/providers/vault/kv.js';
import { createResolver } from '../../../src/resolver/client.js';
import { type ConformanceFault, providerConformance } from '../../../src/testing/index.js';
import { makeLoopbackCertificate } from '../../servers/certificate.js';
import { type VaultFault, VaultWire } from './wire-server.js';

let wire: VaultWire;
const dir = mkdtempSync(join(tmpdir(), 'envmux-vault-test-'));
const open: Array<{ close?: () => Promise<void> }> = [];

beforeAll(async () => {
  wire = await VaultWire.start();
  wire.mount('kv1', 1);
  wire.mount('kv', 2);
  wire.mount('secret', 2, 'team-a');
});
afterAll(async () => {
  await wire.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close?.()));
  wire.heal();
  wire.resetCounts();
  wire.loginTokens = {};
  wire.terseDenials = false;
});

function make(options: VaultProviderOptions = {}) {
  const p = vault({ address: wire.url, token: wire.rootToken, env: {}, ...options });
  open.push(p);
  return p;
}

const approle = (options: VaultProviderOptions = {}) =>
  make({
    token: undefined,
    method: 'approle',
    roleId: wire.approle.roleId,
    secretId: wire.approle.secretId,
    ...options,
  });

/** What `vault kv put` stores for a value: a JSON object's keys, else `value=...`. */
const kvData = (value: string): Record<string, unknown> =>
  isObjectText(value) ? JSON.parse(value) : { value };

let n = 0;
const fresh = (what: string) => `t${process.pid}-${n++}-${what}`;

async function caught(promise: Promise<unknown>): Promise<EnvmuxError> {
  try {
    await promise;
  } catch (error) {
    return toEnvmuxError(error);
  }
  throw new Error('expected a rejection');
}

const resolverFor = (p: ReturnType<typeof vault>) =>
  createResolver({
    providers: [p],
    cache: false,
    audit: false,
    env: {},
    retry: { attempts: 3, minDelay: 1, maxDelay: 5 },
  });

const FAULT_FOR: Record<ConformanceFault, VaultFault> = {
  THROTTLED: 'throttle',
  ACCESS_DENIED: 'denied',
  AUTH_FAILED: 'revoked',
  UNAVAILABLE: 'sealed',
  TIMEOUT: 'hang',
};

providerConformance(
  { describe, it, expect },
  {
    name: 'vault KV v2, token auth (wire server)',
    async create() {
      const token = wire.issueToken({ ttl: 3600 });
      return {
        provider: vault({ address: wire.url, token, env: {} }),
        seed: async (name, value) => wire.put(`secret/${name}`, kvData(value)),
        inject: (fault) => wire.inject(FAULT_FOR[fault]),
        heal: () => wire.heal(),
      };
    },
  },
);

providerConformance(
  { describe, it, expect },
  {
    name: 'vault KV v1, AppRole auth (wire server)',
    capabilities: { versions: false },
    async create() {
      return {
        provider: vault({
          address: wire.url,
          env: {
            VAULT_PATH: 'kv1',
            VAULT_ROLE_ID: wire.approle.roleId,
            VAULT_SECRET_ID: wire.approle.secretId,
          },
        }),
        seed: async (name, value) => wire.put(`kv1/${name}`, kvData(value)),
        inject: (fault) => wire.inject(FAULT_FOR[fault]),
        heal: () => wire.heal(),
      };
    },
  },
);

describe('vault: KV reads and the field rule', () => {
  it('answers a single `value` key as is, other entries as JSON; pick applies the field rule', async () => {
    const p = make();
    const [plain, one, many] = [fresh('plain'), fresh('one'), fresh('many')];
    wire.put(`secret/${plain}`, { value: 'p@ss' });
    wire.put(`secret/${one}`, { password: 'only-pw' });
    wire.put(`secret/${many}`, { username: 'app', password: 'pw-2' });
    expect(await p.get(plain, {})).toBe('p@ss');
    const doc = (await p.get(many, {}))!;
    expect(JSON.parse(doc)).toEqual({ username: 'app', password: 'pw-2' });
    // The field rule a resolver hook would apply (entry-document.ts).
    expect(p.pick(doc, 'password', `$<vault:${many}#password>`)).toBe('pw-2');
    expect(p.pick((await p.get(one, {}))!, undefined, 'r')).toBe('only-pw');
    expect(p.pick((await p.get(one, {}))!, 'password', 'r')).toBe('only-pw');
    expect(p.pick('p@ss', 'value', 'r')).toBe('p@ss');
    expect(p.pick('p@ss', undefined, 'r')).toBe('p@ss');
    const error = await caught(Promise.resolve().then(() => p.pick(doc, undefined, 'r')));
    expect(error.code).toBe('INVALID_REFERENCE');
    expect(error.message).toContain('username, password');
    expect(JSON.stringify(error)).not.toContain('pw-2');
    // Through today's resolver, #field picks from the document.
    const r = resolverFor(p);
    expect(await r.get(many, { field: 'username' })).toBe('app');
    expect(await r.get(one, { field: 'password' })).toBe('only-pw');
    await r.close();
  });

  it('pins versions (number, latest, previous) and skips deleted ones', async () => {
    const p = make();
    const name = fresh('versions');
    for (const v of ['one', 'two', 'three']) wire.put(`secret/${name}`, { value: v });
    expect(await p.get(name, { version: '1' })).toBe('one');
    expect(await p.get(name, { version: 'latest' })).toBe('three');
    expect(await p.get(name, { version: 'previous' })).toBe('two');
    await p.deleteVersions(name, ['2']);
    expect(await p.get(name, { version: '2' })).toBeUndefined();
    expect(await p.get(name, { version: 'previous' })).toBe('one');
    await p.undelete(name, ['2']);
    expect(await p.get(name, { version: 'previous' })).toBe('two');
    await p.destroy(name, ['1']);
    expect(wire.entry(`secret/${name}`)!.versions[0]!.destroyed).toBe(true);
    const versions = await p.versions!(name, {});
    expect(versions.map((v) => [v.version, v.enabled, v.stages])).toEqual([
      ['1', false, []],
      ['2', true, []],
      ['3', true, ['latest']],
    ]);
    expect((await caught(p.get(name, { version: 'BLUE' }))).code).toBe('INVALID_REFERENCE');
  });

  it('soft-deletes the latest version; force removes every version', async () => {
    const p = make();
    const name = fresh('delete');
    await p.set!(name, 'first', {});
    await p.set!(name, 'second', { description: 'the db', metadata: { team: 'a' } });
    expect(wire.entry(`secret/${name}`)!.custom).toEqual({ team: 'a', description: 'the db' });
    await p.delete!(name, {});
    expect(await p.get(name, {})).toBeUndefined();
    expect(wire.entry(`secret/${name}`)!.versions.length).toBe(2);
    expect(await p.get(name, { version: '1' })).toBe('first');
    await p.delete!(name, { force: true });
    expect(wire.entry(`secret/${name}`)).toBeUndefined();
  });

  it('writes a JSON object as keys, anything else under `value`, and reads each back', async () => {
    const p = make();
    const cases: Array<[string, Record<string, unknown>]> = [
      ['{"user":"u","password":"p"}', { user: 'u', password: 'p' }],
      ['{"db":{"port":5432}}', { db: { port: 5432 } }],
      ['{"value":"x"}', { value: '{"value":"x"}' }],
      ['{}', { value: '{}' }],
      ['[1,2]', { value: '[1,2]' }],
      ['plain text', { value: 'plain text' }],
    ];
    for (const [value, stored] of cases) {
      const name = fresh('write');
      await p.set!(name, value, {});
      expect(wire.entry(`secret/${name}`)!.versions[0]!.data).toEqual(stored);
      const back = (await p.get(name, {}))!;
      // JSON object text under `value` comes back as a document; the field rule unwraps it.
      if (stored.value === value && value.startsWith('{')) {
        expect(p.pick(back, undefined, name)).toBe(value);
      } else if (value.startsWith('{')) expect(JSON.parse(back)).toEqual(JSON.parse(value));
      else expect(back).toBe(value);
    }
  });

  it('applies VAULT_PREFIX, lists recursively under it, and reads full paths of other mounts', async () => {
    const base = fresh('tree');
    wire.put(`secret/${base}/app/db`, { value: 'x' });
    wire.put(`secret/${base}/app/api/key`, { value: 'y' });
    wire.put(`secret/${base}/other`, { value: 'z' });
    wire.put('kv/app/db', { password: 'from-kv' });
    const p = make({ prefix: `${base}/` });
    expect(await p.get('app/db', {})).toBe('x');
    expect((await p.list!('app/', {})).map((s) => s.name)).toEqual(['app/api/key', 'app/db']);
    expect((await p.list!('', {})).map((s) => s.name)).toEqual(['app/api/key', 'app/db', 'other']);
    expect(JSON.parse((await p.get('/kv/app/db', {}))!)).toEqual({ password: 'from-kv' });
    expect((await caught(p.get('../escape', {}))).code).toBe('INVALID_REFERENCE');
  });

  it('detects KV v1 from the mount, or takes VAULT_KV_VERSION', async () => {
    wire.put('kv1/app/token', { value: 'v1-value' });
    const detected = make({ mount: 'kv1' });
    expect(await detected.get('app/token', {})).toBe('v1-value');
    expect(wire.count(/^sys\/internal\/ui\/mounts\/kv1$/)).toBe(1);
    expect((await caught(detected.get('app/token', { version: '3' }))).code).toBe(
      'INVALID_REFERENCE',
    );
    expect((await caught(detected.versions!('app/token', {}))).code).toBe('CONFIG');
    wire.resetCounts();
    const pinned = make({ env: { VAULT_PATH: 'kv1', VAULT_KV_VERSION: '1' } });
    expect(await pinned.get('app/token', {})).toBe('v1-value');
    expect(wire.count(/^sys\/internal/)).toBe(0);
  });

  it('sends X-Vault-Namespace; each namespace has its own mounts', async () => {
    wire.put('secret/ns-only', { value: 'in-team-a' }, 'team-a');
    const p = make({ namespace: 'team-a' });
    expect(await p.get('ns-only', {})).toBe('in-team-a');
    expect(await make().get('ns-only', {})).toBeUndefined();
    const kvCalls = wire.requests.filter((r) => r.path === 'secret/data/ns-only');
    expect(kvCalls.map((r) => r.namespace ?? '')).toEqual(['team-a', '']);
  });
});

describe('vault: auth methods', () => {
  it('logs in with AppRole once, then reuses the token', async () => {
    wire.put('secret/approle-db', { value: 'a' });
    const p = approle();
    expect(await p.get('approle-db', {})).toBe('a');
    expect(await p.get('approle-db', {})).toBe('a');
    expect(wire.counts.approle).toBe(1);
    expect(wire.requests.find((r) => r.path === 'auth/approle/login')!.hasToken).toBe(false);
  });

  it('logs in with Kubernetes (service-account JWT file + role) and JWT (string or function)', async () => {
    wire.put('secret/k8s-db', { value: 'k' });
    const jwtFile = join(dir, 'sa-token');
    writeFileSync(jwtFile, `${wire.kubernetes.jwt}\n`);
    const k8s = make({ token: undefined, env: { VAULT_ROLE: wire.kubernetes.role }, jwtFile });
    expect(await k8s.get('k8s-db', {})).toBe('k');
    expect(wire.counts.kubernetes).toBe(1);
    const jwt = make({ token: undefined, env: { VAULT_JWT: wire.jwt.jwt, VAULT_ROLE: 'ci' } });
    expect(await jwt.get('k8s-db', {})).toBe('k');
    let produced = 0;
    const fn = make({
      token: undefined,
      method: 'oidc',
      role: 'ci',
      jwt: async () => {
        produced++;
        return wire.jwt.jwt;
      },
    });
    expect(await fn.get('k8s-db', {})).toBe('k');
    expect([wire.counts.jwt, produced]).toEqual([2, 1]);
  });

  it('reports refused logins as AUTH_FAILED, never echoing the credential', async () => {
    const bad = approle({ secretId: 'wrong-secret-id-7f3' });
    const error = await caught(bad.get('anything', {}));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.retryable).toBe(false);
    expect(JSON.stringify(error) + error.message).not.toContain('wrong-secret-id-7f3');
    const noRole = make({ token: undefined, method: 'kubernetes', jwtFile: join(dir, 'missing') });
    expect((await caught(noRole.get('x', {}))).code).toBe('CONFIG');
  });

  it('infers the method from the environment', async () => {
    const p = await buildProvider('vault', {
      VAULT_ADDR: wire.url,
      VAULT_ROLE_ID: wire.approle.roleId,
      VAULT_SECRET_ID: wire.approle.secretId,
    });
    open.push(p);
    wire.put('secret/env-built', { value: 'e' });
    expect(await p.get('env-built', {})).toBe('e');
    expect(wire.counts.approle).toBe(1);
    expect(detectChain({ VAULT_ADDR: wire.url }).map((d) => d.type)).toContain('vault');
  });
});

describe('vault: token lifetime', () => {
  it('renews a short-lived token before it expires (TTL 2 s), without logging in again', async () => {
    const token = wire.issueToken({ ttl: 2, renewable: true });
    const p = make({ token });
    wire.put('secret/renewed', { value: 'r' });
    expect(await p.get('renewed', {})).toBe('r');
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    expect(wire.counts.renewals).toBeGreaterThanOrEqual(1);
    expect(await p.get('renewed', {})).toBe('r');
    expect(wire.count(/^secret\/data\/renewed$/)).toBe(2);
    expect(wire.requests.filter((r) => r.status === 403)).toEqual([]);
    expect(p.session.logins).toBe(0);
  });

  it('logs in again before a token that cannot be renewed expires', async () => {
    wire.loginTokens = { ttl: 1, renewable: false };
    const p = approle();
    wire.put('secret/relogin', { value: 'l' });
    expect(await p.get('relogin', {})).toBe('l');
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(wire.counts.approle).toBeGreaterThanOrEqual(2);
    expect(await p.get('relogin', {})).toBe('l');
    expect(wire.requests.filter((r) => r.status === 403)).toEqual([]);
  });

  it('stops its timer on close', async () => {
    const token = wire.issueToken({ ttl: 1, renewable: true });
    const p = make({ token });
    await p.get('nothing-here', {});
    await p.close!();
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(wire.counts.renewals).toBe(0);
  });
});

describe('vault: 403s', () => {
  for (const terse of [false, true]) {
    it(`recovers once, transparently, from an expired token (${terse ? 'probe' : '"invalid token"'})`, async () => {
      wire.terseDenials = terse;
      wire.put('secret/expiring', { value: 'still-here' });
      const p = approle();
      const r = resolverFor(p);
      expect(await r.get('expiring')).toBe('still-here');
      wire.expireAll();
      expect(await r.get('expiring')).toBe('still-here');
      expect(wire.counts.approle).toBe(2);
      await r.close();
    });
  }

  it('logs in once for many requests that meet the same expired token', async () => {
    wire.put('secret/parallel', { value: 'p' });
    const p = approle();
    const r = resolverFor(p);
    expect(await r.get('parallel')).toBe('p');
    wire.expireAll();
    const names = Array.from({ length: 6 }, () => 'parallel');
    expect(await Promise.all(names.map((name) => r.get(name)))).toEqual(names.map(() => 'p'));
    expect(wire.counts.approle).toBe(2);
    await r.close();
  });

  it('does not loop on a policy denial (ACCESS_DENIED, no login)', async () => {
    wire.loginTokens = { deny: [/^secret\/data\/forbidden$/] };
    wire.put('secret/forbidden', { value: 'nope' });
    const p = approle();
    const r = resolverFor(p);
    const error = await caught(r.get('forbidden'));
    expect(error.code).toBe('ACCESS_DENIED');
    expect(error.hint).toContain('secret/data/forbidden');
    expect(wire.counts.approle).toBe(1);
    expect(wire.count(/^secret\/data\/forbidden$/)).toBe(1);
    await r.close();
  });

  it('stops after one re-login when the fresh token is refused too (AUTH_FAILED)', async () => {
    wire.terseDenials = true;
    wire.put('secret/doomed', { value: 'd' });
    const p = approle();
    const r = resolverFor(p);
    expect(await r.get('doomed')).toBe('d');
    wire.loginTokens = { dead: true };
    wire.expireAll();
    const error = await caught(r.get('doomed'));
    expect([error.code, error.retryable]).toEqual(['AUTH_FAILED', false]);
    expect(wire.counts.approle).toBe(2);
    await r.close();
  });

  it('re-reads a token file after a static token expires', async () => {
    const tokenFile = join(dir, 'vault-token');
    writeFileSync(tokenFile, wire.issueToken());
    wire.put('secret/agent-sink', { value: 's' });
    const p = make({ token: undefined, tokenFile });
    const r = resolverFor(p);
    expect(await r.get('agent-sink')).toBe('s');
    wire.expireAll();
    writeFileSync(tokenFile, wire.issueToken());
    expect(await r.get('agent-sink')).toBe('s');
    wire.expireAll();
    const error = await caught(r.get('agent-sink'));
    expect(error.code).toBe('AUTH_FAILED');
    await r.close();
  });
});

describe('vault: outages', () => {
  it('maps a sealed Vault to UNAVAILABLE and reports it in health', async () => {
    const p = make();
    wire.inject('sealed');
    const error = await caught(p.get('x', {}));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.hint).toContain('unseal');
    expect(await p.health!({})).toMatchObject({ ok: false, detail: 'sealed' });
    wire.heal();
    expect((await p.health!({})).ok).toBe(true);
  });

  it.each([
    ['html500', 'UNAVAILABLE', true],
    // A 403 everywhere, the token's own lookup included: the token is refused.
    ['html403', 'AUTH_FAILED', false],
  ] as const)(
    "a proxy's page (%s, not JSON) maps by its HTTP status: %s",
    async (fault, code, retryable) => {
      const p = make();
      wire.inject(fault);
      const error = await caught(p.get('x', {}));
      expect([error.code, error.retryable]).toEqual([code, retryable]);
      expect(error.message).not.toMatch(/<html|proxy<\//);
    },
  );

  it('maps a rate limit quota (429) to THROTTLED', async () => {
    const p = make();
    wire.inject('throttle');
    const error = await caught(p.get('x', {}));
    expect([error.code, error.retryable]).toEqual(['THROTTLED', true]);
  });
});

const cert = makeLoopbackCertificate();
const noTls = 'missing' in cert ? cert.missing : undefined;
if (noTls && process.env.ENVMUX_REQUIRE_SERVERS === '1') {
  throw new Error(`vault TLS tests need openssl (ENVMUX_REQUIRE_SERVERS=1): ${noTls}`);
}
if (noTls) console.warn(`SKIPPED vault TLS tests: ${noTls}`);

describe.skipIf(!!noTls)('vault: TLS', () => {
  const tls = cert as { key: string; cert: string };
  let secure: VaultWire;
  let mutual: VaultWire;
  const caFile = join(dir, 'ca.pem');
  const client = makeLoopbackCertificate() as { key: string; cert: string };
  const other = makeLoopbackCertificate() as { key: string; cert: string };
  beforeAll(async () => {
    writeFileSync(caFile, tls.cert);
    writeFileSync(join(dir, 'other-ca.pem'), other.cert);
    writeFileSync(join(dir, 'client.pem'), client.cert);
    writeFileSync(join(dir, 'client-key.pem'), client.key);
    secure = await VaultWire.start({ tls });
    mutual = await VaultWire.start({ tls: { ...tls, ca: client.cert, requestCert: true } });
    secure.put('secret/tls', { value: 'over-tls' });
    mutual.put('secret/tls', { value: 'over-mtls' });
  });
  afterAll(async () => {
    await secure.close();
    await mutual.close();
  });

  it('trusts the CA file given (VAULT_CACERT)', async () => {
    const p = make({ address: secure.url, token: secure.rootToken, env: { VAULT_CACERT: caFile } });
    expect(await p.get('tls', {})).toBe('over-tls');
  });

  it('refuses an unknown CA with a clear CONFIG error, even with VAULT_SKIP_VERIFY set', async () => {
    const before = process.env.VAULT_SKIP_VERIFY;
    process.env.VAULT_SKIP_VERIFY = 'true';
    try {
      const p = make({
        address: secure.url,
        token: secure.rootToken,
        env: { VAULT_SKIP_VERIFY: 'true' },
        caCert: join(dir, 'other-ca.pem'),
      });
      const error = await caught(p.get('tls', {}));
      expect(error.code).toBe('CONFIG');
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/TLS certificate was not trusted/);
      expect(error.hint).toContain('VAULT_CACERT');
    } finally {
      if (before === undefined) delete process.env.VAULT_SKIP_VERIFY;
      else process.env.VAULT_SKIP_VERIFY = before;
    }
  });

  it('skips verification only when tlsSkipVerify is set by name', async () => {
    const p = make({ address: secure.url, token: secure.rootToken, tlsSkipVerify: true });
    expect(await p.get('tls', {})).toBe('over-tls');
  });

  it('presents a client certificate (VAULT_CLIENT_CERT / VAULT_CLIENT_KEY)', async () => {
    const env = { VAULT_CACERT: caFile };
    const without = make({ address: mutual.url, token: mutual.rootToken, env });
    expect(['UNAVAILABLE', 'CONFIG']).toContain((await caught(without.get('tls', {}))).code);
    const p = make({
      address: mutual.url,
      token: mutual.rootToken,
      env: {
        ...env,
        VAULT_CLIENT_CERT: join(dir, 'client.pem'),
        VAULT_CLIENT_KEY: join(dir, 'client-key.pem'),
      },
    });
    expect(await p.get('tls', {})).toBe('over-mtls');
  });
});
