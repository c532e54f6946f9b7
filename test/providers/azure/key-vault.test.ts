// The `azure` provider through the real @azure/keyvault-secrets client against test/providers/azure/wire-server.ts
// (HTTPS on 127.0.0.1, certificate made by openssl at test time), and the Key Vault name mapping.
//
// Documented Key Vault behaviour asserted here (REST reference, Secrets; Key Vault authentication):
// - A client's first request goes out without a token (and without its body); the vault answers
//   401 with `WWW-Authenticate: Bearer authorization=…, resource=…`, and the client repeats it with
//   a token for `{resource}/.default` (loopback needs `disableChallengeResourceVerification`).
// - Get Secret: `/secrets/{name}/{version}`, empty version = current; 404 SecretNotFound; a disabled
//   secret answers 403 Forbidden. Set Secret (PUT) makes a new version with contentType, tags, exp.
// - Delete Secret is a soft delete (DeletedSecretBundle with recoveryId); Get Deleted Secret answers
//   404 until the deletion is done; Purge Deleted Secret removes it for good; a soft-deleted name
//   cannot be set (409 Conflict) until it is recovered or purged.
// - Get Secrets / Get Secret Versions page with `nextLink`; versions come in no documented order and
//   are dated in whole seconds; names are letters, digits and dashes, 1–127, case-insensitive.
// - Throttling is 429; a denied identity 403; a rejected token 401; a service fault 5xx.
// What envmux adds: 404 → undefined; 429 → THROTTLED (retried by the resolver), 403 → ACCESS_DENIED
// and 401 → AUTH_FAILED (never retried), 5xx → UNAVAILABLE; the SDK's own retries are off (one request
// per attempt); the reversible name mapping; no secret value in any error.

import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EnvmuxError, isEnvmuxError } from '../../../src/errors.js';
import {
  type AzureProviderOptions,
  azure,
  azureVaultUrl,
} from '../../../src/providers/azure/key-vault.js';
import {
  AZURE_NAME_MAX,
  decodeAzureName,
  encodeAzureName,
} from '../../../src/providers/azure/names.js';
import { buildProvider, detectChain } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { makeLoopbackCertificate } from '../../servers/certificate.js';
import { type AzureWireServer, startAzureWire } from './wire-server.js';

const SECRET = 'S3cr3t-value-that-must-never-leak';

