// The `gcp` provider through the real @google-cloud/secret-manager client (REST transport,
// `fallback: true`) against test/providers/gcp/wire-server.ts, with a real OAuth2Client holding a static token.
//
// Documented Secret Manager behaviour asserted here (REST reference, projects.secrets.*):
// - versions:access on `latest`, a number, or an alias returns `payload.data` (base64) and
//   `payload.dataCrc32c` (int64 as a string); `latest` is the newest version whatever its state, and
//   accessing a DISABLED/DESTROYED version fails with FAILED_PRECONDITION.
// - A missing secret or version is 404 NOT_FOUND; throttling is 429 RESOURCE_EXHAUSTED; a caller
//   without the role gets 403 PERMISSION_DENIED; bad or missing credentials get 401 UNAUTHENTICATED.
// - secrets.create takes `secretId` as a query parameter and the Secret (replication, labels,
//   annotations, expireTime) as the body; secrets:addVersion takes `payload.data` + `dataCrc32c`.
// - secrets.list pages with pageSize/pageToken → nextPageToken and filters with `name:X`;
//   versions.list returns newest first (envmux answers oldest first, latest last); versions :disable / :enable / :destroy change the state.
// - Regional secrets live under projects/P/locations/L and are served by secretmanager.L.rep.googleapis.com.
// What envmux adds: NOT_FOUND → undefined; RESOURCE_EXHAUSTED → THROTTLED, retried by the resolver;
// PERMISSION_DENIED / UNAUTHENTICATED → ACCESS_DENIED / AUTH_FAILED, never retried; the SDK's own
// retries are off (one request per attempt); a CRC32C mismatch → UNAVAILABLE (retried), and no
// secret value ever appears in an error.

import { OAuth2Client } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EnvmuxError, isEnvmuxError } from '../../../src/errors.js';
import { crc32c } from '../../../src/providers/gcp/crc32c.js';
import {
  type GcpLib,
  type GcpProviderOptions,
  gcp,
} from '../../../src/providers/gcp/secret-manager.js';
import { buildProvider, detectChain } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { type GcpWireServer, startGcpWire } from './wire-server.js';

const SECRET = 'S3cr3t-value-that-must-never-leak';

let wire: GcpWireServer;
const open: Array<{ close?: () => Promise<void> }> = [];

beforeAll(async () => {
  wire = await startGcpWire();
});
afterAll(async () => {
  await wire.close();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close?.()));
  wire.reset();
});

/** A static-token OAuth2 client: real auth headers, never a metadata server or token endpoint. */
function staticAuth(token = 'test-token'): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return auth;
}

function clientOptions(extra: Record<string, unknown> = {}) {
  return {
    apiEndpoint: wire.host,
    port: wire.port,
    protocol: 'http',
    fallback: true,
    authClient: staticAuth(),
    ...extra,
  };
}

function provider(options: GcpProviderOptions = {}) {
  const p = gcp({ projectId: 'p1', env: {}, clientOptions: clientOptions(), ...options });
  open.push(p);
  return p;
}

function resolverFor(p: ReturnType<typeof gcp>) {
  const r = createResolver({
    providers: [p],
    cache: false,
    audit: false,
    retry: { attempts: 3, minDelay: 1, maxDelay: 5 },
  });
  return r;
}

async function caught(promise: Promise<unknown>): Promise<EnvmuxError> {
  try {
    await promise;
  } catch (error) {
    expect(isEnvmuxError(error)).toBe(true);
    return error as EnvmuxError;
  }
  throw new Error('expected a rejection');
}

/** Nothing the user could see of an error holds the value. */
function expectNoValue(error: EnvmuxError) {
  const seen = [
    error.message,
    error.stack ?? '',
    JSON.stringify(error),
    JSON.stringify(error.toJSON()),
    String((error.cause as Error | undefined)?.message ?? ''),
    error.hint ?? '',
  ].join('\n');
  expect(seen).not.toContain(SECRET);
  expect(seen).not.toContain(Buffer.from(SECRET).toString('base64'));
}

describe('crc32c', () => {
  it.each([
    ['123456789', 0xe3069283],
    ['', 0],
    ['a', 0xc1d04330],
  ])('crc32c(%j) is %d (Castagnoli check values)', (input, expected) => {
    expect(crc32c(input)).toBe(expected);
  });
  it('matches RFC 3720 B.4 for 32 zero bytes', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });
});

