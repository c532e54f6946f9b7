// `aws` provider: the real @aws-sdk/client-secrets-manager (and client-sts) against the loopback
// wire server in test/providers/aws/wire-server.ts, so the SDK's serialization, signing and error parsing run.
//
// Documented Secrets Manager behaviours asserted here:
// - GetSecretValue reads AWSCURRENT by default; VersionId and VersionStage pick a version;
//   `previous` is the AWSPREVIOUS stage; a missing secret or version is ResourceNotFoundException,
//   which the provider answers as "not here" (undefined), as it does for a secret marked for deletion.
// - SecretBinary arrives base64 on the wire and as bytes from the SDK; the provider returns it as
//   base64 (default) or utf8.
// - BatchGetSecretValue takes at most 20 ids: 45 names cost 3 calls; ids it cannot read come back
//   in Errors[] (ResourceNotFoundException → absent, AccessDeniedException → ACCESS_DENIED for that
//   name only); a whole call refused with AccessDeniedException makes the resolver fall back to
//   GetSecretValue for the rest of the process, audited once.
// - CreateSecret carries KmsKeyId, Description and Tags; PutSecretValue makes the new version
//   AWSCURRENT and the old one AWSPREVIOUS; UpdateSecret changes the description with the value.
// - DeleteSecret keeps the recovery window (default 30 days, or the configured 7–30) and sends
//   ForceDeleteWithoutRecovery only when forced; setting a soft-deleted name restores it first.
// - ListSecrets filters by name prefix (`Filters: [{ Key: 'name', Values: [prefix] }]`) and pages
//   with NextToken (at most 100 per page); ListSecretVersionIds lists versions with stages.
// - RotateSecret runs when a rotation Lambda is configured; otherwise a generated value is put.
// - Errors: ThrottlingException → THROTTLED (retried by the resolver, not by the SDK: maxAttempts 1),
//   InternalServiceError (500) → UNAVAILABLE, AccessDeniedException → ACCESS_DENIED,
//   UnrecognizedClientException → AUTH_FAILED, ExpiredTokenException → SESSION_EXPIRED (one
//   re-authentication, then the call is retried), DecryptionFailure → DECRYPTION_FAILED, no answer →
//   TIMEOUT; no value ever appears in an error.
// - Credentials: explicit keys sign requests; an assumed role calls STS AssumeRole once and signs
//   with the temporary keys and session token.
// Issue 5 acceptance: 100 references through loadConfig cost ≤ 5 BatchGetSecretValue calls and no
// GetSecretValue call, counted at the server.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { type EnvmuxError, toEnvmuxError } from '../../../src/errors.js';
import { type AwsProviderOptions, aws } from '../../../src/providers/aws/secrets-manager.js';
import { memory } from '../../../src/providers/memory.js';
import { buildProvider } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { KEYS, loadDotenv, startFileWire, wireConformance } from './fixtures.js';

const wire = await startFileWire();
const make = (options: AwsProviderOptions = {}) =>
  aws({ region: 'us-east-1', endpoint: wire.url, credentials: KEYS, ...options });
let n = 0;
const fresh = (what: string) => `t${process.pid}-${n++}-${what}`;

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
}

wireConformance(wire, {
  name: 'aws (wire server)',
  provider: () => make(),
  seed: (name, value) => wire.putSecret(name, value),
  target: /^secretsmanager\./,
});