describe('Key Vault name mapping', () => {
  it.each([
    ['db', 'db'],
    ['db-password', 'db-password'],
    ['Prod-DB-1', 'Prod-DB-1'],
    ['prod/db', 'prod--db'],
    ['a/b/c', 'a--b--c'],
    ['DB_PASSWORD', 'DB-x5f-PASSWORD'],
    ['a.b', 'a-x2e-b'],
    ['é', '-xe9-'],
    ['🔑', '-x1f511-'],
    ['a--b', 'a-x2d--b'],
    ['a-/b', 'a-x2d---b'],
    ['/-', '---'],
    ['my-x1-app', 'my-x2d-x1-app'],
    ['my-xapp', 'my-xapp'],
    ['a-X5F-b', 'a-x2d-X5F-b'],
    ['trailing-', 'trailing-'],
  ])('%j ↔ %j', (name, vaultName) => {
    expect(encodeAzureName(name)).toBe(vaultName);
    expect(decodeAzureName(vaultName)).toBe(name);
  });

  it.each(['a-x41-b', 'a-x0061-b', 'a-xd800-b', 'a_b', 'a-x110000-b'])(
    'does not decode %j (not the encoding of any name)',
    (vaultName) => {
      expect(decodeAzureName(vaultName)).toBeUndefined();
    },
  );

  /** Strings rich in the characters the escapes are made of. */
  const tricky = fc.string({
    unit: fc.constantFrom('-', '/', 'x', 'X', 'a', 'F', '0', '9', '_', '.', 'é', '🔑', ' '),
    maxLength: 24,
  });
  const anything = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 24 }));

  it('round-trips every name and writes only letters, digits and dashes', () => {
    fc.assert(
      fc.property(anything, (name) => {
        const vaultName = encodeAzureName(name);
        expect(vaultName).toMatch(/^[A-Za-z0-9-]*$/);
        expect(decodeAzureName(vaultName)).toBe(name);
      }),
      { numRuns: 2000 },
    );
  });

  it('is injective: different names never share a Key Vault name', () => {
    fc.assert(
      fc.property(anything, anything, (a, b) => {
        if (a !== b) expect(encodeAzureName(a)).not.toBe(encodeAzureName(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('adds no collision beyond Key Vault case-insensitivity (ASCII case only)', () => {
    const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
    fc.assert(
      fc.property(anything, (name) => {
        expect(decodeAzureName(encodeAzureName(name).toLowerCase())).toBe(asciiLower(name));
      }),
      { numRuns: 2000 },
    );
  });

  it('maps valid Key Vault names that hold no escape to themselves', () => {
    const valid = fc.string({
      unit: fc.constantFrom('a', 'B', '7', 'x', '-'),
      minLength: 1,
      maxLength: 20,
    });
    fc.assert(
      fc.property(valid, (name) => {
        fc.pre(!/--|-[xX][0-9a-fA-F]+-/.test(name));
        expect(encodeAzureName(name)).toBe(name);
      }),
    );
  });
});

describe('vault URL', () => {
  it.each([
    [
      { vaultUrl: 'https://opt.vault.azure.net' },
      { AZURE_KEYVAULT_URL: 'https://env' },
      'https://opt.vault.azure.net',
    ],
    [
      {},
      { AZURE_KEYVAULT_URL: 'https://url.vault.azure.net', AZURE_KEY_VAULT_NAME: 'n' },
      'https://url.vault.azure.net',
    ],
    [{}, { AZURE_KEY_VAULT_NAME: 'myvault' }, 'https://myvault.vault.azure.net'],
    [{}, {}, undefined],
  ])('%j + %j → %s', (options, env, expected) => {
    expect(azureVaultUrl(options, env)).toBe(expected);
  });

  it('says what to set when no vault is configured (CONFIG)', async () => {
    const error = await caught(azure({ env: {} }).get('db', {}));
    expect(error.code).toBe('CONFIG');
    expect(error.hint).toMatch(/AZURE_KEYVAULT_URL/);
  });

  it('refuses a prefix Key Vault names cannot hold (CONFIG)', async () => {
    const error = await caught(
      azure({
        env: { AZURE_KEYVAULT_URL: 'https://x.vault.azure.net', AZURE_SECRET_PREFIX: 'a_' },
      }).get('db', {}),
    );
    expect(error.code).toBe('CONFIG');
  });
});

async function caught(promise: Promise<unknown>): Promise<EnvmuxError> {
  try {
    await promise;
  } catch (error) {
    expect(isEnvmuxError(error)).toBe(true);
    return error as EnvmuxError;
  }
  throw new Error('expected a rejection');
}

function expectNoValue(error: EnvmuxError, value = SECRET) {
  const seen = [
    error.message,
    error.stack ?? '',
    JSON.stringify(error),
    JSON.stringify(error.toJSON()),
    String((error.cause as Error | undefined)?.message ?? ''),
    error.hint ?? '',
  ].join('\n');
  expect(seen).not.toContain(value);
}

const tls = makeLoopbackCertificate();
const requireServers = process.env.ENVMUX_REQUIRE_SERVERS === '1';
if ('missing' in tls) {
  const reason = `SKIPPED azure wire tests: ${tls.missing} (install openssl)`;
  if (requireServers) throw new Error(`${reason}; ENVMUX_REQUIRE_SERVERS=1 requires them`);
  console.warn(reason);
}

describe.skipIf('missing' in tls)('azure provider on the wire', () => {
  let wire: AzureWireServer;

  beforeAll(async () => {
    wire = await startAzureWire(tls as { key: string; cert: string });
  });
  afterAll(async () => {
    await wire?.close();
  });
  afterEach(() => {
    wire.reset();
  });

  function credential(token?: string) {
    return {
      getToken: async () => ({
        token: token ?? wire.token,
        expiresOnTimestamp: Date.now() + 3_600_000,
      }),
    };
  }

  function provider(options: AzureProviderOptions = {}) {
    return azure({
      vaultUrl: wire.url,
      credential: credential(),
      env: {},
      pollIntervalMs: 5,
      ...options,
      clientOptions: {
        disableChallengeResourceVerification: true,
        tlsOptions: { ca: wire.cert },
        ...options.clientOptions,
      },
    });
  }

  function resolverFor(p: ReturnType<typeof azure>, timeout?: number) {
    return createResolver({
      providers: [p],
      cache: false,
      audit: false,
      retry: { attempts: 3, minDelay: 1, maxDelay: 5 },
      ...(timeout ? { timeout } : {}),
    });
  }

  describe('reads', () => {
    it('answers the challenge, then reads current, a pinned version and previous', async () => {
      wire.seed('db', ['v1', 'v2', 'v3']);
      const [v1, v2] = wire.secret('db')!.versions.map((v) => v.version);
      const p = provider();
      expect(await p.get('db', {})).toBe('v3');
      expect(wire.requests[0]).toMatchObject({ authorized: false, hadBody: false });
      expect(wire.requests[1]).toMatchObject({ authorized: true, path: '/secrets/db/' });
      expect(await p.get('db', { version: 'latest' })).toBe('v3');
      expect(await p.get('db', { version: v1 })).toBe('v1');
      expect(await p.get('db', { version: 'previous' })).toBe('v2');
      wire.setEnabled('db', false, v2);
      expect(await p.get('db', { version: 'previous' })).toBe('v1');
      expect(wire.requests.filter((r) => !r.authorized)).toHaveLength(1);
    });

    it('answers undefined for a missing secret, a missing version, and previous of one version', async () => {
      wire.seed('one', ['only']);
      const p = provider();
      expect(await p.get('nope', {})).toBeUndefined();
      expect(await p.get('one', { version: 'ffffffffffffffffffffffffffffffff' })).toBeUndefined();
      expect(await p.get('one', { version: 'previous' })).toBeUndefined();
      expect(await p.get('nope', { version: 'previous' })).toBeUndefined();
    });

    it('reports a disabled secret as NOT_FOUND with what to do (403 on the wire)', async () => {
      wire.seed('db', ['v1']);
      wire.setEnabled('db', false);
      const error = await caught(provider().get('db', {}));
      expect(error.code).toBe('NOT_FOUND');
      expect(error.hint).toMatch(/enable/);
    });

    it('maps names Key Vault forbids (prod/db → prod--db, DB_PASSWORD → DB-x5f-PASSWORD) and applies the prefix', async () => {
      wire.seed('prod--db', ['slash']);
      wire.seed('DB-x5f-PASSWORD', ['underscore']);
      wire.seed('myapp-db', ['prefixed']);
      const p = provider();
      expect(await p.get('prod/db', {})).toBe('slash');
      expect(await p.get('DB_PASSWORD', {})).toBe('underscore');
      expect(await p.get('db_password', {})).toBe('underscore'); // Key Vault ignores case
      expect(await provider({ env: { AZURE_SECRET_PREFIX: 'myapp-' } }).get('db', {})).toBe(
        'prefixed',
      );
    });

    it('refuses names too long for Key Vault and malformed versions, before any request', async () => {
      const p = provider();
      expect((await caught(p.get('x'.repeat(AZURE_NAME_MAX + 1), {}))).code).toBe(
        'INVALID_REFERENCE',
      );
      expect((await caught(p.get('_'.repeat(30), {}))).code).toBe('INVALID_REFERENCE');
      expect((await caught(p.get('', {}))).code).toBe('INVALID_REFERENCE');
      expect((await caught(p.get('db', { version: '../x' }))).code).toBe('INVALID_REFERENCE');
      expect(wire.requests).toHaveLength(0);
    });
  });

  describe('writes', () => {
    it('sets a version with contentType, tags, description and expiry', async () => {
      const p = provider({ contentType: 'text/plain' });
      const expiresAt = new Date('2031-01-02T03:04:05Z');
      const result = await p.set!('prod/api_key', SECRET, {
        metadata: { team: 'payments' },
        description: 'Stripe',
        expiresAt,
      });
      const stored = wire.secret('prod--api-x5f-key')!;
      expect(result?.version).toBe(stored.versions[0]!.version);
      expect(stored.versions[0]).toMatchObject({
        value: SECRET,
        contentType: 'text/plain',
        tags: { team: 'payments', description: 'Stripe' },
        exp: Math.floor(expiresAt.getTime() / 1000),
      });
      await p.set!('prod/api_key', 'two', { metadata: { contentType: 'application/json' } });
      expect(stored.versions[1]).toMatchObject({ value: 'two', contentType: 'application/json' });
      expect(await p.get('prod/api_key', {})).toBe('two');
    });

    it('soft-deletes by default and purges only with force', async () => {
      wire.seed('soft', ['v1']);
      wire.seed('hard', ['v1']);
      const p = provider();
      await p.delete!('soft', {});
      expect(wire.secret('soft')).toBeUndefined();
      expect(wire.deleted('soft')).toBeDefined();
      expect(wire.count('purge')).toBe(0);
      wire.setDeletePolls(2);
      await p.delete!('hard', { force: true });
      expect(wire.deleted('hard')).toBeUndefined();
      expect(wire.count('purge')).toBe(1);
      expect(wire.count('getDeleted')).toBeGreaterThanOrEqual(3);
      // Gone already: done, not an error; force on a soft-deleted one purges it.
      await p.delete!('hard', {});
      await p.delete!('soft', { force: true });
      expect(wire.deleted('soft')).toBeUndefined();
    });

    it('recovers a soft-deleted name before writing it again (409 otherwise)', async () => {
      wire.seed('db', ['old']);
      const p = provider();
      await p.delete!('db', {});
      expect(await p.get('db', {})).toBeUndefined();
      await p.set!('db', 'new', {});
      expect(await p.get('db', {})).toBe('new');
      expect(await p.get('db', { version: 'previous' })).toBe('old');
      expect(wire.count('recover')).toBe(1);
    });
  });

  describe('listing', () => {
    it('lists decoded names by prefix across nextLink pages, without values', async () => {
      for (const name of ['app--a', 'app--b', 'app--c', 'app-x5f-d', 'other', 'a-x41-b']) {
        wire.seed(
          name,
          [`value-of-${name}`],
          name === 'app--a' ? { tags: { tier: 'gold', description: 'A' } } : {},
        );
      }
      wire.setPageSize(2);
      const p = provider();
      const items = await p.list!('app/', {});
      expect(items.map((i) => i.name)).toEqual(['app/a', 'app/b', 'app/c']);
      expect(items[0]).toMatchObject({ description: 'A', metadata: { tier: 'gold' } });
      expect(wire.count('list')).toBe(3);
      const all = await p.list!('', {});
      // `a-x41-b` is no name's encoding, so no reference reaches it: not listed.
      expect(all.map((i) => i.name)).toEqual(['app/a', 'app/b', 'app/c', 'app_d', 'other']);
      expect(JSON.stringify(all)).not.toContain('value-of');
    });

    it('lists names without the configured prefix', async () => {
      wire.seed('myapp-db', ['x']);
      wire.seed('myapp-prod--cache', ['x']);
      wire.seed('other', ['x']);
      const items = await provider({ prefix: 'myapp-' }).list!('', {});
      expect(items.map((i) => i.name)).toEqual(['db', 'prod/cache']);
    });

    it('lists versions oldest first, even when they share a creation second', async () => {
      const p = provider();
      await p.set!('db', 'one', {});
      await p.set!('db', 'two', {});
      await p.set!('db', 'three', {});
      const versions = await p.versions!('db', {});
      expect(versions).toHaveLength(3);
      expect(versions.at(-1)!.stages).toEqual(['latest']);
      expect(await p.get('db', { version: versions.at(-1)!.version })).toBe('three');
      expect(await p.versions!('missing', {})).toEqual([]);
      expect(JSON.stringify(versions)).not.toContain('three');
    });

    it('reports health from one page of the listing', async () => {
      const p = provider();
      expect(await p.health!({})).toMatchObject({ ok: true, detail: wire.url });
      wire.fail({ status: 403, code: 'Forbidden' });
      expect(await p.health!({})).toMatchObject({ ok: false });
    });
  });

  describe('errors', () => {
    const table = [
      { status: 429, code: 'Throttled', expected: 'THROTTLED', retried: true },
      { status: 503, code: 'ServiceUnavailable', expected: 'UNAVAILABLE', retried: true },
      { status: 500, code: 'InternalServerError', expected: 'UNAVAILABLE', retried: true },
      { status: 403, code: 'Forbidden', expected: 'ACCESS_DENIED', retried: false },
      { status: 401, code: 'Unauthorized', expected: 'AUTH_FAILED', retried: false },
      { status: 400, code: 'BadParameter', expected: 'INVALID_REFERENCE', retried: false },
    ] as const;

    it.each(table)('$status $code → $expected, one request (SDK retries off)', async (row) => {
      wire.seed('db', [SECRET]);
      const p = provider();
      expect(await p.get('db', {})).toBe(SECRET); // challenge done
      const before = wire.count('get');
      wire.fail({ status: row.status, code: row.code });
      const error = await caught(p.get('db', {}));
      expect(error.code).toBe(row.expected);
      expect(error.retryable).toBe(row.retried);
      expect(wire.count('get') - before).toBe(1);
      expectNoValue(error);
    });

    it.each([
      [502, 'UNAVAILABLE', true],
      [403, 'ACCESS_DENIED', false],
    ] as const)(
      'an HTML %s answer (not JSON) maps by its HTTP status: %s',
      async (status, code, retryable) => {
        wire.seed('db', [SECRET]);
        const p = provider();
        await p.get('db', {});
        wire.fail({ status, code: 'none', html: true });
        const error = await caught(p.get('db', {}));
        expect(error).toMatchObject({ code, retryable, provider: 'azure' });
        expect(error.message).not.toMatch(/<html|proxy<\//);
        expectNoValue(error);
      },
    );

    it.each(table)('through the resolver, $expected is retried: $retried', async (row) => {
      wire.seed('db', [SECRET]);
      const p = provider();
      await p.get('db', {});
      const before = wire.count('get');
      wire.fail({ status: row.status, code: row.code, times: 1 });
      const r = resolverFor(p);
      if (row.retried) {
        expect(await r.get('db')).toBe(SECRET);
        expect(wire.count('get') - before).toBe(2);
      } else {
        const error = await caught(r.get('db'));
        expect(error.code).toBe(row.expected);
        expect(wire.count('get') - before).toBe(1);
        expectNoValue(error);
      }
    });

    it('a token the vault rejects → AUTH_FAILED, not retried', async () => {
      wire.seed('db', [SECRET]);
      const p = provider({ credential: credential('wrong-token') });
      const error = await caught(resolverFor(p).get('db'));
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.retryable).toBe(false);
      expect(error.hint).toMatch(/az login/);
    });

    it('a credential that cannot get a token → AUTH_FAILED', async () => {
      wire.seed('db', [SECRET]);
      const failing = {
        getToken: async () => {
          throw Object.assign(new Error('EnvironmentCredential is unavailable.'), {
            name: 'CredentialUnavailableError',
          });
        },
      };
      const error = await caught(provider({ credential: failing }).get('db', {}));
      expect(error.code).toBe('AUTH_FAILED');
    });

    it('never shows the value of a failed write', async () => {
      wire.fail({ status: 403, code: 'Forbidden', op: 'set' });
      const error = await caught(provider().set!('db', SECRET, {}));
      expect(error.code).toBe('ACCESS_DENIED');
      expect(error.hint).toMatch(/secrets\/set/);
      expectNoValue(error);
    });

    it('a principal that may set but not get still writes (no tags of the current version to carry)', async () => {
      wire.seed('db', ['v1'], { tags: { team: 'db' } });
      wire.fail({ status: 403, code: 'Forbidden', op: 'get' });
      await provider().set!('db', SECRET, {});
      expect(wire.count('set')).toBe(1);
      expect(wire.secret('db')!.versions.at(-1)).toMatchObject({ value: SECRET });
    });

    it('gives up after the retry budget when throttling persists', async () => {
      wire.seed('db', [SECRET]);
      const p = provider();
      await p.get('db', {});
      const before = wire.count('get');
      wire.fail({ status: 429, code: 'Throttled', times: Infinity });
      const error = await caught(resolverFor(p).get('db'));
      expect(error.code).toBe('THROTTLED');
      expect(wire.count('get') - before).toBe(3);
    });

    it('aborts a call that outlives the resolver timeout (TIMEOUT)', async () => {
      wire.seed('db', [SECRET]);
      const p = provider();
      await p.get('db', {});
      wire.setLatency(400);
      const r = createResolver({
        providers: [p],
        cache: false,
        audit: false,
        timeout: 50,
        retry: { attempts: 1 },
      });
      expect((await caught(r.get('db'))).code).toBe('TIMEOUT');
    });
  });

  describe('injection', () => {
    it('builds the client from `lib` with DefaultAzureCredential from `identityLib`, retries off', async () => {
      const seen: { url?: string; options?: Record<string, unknown>; credential?: unknown } = {};
      class FakeCredential {
        getToken = async () => ({ token: 't', expiresOnTimestamp: 0 });
      }
      const lib = {
        SecretClient: class {
          constructor(url: string, credential: unknown, options: Record<string, unknown>) {
            Object.assign(seen, { url, credential, options });
          }
          async getSecret() {
            return { value: 'from-lib', properties: { name: 'db' } };
          }
        },
      };
      const p = azure({
        env: { AZURE_KEY_VAULT_NAME: 'myvault' },
        lib: lib as never,
        identityLib: { DefaultAzureCredential: FakeCredential as never },
        clientOptions: { retryOptions: { maxRetries: 5, retryDelayInMs: 1 } },
      });
      expect(await p.get('db', {})).toBe('from-lib');
      expect(seen.url).toBe('https://myvault.vault.azure.net');
      expect(seen.credential).toBeInstanceOf(FakeCredential);
      expect(seen.options?.retryOptions).toEqual({ maxRetries: 0, retryDelayInMs: 1 });
    });
  });

  describe('registration', () => {
    it('is detected from AZURE_KEYVAULT_URL or AZURE_KEY_VAULT_NAME and built from env', async () => {
      expect(detectChain({ AZURE_KEY_VAULT_NAME: 'v' }).map((d) => d.type)).toContain('azure');
      const built = await buildProvider('azure', { AZURE_KEYVAULT_URL: wire.url });
      expect(built).toMatchObject({ id: 'azure', type: 'azure' });
    });
  });
});
