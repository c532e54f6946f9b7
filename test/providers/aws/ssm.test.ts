// `ssm` provider: the real @aws-sdk/client-ssm against the loopback wire server in
// test/providers/aws/wire-server.ts (AWS JSON 1.1, `X-Amz-Target: AmazonSSM.*`).
//
// Documented Parameter Store behaviours asserted here:
// - GetParameter / GetParameters are sent WithDecryption: true, so SecureString values arrive in
//   plain text; GetParameters takes at most 10 names (25 names cost 3 calls) and lists unknown
//   names in InvalidParameters (→ absent, the chain moves on).
// - Versions are `name:version` selectors (and `name:label`); a missing version is
//   ParameterVersionNotFound (→ undefined); `previous` is found through GetParameterHistory,
//   which is read without decryption.
// - PutParameter writes SecureString with Overwrite: true (KeyId, Tier and Description when set)
//   and answers the new version number; DeleteParameter of a missing name is ParameterNotFound
//   (→ done).
// - GetParametersByPath lists a hierarchy (Path starts with "/", Recursive, at most 10 per page,
//   NextToken), without decryption; names outside a hierarchy are listed with DescribeParameters
//   (Name BeginsWith).
// - Names holding "/" get the leading "/" hierarchies need; the prefix option is prepended.
// - Errors map as for Secrets Manager: ThrottlingException → THROTTLED, InternalServerError (500)
//   → UNAVAILABLE, AccessDeniedException → ACCESS_DENIED, UnrecognizedClientException → AUTH_FAILED.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { type SsmProviderOptions, ssm } from '../../../src/providers/aws/ssm.js';
import { buildProvider } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { providerConformance } from '../../../src/testing/index.js';
import { KEYS, loadDotenv, startFileWire, wireConformance } from './fixtures.js';

const wire = await startFileWire();
const make = (options: SsmProviderOptions = {}) =>
  ssm({ region: 'us-east-1', endpoint: wire.url, credentials: KEYS, ...options });
let n = 0;
const fresh = (what: string) => `/t${process.pid}/${n++}/${what}`;

wireConformance(wire, {
  name: 'ssm (wire server)',
  secretName: (slug) => `/envmux-conformance/${slug}`,
  provider: () => make(),
  seed: (name, value) => void wire.putParameter(name, value),
  target: /^AmazonSSM\./,
});

providerConformance(
  { describe, it, expect },
  {
    name: 'ssm (names outside a hierarchy)',
    async create() {
      return {
        provider: make(),
        seed: async (name, value) => {
          wire.putParameter(name, value);
        },
      };
    },
  },
);

describe('ssm: reads', () => {
  it('decrypts SecureString parameters and reads String ones as they are', async () => {
    const secure = fresh('secure');
    const plain = fresh('plain');
    wire.putParameter(secure, 's3cret');
    wire.putParameter(plain, 'a,b,c', 'StringList');
    const p = make();
    expect(await p.get(secure, {})).toBe('s3cret');
    expect(await p.get(plain, {})).toBe('a,b,c');
    const sent = wire.requests.filter((r) => r.target === 'AmazonSSM.GetParameter');
    expect(sent.every((r) => r.body.WithDecryption === true)).toBe(true);
  });

  it('reads versions by number, by label, latest and previous', async () => {
    const name = fresh('versions');
    wire.putParameter(name, 'one');
    wire.putParameter(name, 'two');
    wire.putParameter(name, 'three');
    wire.parameters.get(name)!.versions[0]!.labels.push('stable');
    const p = make();
    expect(await p.get(name, { version: '2' })).toBe('two');
    expect(await p.get(name, { version: 'stable' })).toBe('one');
    expect(await p.get(name, { version: 'latest' })).toBe('three');
    expect(await p.get(name, { version: 'previous' })).toBe('two');
    expect(await p.get(name, { version: '9' })).toBeUndefined();
    const history = wire.requests.filter((r) => r.target === 'AmazonSSM.GetParameterHistory');
    expect(history.every((r) => r.body.WithDecryption === false)).toBe(true);
    const versions = await p.versions!(name, {});
    expect(versions.map((v) => v.version)).toEqual(['1', '2', '3']);
    expect(versions[0]!.stages).toEqual(['stable']);
    expect(versions[2]!.stages).toEqual(['latest']);
    // Who wrote each version, as GetParameterHistory says (versions shows it as UPDATED BY).
    expect(versions[0]!.updatedBy).toBe('arn:aws:iam::123456789012:user/wire-test');
  });

  it('reads 25 names in 3 GetParameters calls of at most 10; unknown names are absent', async () => {
    const names = Array.from({ length: 25 }, (_, i) => fresh(`b${i}`));
    for (const name of names) wire.putParameter(name, `v${name}`);
    const missing = fresh('missing');
    const resolver = createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    const answers = await resolver.fetch(
      [...names, missing].map((name) => ({ scheme: 'ssm', name })),
    );
    const values = [...answers.values()];
    expect(values.filter((a) => 'value' in a && a.value?.startsWith('v/'))).toHaveLength(25);
    expect(values.filter((a) => 'value' in a && a.value === undefined)).toHaveLength(1);
    expect(wire.count('AmazonSSM.GetParameters')).toBe(3);
    expect(wire.count('AmazonSSM.GetParameter')).toBe(0);
    const sizes = wire.requests.map((r) => (r.body.Names as string[]).length).sort();
    expect(sizes).toEqual([10, 10, 6]);
    expect(wire.requests.every((r) => r.body.WithDecryption === true)).toBe(true);
  });

  it('adds the leading slash a hierarchy needs, and the prefix', async () => {
    wire.putParameter('/prod/app/db', 'from-prefix');
    expect(await make().get('prod/app/db', {})).toBe('from-prefix');
    const p = make({ prefix: '/prod/app/' });
    expect(await p.get('db', {})).toBe('from-prefix');
    expect((await p.getMany!(['db'], {})).get('db')).toBe('from-prefix');
    expect((await p.list!('', {})).map((s) => s.name)).toEqual(['db']);
  });
});