describe('aws: reads', () => {
  it('reads AWSCURRENT, a VersionId, a staging label and previous (AWSPREVIOUS)', async () => {
    const name = fresh('versions');
    const v1 = wire.putSecret(name, 'one');
    wire.putSecret(name, 'two');
    wire.putSecret(name, 'labelled', { stages: ['BLUE'] });
    const p = make();
    expect(await p.get(name, {})).toBe('two');
    expect(await p.get(name, { version: 'latest' })).toBe('two');
    expect(await p.get(name, { version: 'previous' })).toBe('one');
    expect(await p.get(name, { version: v1 })).toBe('one');
    expect(await p.get(name, { version: 'BLUE' })).toBe('labelled');
    expect(await p.get(name, { version: 'NO_SUCH_STAGE' })).toBeUndefined();
    expect(await p.get(name, { version: '0123456789abcdef0123456789abcdef' })).toBeUndefined();
    const sent = wire.requests.filter((r) => r.target === 'secretsmanager.GetSecretValue');
    expect(sent.map((r) => r.body)).toContainEqual({ SecretId: name, VersionStage: 'AWSPREVIOUS' });
    expect(sent.map((r) => r.body)).toContainEqual({ SecretId: name, VersionId: v1 });
  });

  it('returns binary secrets as base64, or utf8 when asked', async () => {
    const name = fresh('binary');
    const bytes = Buffer.from('-----BEGIN CERT-----\nÿþ\n', 'latin1');
    wire.putSecret(name, bytes);
    expect(await make().get(name, {})).toBe(bytes.toString('base64'));
    const pem = fresh('pem');
    wire.putSecret(pem, Buffer.from('-----BEGIN KEY-----\nabc\n'));
    expect(await make({ binary: 'utf8' }).get(pem, {})).toBe('-----BEGIN KEY-----\nabc\n');
    expect((await make().getMany!([name], {})).get(name)).toBe(bytes.toString('base64'));
  });

  it('treats a secret marked for deletion as absent', async () => {
    const name = fresh('soft-deleted');
    wire.putSecret(name, 'gone-soon');
    const p = make();
    await p.delete!(name, {});
    expect(await p.get(name, {})).toBeUndefined();
    expect((await p.getMany!([name], {})).has(name)).toBe(false);
  });

  it('applies the prefix to names, not to ARNs, and maps batch answers back', async () => {
    wire.putSecret('prod/db', '{"password":"pw"}');
    const arn = wire.secrets.get('prod/db')!.arn;
    const p = make({ prefix: 'prod/' });
    expect(await p.get('db', {})).toBe('{"password":"pw"}');
    expect(await p.get(arn, {})).toBe('{"password":"pw"}');
    expect(await p.get(arn.slice(0, -7), {})).toBe('{"password":"pw"}');
    const many = await p.getMany!(['db', arn.slice(0, -7), 'nope'], {});
    expect([...many.keys()].sort()).toEqual([arn.slice(0, -7), 'db'].sort());
    const listed = await p.list!('d', {});
    expect(listed.map((s) => s.name)).toContain('db');
  });
});

describe('aws: batch reads', () => {
  it('reads 45 names in 3 BatchGetSecretValue calls of at most 20 ids', async () => {
    const names = Array.from({ length: 45 }, (_, i) => fresh(`b${i}`));
    for (const name of names) wire.putSecret(name, `value-of-${name}`);
    const resolver = createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    const values = await resolver.getMany(names);
    expect(Object.keys(values)).toHaveLength(45);
    expect(values[names[44]!]).toBe(`value-of-${names[44]}`);
    expect(wire.count('secretsmanager.BatchGetSecretValue')).toBe(3);
    expect(wire.count('secretsmanager.GetSecretValue')).toBe(0);
    const sizes = wire.requests.map((r) => (r.body.SecretIdList as string[]).length);
    expect(sizes.sort()).toEqual([20, 20, 5]);
  });

  it('maps Errors[]: not found → absent, access denied → an error for that name only', async () => {
    const ok = fresh('ok');
    const denied = fresh('denied');
    const broken = fresh('kms');
    wire.putSecret(ok, 'fine');
    wire.putSecret(denied, 'locked-value');
    wire.putSecret(broken, 'kms-value');
    wire.failSecret(denied, 'denied');
    wire.failSecret(broken, 'decryption');
    const missing = fresh('missing');
    const got = await make().getMany!([ok, denied, broken, missing], {});
    expect(got.get(ok)).toBe('fine');
    expect(got.has(missing)).toBe(false);
    expect((got.get(denied) as EnvmuxError).code).toBe('ACCESS_DENIED');
    expect((got.get(broken) as EnvmuxError).code).toBe('DECRYPTION_FAILED');
    expect(String((got.get(denied) as Error).message)).not.toContain('locked-value');
    // Through the resolver: the other names still resolve.
    const resolver = createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    const answers = await resolver.fetch(
      [ok, denied, missing].map((name) => ({ scheme: 'aws', name })),
    );
    const byName = [...answers.values()];
    expect(byName.filter((a) => 'value' in a && a.value === 'fine')).toHaveLength(1);
    expect(byName.filter((a) => 'error' in a && a.error.code === 'ACCESS_DENIED')).toHaveLength(1);
  });

  it('falls back to GetSecretValue when BatchGetSecretValue is denied, audited once', async () => {
    const names = Array.from({ length: 5 }, (_, i) => fresh(`fb${i}`));
    for (const name of names) wire.putSecret(name, `v-${name}`);
    wire.fault({ target: 'secretsmanager.BatchGetSecretValue', kind: 'denied' });
    const log = new AuditLog(100);
    const resolver = createResolver({ providers: [make()], cache: false, audit: { log }, env: {} });
    expect(Object.values(await resolver.getMany(names))).toEqual(names.map((x) => `v-${x}`));
    expect(Object.values(await resolver.getMany(names))).toHaveLength(5);
    expect(wire.count('secretsmanager.BatchGetSecretValue')).toBe(1);
    expect(wire.count('secretsmanager.GetSecretValue')).toBe(10);
    expect(log.query({ action: 'batch-fallback' } as never)).toHaveLength(1);
  });
});