describe('gcp: reads', () => {
  it('reads latest, a version number and previous (the enabled version before latest)', async () => {
    wire.seed('p1', 'db', ['v1', 'v2', 'v3', 'v4']);
    wire.setState('projects/p1/secrets/db', 3, 'DISABLED');
    const p = provider();
    expect(await p.get('db', {})).toBe('v4');
    expect(await p.get('db', { version: 'latest' })).toBe('v4');
    expect(await p.get('db', { version: '1' })).toBe('v1');
    expect(await p.get('db', { version: 'previous' })).toBe('v2');
    expect(wire.requests.map((r) => r.path)).toContain(
      '/v1/projects/p1/secrets/db/versions/latest:access',
    );
    expect(wire.requests.every((r) => r.authorization === 'Bearer test-token')).toBe(true);
    expect(wire.requests[0]!.apiClient).toMatch(/rest\//);
  });

  it('answers undefined for a missing secret, version, or previous of a single version', async () => {
    wire.seed('p1', 'one', ['only']);
    const p = provider();
    expect(await p.get('nope', {})).toBeUndefined();
    expect(await p.get('one', { version: '7' })).toBeUndefined();
    expect(await p.get('one', { version: 'previous' })).toBeUndefined();
    expect(await p.get('nope', { version: 'previous' })).toBeUndefined();
  });

  it('reports a disabled latest version as NOT_FOUND with what to do (FAILED_PRECONDITION)', async () => {
    wire.seed('p1', 'db', ['v1', 'v2']);
    wire.setState('projects/p1/secrets/db', 2, 'DISABLED');
    const error = await caught(provider().get('db', {}));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toMatch(/DISABLED/);
    expect(error.hint).toMatch(/version/);
  });

  it('reads the same secret through the resolver with a JSON field', async () => {
    wire.seed('p1', 'db', [JSON.stringify({ user: 'app', password: SECRET })]);
    const r = resolverFor(provider());
    expect(await r.get('db', { field: 'password' })).toBe(SECRET);
    await expect(r.get('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('applies GCP_SECRET_PREFIX and takes the project from GCP_PROJECT_ID, else GOOGLE_CLOUD_PROJECT', async () => {
    wire.seed('from-env', 'myapp-db', ['prefixed']);
    wire.seed('other', 'db', ['google-cloud-project']);
    const fromEnv = provider({
      projectId: undefined,
      env: {
        GCP_PROJECT_ID: 'from-env',
        GOOGLE_CLOUD_PROJECT: 'other',
        GCP_SECRET_PREFIX: 'myapp-',
      },
    });
    expect(await fromEnv.get('db', {})).toBe('prefixed');
    const fallback = provider({ projectId: undefined, env: { GOOGLE_CLOUD_PROJECT: 'other' } });
    expect(await fallback.get('db', {})).toBe('google-cloud-project');
  });

  it('reaches another project through a full resource name (no prefix applied)', async () => {
    wire.seed('shared', 'tls', ['k1', 'k2']);
    const p = provider({ prefix: 'myapp-' });
    expect(await p.get('projects/shared/secrets/tls', {})).toBe('k2');
    expect(await p.get('projects/shared/secrets/tls/versions/1', {})).toBe('k1');
  });

  it('refuses names Secret Manager cannot hold, before any request', async () => {
    const p = provider();
    for (const name of ['prod/db', 'a b', 'x'.repeat(256), '']) {
      const error = await caught(p.get(name, {}));
      expect(error.code).toBe('INVALID_REFERENCE');
    }
    const version = await caught(p.get('db', { version: '../1' }));
    expect(version.code).toBe('INVALID_REFERENCE');
    expect(wire.requests).toHaveLength(0);
  });

  it('says when no project is known (CONFIG)', async () => {
    const lib: GcpLib = {
      SecretManagerServiceClient: class {
        getProjectId = async () => {
          throw new Error('Unable to detect a Project Id in the current environment.');
        };
      } as unknown as GcpLib['SecretManagerServiceClient'],
    };
    const error = await caught(gcp({ env: {}, lib }).get('db', {}));
    expect(error.code).toBe('CONFIG');
    expect(error.hint).toMatch(/GCP_PROJECT_ID/);
  });
});

describe('gcp: payload checksum', () => {
  it('rejects a payload whose CRC32C does not match, as UNAVAILABLE, without the value', async () => {
    wire.seed('p1', 'db', [SECRET]);
    wire.corruptChecksum(1);
    const error = await caught(provider().get('db', {}));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/CRC32C/);
    expectNoValue(error);
  });

  it('is retried by the resolver, which then serves the intact value', async () => {
    wire.seed('p1', 'db', [SECRET]);
    wire.corruptChecksum(1);
    expect(await resolverFor(provider()).get('db')).toBe(SECRET);
    expect(wire.count('access')).toBe(2);
  });

  it('sends dataCrc32c with every new version, which the service verifies', async () => {
    const p = provider();
    await p.set!('db', 'hello', {});
    const stored = wire.secret('projects/p1/secrets/db')!;
    expect(stored.versions[0]!.data.toString()).toBe('hello');
    const versions = await p.versions!('db', {});
    expect(versions).toHaveLength(1);
  });
});

describe('gcp: errors', () => {
  const table = [
    { status: 429, grpc: 'RESOURCE_EXHAUSTED', code: 'THROTTLED', retried: true },
    { status: 503, grpc: 'UNAVAILABLE', code: 'UNAVAILABLE', retried: true },
    { status: 504, grpc: 'DEADLINE_EXCEEDED', code: 'TIMEOUT', retried: true },
    { status: 500, grpc: 'INTERNAL', code: 'UNAVAILABLE', retried: true },
    { status: 403, grpc: 'PERMISSION_DENIED', code: 'ACCESS_DENIED', retried: false },
    { status: 401, grpc: 'UNAUTHENTICATED', code: 'AUTH_FAILED', retried: false },
    { status: 400, grpc: 'INVALID_ARGUMENT', code: 'INVALID_REFERENCE', retried: false },
  ] as const;

  it.each(table)(
    '$grpc ($status) → $code, one request per attempt (SDK retries off)',
    async (row) => {
      wire.seed('p1', 'db', [SECRET]);
      wire.fail({ status: row.status, grpc: row.grpc });
      const error = await caught(provider().get('db', {}));
      expect(error.code).toBe(row.code);
      expect(error.retryable).toBe(row.retried);
      expect(error.provider).toBe('gcp');
      expect(wire.count('access')).toBe(1);
      expectNoValue(error);
    },
  );

  it.each(table)('through the resolver, $code is retried: $retried', async (row) => {
    wire.seed('p1', 'db', [SECRET]);
    wire.fail({ status: row.status, grpc: row.grpc, times: 1 });
    const r = resolverFor(provider());
    if (row.retried) {
      expect(await r.get('db')).toBe(SECRET);
      expect(wire.count('access')).toBe(2);
    } else {
      const error = await caught(r.get('db'));
      expect(error.code).toBe(row.code);
      expect(wire.count('access')).toBe(1);
      expectNoValue(error);
    }
  });

  it.each([
    [502, 'UNAVAILABLE', true],
    [403, 'ACCESS_DENIED', false],
  ] as const)(
    'an HTML %s answer (not JSON) maps by its HTTP status: %s',
    async (status, code, retryable) => {
      wire.seed('p1', 'db', [SECRET]);
      wire.fail({ status, grpc: 'UNKNOWN', html: true });
      const error = await caught(provider().get('db', {}));
      expect(error).toMatchObject({ code, retryable, provider: 'gcp' });
      expect(error.message).not.toMatch(/<html|proxy<\//);
      expectNoValue(error);
    },
  );

  it('gives up after the retry budget when throttling persists (THROTTLED)', async () => {
    wire.seed('p1', 'db', [SECRET]);
    wire.fail({ status: 429, grpc: 'RESOURCE_EXHAUSTED', times: Infinity });
    const error = await caught(resolverFor(provider()).get('db'));
    expect(error.code).toBe('THROTTLED');
    expect(wire.count('access')).toBe(3);
    expect(error.hint).toMatch(/rate limiting/);
  });

  it('names the IAM permission a denial is about', async () => {
    wire.seed('p1', 'db', [SECRET]);
    wire.fail({ status: 403, grpc: 'PERMISSION_DENIED' });
    const error = await caught(provider().get('db', {}));
    expect(error.hint).toMatch(/secretmanager\.versions\.access/);
  });

  it('cancels a call that outlives the resolver timeout (TIMEOUT)', async () => {
    wire.seed('p1', 'db', [SECRET]);
    wire.setLatency(400);
    const r = createResolver({
      providers: [provider()],
      cache: false,
      audit: false,
      timeout: 50,
      retry: { attempts: 1 },
    });
    const error = await caught(r.get('db'));
    expect(error.code).toBe('TIMEOUT');
  });
});

describe('gcp: writes and management', () => {
  it('creates a secret with labels and description on first set, then adds versions', async () => {
    const p = provider();
    const first = await p.set!('api-key', 'one', {
      metadata: { team: 'payments' },
      description: 'Stripe key',
    });
    expect(first).toEqual({ version: '1' });
    const second = await p.set!('api-key', 'two', {});
    expect(second).toEqual({ version: '2' });
    const stored = wire.secret('projects/p1/secrets/api-key')!;
    expect(stored.labels).toEqual({ team: 'payments' });
    expect(stored.annotations).toEqual({ description: 'Stripe key' });
    expect(stored.replication).toEqual({ automatic: {} });
    expect(await p.get('api-key', {})).toBe('two');
    expect(wire.count('create')).toBe(1);
    expect(wire.count('addVersion')).toBe(3); // the first add found no secret, then created it
  });

  it('updates labels and expiry of an existing secret (updateMask)', async () => {
    wire.seed('p1', 'db', ['v1']);
    const expiresAt = new Date('2031-01-02T03:04:05.000Z');
    await provider().set!('db', 'v2', { metadata: { env: 'prod' }, expiresAt });
    const stored = wire.secret('projects/p1/secrets/db')!;
    expect(stored.labels).toEqual({ env: 'prod' });
    expect(new Date(stored.expireTime!).toISOString()).toBe(expiresAt.toISOString());
    expect(wire.count('update')).toBe(1);
  });

  it('lists with a prefix across pages, filtering on the server with name:', async () => {
    for (const id of ['app-a', 'app-b', 'app-c', 'app-d', 'app-e', 'other', 'my-app-x']) {
      wire.seed('p1', id, ['x'], { labels: id === 'app-a' ? { tier: 'gold' } : {} });
    }
    const p = provider({ pageSize: 2 });
    const items = await p.list!('app-', {});
    expect(items.map((i) => i.name)).toEqual(['app-a', 'app-b', 'app-c', 'app-d', 'app-e']);
    expect(items[0]!.metadata).toEqual({ tier: 'gold' });
    expect(items[0]!.created).toBeInstanceOf(Date);
    expect(wire.count('list')).toBe(3);
    const all = await p.list!('', {});
    expect(all).toHaveLength(7);
    expect(JSON.stringify(items)).not.toContain('"x"');
  });

  it('lists names without the configured prefix', async () => {
    wire.seed('p1', 'myapp-db', ['x']);
    wire.seed('p1', 'myapp-cache', ['x']);
    wire.seed('p1', 'other-db', ['x']);
    const items = await provider({ prefix: 'myapp-' }).list!('', {});
    expect(items.map((i) => i.name)).toEqual(['cache', 'db']);
  });

  it('lists versions oldest first with their state, latest and previous', async () => {
    wire.seed('p1', 'db', ['v1', 'v2', 'v3']);
    const p = provider();
    await p.disableVersion('db', '2');
    await p.destroyVersion('db', '1');
    const versions = await p.versions!('db', {});
    expect(versions.map((v) => [v.version, v.enabled, v.stages])).toEqual([
      ['1', false, ['DESTROYED']],
      ['2', false, ['DISABLED']],
      ['3', true, ['latest']],
    ]);
    expect(await p.get('db', { version: 'previous' })).toBeUndefined();
    await p.enableVersion('db', '2');
    expect(await p.get('db', { version: 'previous' })).toBe('v2');
    expect(await p.versions!('missing', {})).toEqual([]);
  });

  it('deletes a secret (DeleteSecret) and tolerates one that is already gone', async () => {
    wire.seed('p1', 'db', ['v1']);
    const p = provider();
    await p.delete!('db', {});
    expect(wire.secret('projects/p1/secrets/db')).toBeUndefined();
    await expect(p.delete!('db', {})).resolves.toBeUndefined();
    expect(await p.get('db', {})).toBeUndefined();
  });

  it('reports health from a one-item list', async () => {
    const p = provider();
    expect(await p.health!({})).toMatchObject({ ok: true, detail: 'projects/p1' });
    wire.fail({ status: 403, grpc: 'PERMISSION_DENIED' });
    expect(await p.health!({})).toMatchObject({ ok: false });
  });
});

describe('gcp: regional secrets', () => {
  it('addresses projects/P/locations/L and defaults the endpoint to secretmanager.L.rep.googleapis.com', async () => {
    let seen: Record<string, unknown> | undefined;
    const lib: GcpLib = {
      SecretManagerServiceClient: class {
        constructor(options: Record<string, unknown>) {
          seen = options;
        }
        async accessSecretVersion() {
          throw Object.assign(new Error('5 NOT_FOUND: nope'), { code: 5 });
        }
      } as unknown as GcpLib['SecretManagerServiceClient'],
    };
    const p = gcp({ projectId: 'p1', env: { GCP_SECRET_LOCATION: 'europe-west1' }, lib });
    expect(await p.get('db', {})).toBeUndefined();
    expect(seen?.apiEndpoint).toBe('secretmanager.europe-west1.rep.googleapis.com');
  });

  it('reads and creates regional secrets on the wire (no replication on create)', async () => {
    wire.seed('p1', 'db', ['regional'], { location: 'us-east1' });
    const p = provider({ location: 'us-east1' });
    expect(await p.get('db', {})).toBe('regional');
    await p.set!('new', 'value', {});
    const created = wire.secret('projects/p1/locations/us-east1/secrets/new');
    expect(created?.versions).toHaveLength(1);
    expect(created?.replication).toBeUndefined();
    expect(wire.requests.some((r) => r.path.includes('/locations/us-east1/secrets/db/'))).toBe(
      true,
    );
  });
});

describe('gcp: injection', () => {
  it('uses a ready client handed in, and leaves closing it to its owner', async () => {
    wire.seed('p1', 'db', ['from-injected-client']);
    const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
    const client = new SecretManagerServiceClient(clientOptions() as never);
    const p = gcp({ projectId: 'p1', env: {}, client: client as never });
    expect(await p.get('db', {})).toBe('from-injected-client');
    await p.close!();
    const [again] = await client.accessSecretVersion({
      name: 'projects/p1/secrets/db/versions/latest',
    });
    expect(again.payload?.data?.toString()).toBe('from-injected-client');
    await client.close();
  });
});

describe('gcp: the SDK debug log', () => {
  it('warns on stderr, once, when GOOGLE_SDK_NODE_LOGGING would print payloads', async () => {
    wire.seed('p1', 'logged', ['v']);
    const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
    const client = new SecretManagerServiceClient(clientOptions() as never);
    const lines: string[] = [];
    const write = process.stderr.write;
    process.env.GOOGLE_SDK_NODE_LOGGING = 'secretmanager';
    process.stderr.write = ((chunk: string) => lines.push(String(chunk))) as never;
    try {
      const p = gcp({ projectId: 'p1', env: {}, client: client as never });
      await p.get('logged', {});
      await p.get('logged', {});
    } finally {
      process.stderr.write = write;
      delete process.env.GOOGLE_SDK_NODE_LOGGING;
      await client.close();
    }
    expect(lines.filter((l) => l.includes('GOOGLE_SDK_NODE_LOGGING'))).toHaveLength(1);
  });
});

describe('gcp: registration', () => {
  it('is detected from GCP_PROJECT_ID or GOOGLE_CLOUD_PROJECT and built from env', async () => {
    expect(detectChain({ GOOGLE_CLOUD_PROJECT: 'x' }).map((d) => d.type)).toContain('gcp');
    const built = await buildProvider('gcp', { GCP_PROJECT_ID: 'p1', GCP_SECRET_PREFIX: 'a-' });
    expect(built).toMatchObject({ id: 'gcp', type: 'gcp' });
    await built.close?.();
  });
});