describe('ssm: every spelling of one parameter gets its answer', () => {
  it('$<ssm:/p/x> and $<ssm:p/x> in one file both resolve (one GetParameters call)', async () => {
    const name = fresh('spelling');
    wire.putParameter(name, 'spelled-value');
    const config = await loadDotenv(`A=$<ssm:${name}>\nB=$<ssm:${name.slice(1)}>\n`, {
      providers: [make()],
    });
    expect(config).toEqual({ A: 'spelled-value', B: 'spelled-value' });
    expect(wire.count('AmazonSSM.GetParameters')).toBe(1);
    expect(wire.count('AmazonSSM.GetParameter')).toBe(0);
  });

  it('a batch answer is matched to a request made by ARN, beside the name and a prefix spelling', async () => {
    const name = fresh('by-arn');
    wire.putParameter(name, 'arn-value');
    const arn = `arn:aws:ssm:us-east-1:123456789012:parameter${name}`;
    const provider = make();
    const found = await provider.getMany!([arn, name, name.slice(1)], {});
    expect([...found.entries()].sort()).toEqual(
      [
        [arn, 'arn-value'],
        [name, 'arn-value'],
        [name.slice(1), 'arn-value'],
      ].sort(),
    );
    const resolver = createResolver({ providers: [make()], cache: false, env: {}, audit: false });
    expect(await resolver.getMany([arn, name], { provider: 'ssm' })).toEqual({
      [arn]: 'arn-value',
      [name]: 'arn-value',
    });
  });
});

describe('ssm: writes and listing', () => {
  it('puts SecureString with Overwrite, KeyId and Tier; answers the version', async () => {
    const name = fresh('put');
    const p = make({ kmsKeyId: 'alias/app', tier: 'Advanced' });
    expect(await p.set!(name, 'first', { description: 'db' })).toEqual({ version: '1' });
    expect(await p.set!(name, 'second', {})).toEqual({ version: '2' });
    expect(wire.requests.at(-1)!.body).toEqual({
      Name: name,
      Value: 'second',
      Type: 'SecureString',
      Overwrite: true,
      KeyId: 'alias/app',
      Tier: 'Advanced',
    });
    const plain = make({ type: 'String', kmsKeyId: 'alias/app' });
    await plain.set!(fresh('plain'), 'x', {});
    expect(wire.requests.at(-1)!.body).not.toHaveProperty('KeyId');
  });

  it('lists a hierarchy across pages, without decryption', async () => {
    const base = fresh('tree');
    for (let i = 0; i < 23; i++) wire.putParameter(`${base}/k${String(i).padStart(2, '0')}`, 'x');
    wire.putParameter(`${base}/deep/er/k`, 'x');
    wire.putParameter(`${base}-sibling`, 'x');
    const listed = await make().list!(`${base}/`, {});
    expect(listed).toHaveLength(24);
    expect(listed.every((s) => !('value' in s))).toBe(true);
    const calls = wire.requests.filter((r) => r.target === 'AmazonSSM.GetParametersByPath');
    expect(calls).toHaveLength(3);
    expect(calls[0]!.body).toMatchObject({ Path: base, Recursive: true, WithDecryption: false });
    // A prefix that ends inside a segment lists from its parent path, filtered.
    expect((await make().list!(`${base}/k1`, {})).map((s) => s.name)).toHaveLength(10);
  });
});

describe('ssm: errors and configuration', () => {
  it.each([
    ['throttle', 'THROTTLED'],
    ['internal', 'UNAVAILABLE'],
    ['denied', 'ACCESS_DENIED'],
    ['unrecognized', 'AUTH_FAILED'],
    ['expired', 'SESSION_EXPIRED'],
  ] as const)('%s → %s', async (kind, code) => {
    const name = fresh(kind);
    wire.putParameter(name, 'canary-ssm-value');
    wire.fault({ target: 'AmazonSSM.GetParameter', kind });
    const e = toEnvmuxError(
      await make()
        .get(name, {})
        .catch((error) => error),
    );
    expect(e.code).toBe(code);
    expect(JSON.stringify(e) + e.message).not.toContain('canary-ssm-value');
    expect(wire.count('AmazonSSM.GetParameter')).toBe(1);
  });

  it('is built from environment variables by the registry', async () => {
    wire.putParameter('/envssm/db', 'from-env');
    const p = await buildProvider('ssm', {
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SSM: wire.url,
      AWS_ACCESS_KEY_ID: 'AKIDSSMENV',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_SSM_PREFIX: '/envssm/',
    });
    expect(p.batchSize).toBe(10);
    expect(await p.get('db', {})).toBe('from-env');
    expect(wire.requests.at(-1)!.accessKeyId).toBe('AKIDSSMENV');
  });
});