describe('aws: errors', () => {
  it.each([
    ['throttle', 'THROTTLED', true],
    ['internal', 'UNAVAILABLE', true],
    ['denied', 'ACCESS_DENIED', false],
    ['unrecognized', 'AUTH_FAILED', false],
    ['expired', 'SESSION_EXPIRED', false],
    ['decryption', 'DECRYPTION_FAILED', false],
  ] as const)('%s → %s (retryable %s), no value in the error', async (kind, code, retryable) => {
    const name = fresh(kind);
    wire.putSecret(name, 'canary-value-91f');
    wire.fault({ target: 'secretsmanager.GetSecretValue', kind });
    let caught: unknown;
    await make()
      .get(name, {})
      .catch((e) => {
        caught = e;
      });
    const e = toEnvmuxError(caught);
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e.provider).toBe('aws');
    expect(JSON.stringify(e) + e.message + String(e.cause)).not.toContain('canary-value-91f');
    // maxAttempts: 1 — the SDK did not retry on its own.
    expect(wire.count('secretsmanager.GetSecretValue')).toBe(1);
  });

  it.each([
    ['html500', 'UNAVAILABLE', true],
    ['xml403', 'ACCESS_DENIED', false],
  ] as const)(
    'an answer that is not JSON (%s) maps by its HTTP status: %s',
    async (kind, code, retryable) => {
      const name = fresh(kind);
      wire.putSecret(name, 'canary-value-77c');
      wire.fault({ target: 'secretsmanager.GetSecretValue', kind });
      const e = toEnvmuxError(
        await make()
          .get(name, {})
          .catch((error) => error),
      );
      expect(e).toMatchObject({ code, retryable, provider: 'aws' });
      expect(e.message).toContain(`HTTP ${kind === 'html500' ? 500 : 403}`);
      // Neither the page nor a fragment of it (JSON.parse quotes the body) reaches the message.
      expect(JSON.stringify(e) + e.message + String(e.cause)).not.toMatch(
        /nginx|<html|<\?xml|canary/,
      );
    },
  );

  it("a proxy's HTML 500 is retried and fails over to the next provider", async () => {
    const name = fresh('html500-failover');
    wire.putSecret(name, 'from-aws');
    wire.fault({ target: /^secretsmanager\./, kind: 'html500' });
    const backup = memory({ id: 'backup', values: { [name]: 'from-backup' } });
    const resolver = createResolver({
      providers: [make(), backup],
      cache: false,
      audit: false,
      env: {},
      retry: { attempts: 2, minDelay: 1, maxDelay: 5 },
    });
    expect(await resolver.get(name)).toBe('from-backup');
    expect(wire.count('secretsmanager.BatchGetSecretValue')).toBe(2);
  });

  it('an XML 403 on BatchGetSecretValue falls back to single reads instead of stopping the start', async () => {
    const names = Array.from({ length: 3 }, (_, i) => fresh(`xml403-${i}`));
    for (const name of names) wire.putSecret(name, `v-${name}`);
    wire.fault({ target: 'secretsmanager.BatchGetSecretValue', kind: 'xml403' });
    const config = await loadDotenv(names.map((x, i) => `K${i}=$<aws:${x}>`).join('\n'), {
      providers: [make()],
    });
    expect(Object.values(config)).toEqual(names.map((x) => `v-${x}`));
    expect(wire.count('secretsmanager.BatchGetSecretValue')).toBe(1);
    expect(wire.count('secretsmanager.GetSecretValue')).toBe(3);
  });

  it('retries throttling through the resolver with backoff, then succeeds', async () => {
    const name = fresh('throttled');
    wire.putSecret(name, 'after-throttle');
    wire.fault({ target: 'secretsmanager.GetSecretValue', kind: 'throttle', times: 2 });
    const resolver = createResolver({
      providers: [make({ batch: false })],
      cache: false,
      audit: false,
      env: {},
      retry: { attempts: 3, minDelay: 5, maxDelay: 20 },
    });
    expect(await resolver.get(name)).toBe('after-throttle');
    expect(wire.count('secretsmanager.GetSecretValue')).toBe(3);
  });

  it('lets the SDK retry when the user asks for it (clientConfig.maxAttempts)', async () => {
    const name = fresh('sdk-retry');
    wire.putSecret(name, 'sdk-retried');
    wire.fault({ target: 'secretsmanager.GetSecretValue', kind: 'internal', times: 1 });
    expect(await make({ clientConfig: { maxAttempts: 2 } }).get(name, {})).toBe('sdk-retried');
    expect(wire.count('secretsmanager.GetSecretValue')).toBe(2);
  });

  it('times out a hung call (TIMEOUT), and never hangs the caller', async () => {
    const name = fresh('hang');
    wire.putSecret(name, 'never');
    wire.fault({ target: /^secretsmanager\./, kind: 'hang' });
    const resolver = createResolver({
      providers: [make()],
      cache: false,
      audit: false,
      env: {},
      timeout: 200,
      retry: { attempts: 1 },
    });
    expect(await codeOf(resolver.get(name))).toBe('TIMEOUT');
  });

  it('re-authenticates once after ExpiredTokenException and retries the call', async () => {
    const name = fresh('expired');
    wire.putSecret(name, 'fresh-session');
    wire.fault({ target: 'secretsmanager.GetSecretValue', kind: 'expired', times: 1 });
    const resolver = createResolver({
      providers: [make({ batch: false })],
      cache: false,
      audit: false,
      env: {},
    });
    expect(await resolver.get(name)).toBe('fresh-session');
    expect(wire.count('secretsmanager.GetSecretValue')).toBe(2);
  });

  it('says which permission a denial is about', async () => {
    wire.fault({ target: 'secretsmanager.GetSecretValue', kind: 'denied' });
    const name = fresh('perm');
    wire.putSecret(name, 'x');
    const e = toEnvmuxError(
      await make()
        .get(name, {})
        .catch((error) => error),
    );
    expect(e.hint).toContain('secretsmanager:GetSecretValue');
    expect(e.message).toContain(name);
  });
});

describe('aws: writes and management', () => {
  it('creates with KmsKeyId, description and tags; puts new versions; updates the description', async () => {
    const name = fresh('created');
    const p = make({ kmsKeyId: 'alias/app' });
    const first = await p.set!(name, 'v1', { description: 'db password', metadata: { team: 'a' } });
    expect(first?.version).toMatch(/^[0-9a-f-]{36}$/);
    const stored = wire.secrets.get(name)!;
    expect(stored.kmsKeyId).toBe('alias/app');
    expect(stored.description).toBe('db password');
    expect(stored.tags).toEqual([{ Key: 'team', Value: 'a' }]);
    // An update is tried first (with a description: UpdateSecret); not found → CreateSecret.
    expect(wire.count('secretsmanager.UpdateSecret')).toBe(1);
    expect(wire.count('secretsmanager.CreateSecret')).toBe(1);
    await p.set!(name, 'v2', {});
    expect(wire.count('secretsmanager.PutSecretValue')).toBe(1);
    expect(await p.get(name, {})).toBe('v2');
    expect(await p.get(name, { version: 'previous' })).toBe('v1');
    await p.set!(name, 'v3', { description: 'rotated by hand' });
    expect(wire.count('secretsmanager.UpdateSecret')).toBe(2);
    expect(stored.description).toBe('rotated by hand');
    const versions = await p.versions!(name, {});
    expect(versions.map((v) => v.stages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);
  });

  it('deletes with a recovery window unless forced; setting a soft-deleted name restores it', async () => {
    const name = fresh('deleted');
    wire.putSecret(name, 'v');
    await make().delete!(name, {});
    expect(wire.requests.at(-1)!.body).toEqual({ SecretId: name });
    expect(wire.secrets.get(name)?.deleted).toBeInstanceOf(Date);
    await make({ recoveryWindowDays: 7 }).delete!(name, {}); // already scheduled: done
    await make().set!(name, 'back', {});
    expect(wire.count('secretsmanager.RestoreSecret')).toBe(1);
    expect(await make().get(name, {})).toBe('back');
    const other = fresh('window');
    wire.putSecret(other, 'v');
    await make({ recoveryWindowDays: 7 }).delete!(other, {});
    expect(wire.requests.at(-1)!.body).toEqual({ SecretId: other, RecoveryWindowInDays: 7 });
    await make().delete!(name, { force: true });
    expect(wire.requests.at(-1)!.body).toEqual({
      SecretId: name,
      ForceDeleteWithoutRecovery: true,
    });
    expect(wire.secrets.has(name)).toBe(false);
  });

  it('lists by name prefix across pages', async () => {
    const group = fresh('page');
    for (let i = 0; i < 230; i++) wire.putSecret(`${group}/s${String(i).padStart(3, '0')}`, 'x');
    wire.putSecret(`${group}-other`, 'x');
    const listed = await make().list!(`${group}/`, {});
    expect(listed).toHaveLength(230);
    expect(listed[0]!.name).toBe(`${group}/s000`);
    expect(listed[0]!.created).toBeInstanceOf(Date);
    const calls = wire.requests.filter((r) => r.target === 'secretsmanager.ListSecrets');
    expect(calls).toHaveLength(3);
    expect(calls[0]!.body.Filters).toEqual([{ Key: 'name', Values: [`${group}/`] }]);
  });

  it('rotates through RotateSecret when a rotation Lambda is configured', async () => {
    const name = fresh('rotate');
    wire.putSecret(name, 'before');
    const lambda = 'arn:aws:lambda:us-east-1:123456789012:function:rotate';
    const resolver = createResolver({
      providers: [make({ rotation: lambda })],
      cache: false,
      audit: false,
      env: {},
    });
    const [outcome] = await resolver.rotate(name);
    expect(outcome?.version).toBeTruthy();
    expect(wire.requests.at(-1)!.body).toMatchObject({
      SecretId: name,
      RotationLambdaARN: lambda,
      RotateImmediately: true,
    });
    expect(await resolver.get(name)).not.toBe('before');
  });

  it('rotates by generating and putting a value without a rotation Lambda', async () => {
    const name = fresh('rotate-gen');
    wire.putSecret(name, 'before');
    const resolver = createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    await resolver.rotate(name, { generate: () => 'generated-value' });
    expect(wire.count('secretsmanager.RotateSecret')).toBe(0);
    expect(await resolver.get(name)).toBe('generated-value');
    expect(await resolver.get(name, { version: 'previous' })).toBe('before');
  });

  it('reports health through ListSecrets', async () => {
    expect((await make().health!({})).ok).toBe(true);
    wire.fault({ kind: 'unrecognized' });
    expect(await codeOf(make().health!({}))).toBe('AUTH_FAILED');
  });
});

describe('aws: credentials and configuration', () => {
  it('signs with explicit keys', async () => {
    const name = fresh('keys');
    wire.putSecret(name, 'k');
    await make().get(name, {});
    expect(wire.requests.at(-1)!.accessKeyId).toBe('AKIDWIRETEST');
  });

  it('assumes a role through STS once, then signs with the session', async () => {
    const name = fresh('role');
    wire.putSecret(name, 'via-role');
    const p = make({
      credentials: {
        roleArn: 'arn:aws:iam::123456789012:role/app-secrets',
        externalId: 'ext-1',
        endpoint: wire.url,
        source: KEYS,
      },
    });
    expect(await p.get(name, {})).toBe('via-role');
    expect(await p.get(name, {})).toBe('via-role');
    expect(wire.count('sts.AssumeRole')).toBe(1);
    const assume = wire.requests.find((r) => r.target === 'sts.AssumeRole')!;
    expect(assume.accessKeyId).toBe('AKIDWIRETEST');
    expect(assume.body).toMatchObject({
      RoleArn: 'arn:aws:iam::123456789012:role/app-secrets',
      ExternalId: 'ext-1',
    });
    const read = wire.requests.at(-1)!;
    expect(read.accessKeyId).toMatch(/^ASIAWIRE/);
    expect(read.sessionToken).toMatch(/^wire-session-/);
  });

  it('reports a role that cannot be assumed as AUTH_FAILED', async () => {
    wire.fault({ target: 'sts.AssumeRole', kind: 'denied' });
    const p = make({
      credentials: {
        roleArn: 'arn:aws:iam::123456789012:role/nope',
        endpoint: wire.url,
        source: KEYS,
      },
    });
    const e = toEnvmuxError(await p.get('anything', {}).catch((error) => error));
    expect(e.code).toBe('AUTH_FAILED');
    expect(e.hint).toContain('sts:AssumeRole');
  });

  it('is built from environment variables by the registry', async () => {
    wire.putSecret('envpfx/db', 'from-env-config');
    const p = await buildProvider('aws', {
      AWS_SECRET_MANAGER_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: wire.url,
      AWS_ACCESS_KEY_ID: 'AKIDFROMENV',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_SECRET_PREFIX: 'envpfx/',
    });
    expect(p.id).toBe('aws');
    expect(p.batchSize).toBe(20);
    expect(await p.get('db', {})).toBe('from-env-config');
    expect(wire.requests.at(-1)!.accessKeyId).toBe('AKIDFROMENV');
  });

  it('takes an injected client and module (the bundler escape hatch)', async () => {
    const sent: unknown[] = [];
    const lib = await import('@aws-sdk/client-secrets-manager');
    const p = aws({
      lib,
      client: {
        async send(command: { input: unknown }) {
          sent.push(command.input);
          return { SecretString: 'injected' };
        },
      },
    });
    expect(await p.get('x', {})).toBe('injected');
    expect(sent).toEqual([{ SecretId: 'x' }]);
  });
});

describe('aws: issue 5 acceptance', () => {
  it('100 references through loadConfig cost ≤ 5 BatchGetSecretValue calls and no GetSecretValue', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      wire.putSecret(`app/s${i}`, JSON.stringify({ password: `pw-${i}`, user: `u-${i}` }));
      // Half as the whole document, half as a field, two fields of one secret on some lines.
      lines.push(
        i % 2
          ? `K${i}="$<aws:app/s${i}#password>"`
          : `K${i}=postgres://$<aws:app/s${i}#user>:$<aws:app/s${i}#password>@db/x`,
      );
    }
    wire.resetCounts();
    const config = await loadDotenv(`${lines.join('\n')}\n`, {
      env: {
        ENVMUX_PROVIDERS: 'aws',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: wire.url,
        AWS_ACCESS_KEY_ID: 'AKIDWIRETEST',
        AWS_SECRET_ACCESS_KEY: 'x',
      },
    });
    expect(config.K1).toBe('pw-1');
    expect(config.K98).toBe('postgres://u-98:pw-98@db/x');
    expect(Object.keys(config)).toHaveLength(100);
    expect(wire.count('secretsmanager.BatchGetSecretValue')).toBeLessThanOrEqual(5);
    expect(wire.count('secretsmanager.GetSecretValue')).toBe(0);
  });
});
