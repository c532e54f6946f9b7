// copySecrets between wire servers (the real AWS and GCP SDKs on loopback), counted in requests: a
// name the destination's listing lacks is created in one write, and source reads fill batches.

import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isEnvmuxError } from '../../src/errors.js';
import { copySecrets } from '../../src/manage/copy-secrets.js';
import { aws } from '../../src/providers/aws/secrets-manager.js';
import { gcp } from '../../src/providers/gcp/secret-manager.js';
import { createResolver } from '../../src/resolver/client.js';
import { KEYS } from '../providers/aws/fixtures.js';
import { AwsWire } from '../providers/aws/wire-server.js';
import { type GcpWireServer, startGcpWire } from '../providers/gcp/wire-server.js';

const N = 100;
const name = (i: number) => `app_k${String(i).padStart(3, '0')}`;

let source: AwsWire;
let target: AwsWire;
let google: GcpWireServer;

beforeAll(async () => {
  [source, target, google] = await Promise.all([AwsWire.start(), AwsWire.start(), startGcpWire()]);
});
afterAll(async () => {
  await Promise.all([source.close(), target.close(), google.close()]);
});
beforeEach(() => {
  source.secrets.clear();
  target.secrets.clear();
  google.reset();
  for (let i = 0; i < N; i++) source.putSecret(name(i), `value-${i}`);
  source.resetCounts();
  target.resetCounts();
});

function resolver(timeout = 5000) {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 't', expiry_date: Date.now() + 3_600_000 });
  return createResolver({
    providers: [
      aws({ id: 'src', region: 'us-east-1', endpoint: source.url, credentials: KEYS }),
      aws({ id: 'dst', region: 'us-east-1', endpoint: target.url, credentials: KEYS }),
      gcp({
        id: 'gcp',
        projectId: 'p1',
        env: {},
        clientOptions: {
          apiEndpoint: google.host,
          port: google.port,
          protocol: 'http',
          fallback: true,
          authClient: auth,
        },
      }),
    ],
    cache: false,
    audit: false,
    breaker: false,
    timeout,
    retry: { attempts: 1 },
  });
}

describe('copySecrets request counts', () => {
  it(`${N} new names to AWS: ${N} CreateSecret, no PutSecretValue, reads in batches of 20`, async () => {
    const r = resolver();
    const report = await copySecrets({ resolver: r, from: 'src', to: 'dst' });
    await r.close();
    expect(report.counts).toMatchObject({ create: N, failed: 0 });
    expect(target.countsByTarget()).toEqual({
      'secretsmanager.ListSecrets': 1,
      'secretsmanager.CreateSecret': N,
    });
    expect(source.count('secretsmanager.BatchGetSecretValue')).toBe(Math.ceil(N / 20));
    expect(source.count('secretsmanager.GetSecretValue')).toBe(0);
    expect(target.secrets.get(name(7))).toBeDefined();
  });

  it(`${N} new names to GCP: one CreateSecret and one AddSecretVersion each`, async () => {
    const r = resolver();
    const report = await copySecrets({ resolver: r, from: 'src', to: 'gcp', verify: true });
    await r.close();
    expect(report.counts).toMatchObject({ create: N, failed: 0, verified: N });
    expect(google.count('create')).toBe(N);
    expect(google.count('addVersion')).toBe(N);
  });

  it('a wrong hint (the name appeared after the listing) still writes a new version', async () => {
    const r = resolver();
    target.putSecret(name(3), 'old');
    await r.set(name(3), 'new', { provider: 'dst', create: true });
    google.add('p1', name(3), 'old');
    await r.set(name(3), 'new', { provider: 'gcp', create: true });
    expect(await r.get(name(3), { provider: 'dst', cache: false })).toBe('new');
    expect(await r.get(name(3), { provider: 'gcp', cache: false })).toBe('new');
    expect(google.secret(`projects/p1/secrets/${name(3)}`)?.versions.length).toBe(2);
    await r.close();
  });

  it('listing gives each page its own call timeout; a page that hangs still times out', async () => {
    for (let i = N; i < 250; i++) source.putSecret(name(i), `value-${i}`);
    source.setLatency(400); // 3 pages of 100: ≥ 1.2 s in all, each page well under 1 s
    const r = resolver(1000);
    try {
      expect(await r.list('', { provider: 'src' })).toHaveLength(250);
      expect(source.count('secretsmanager.ListSecrets')).toBe(3);
      source.fault({ target: 'secretsmanager.ListSecrets', kind: 'hang', after: 1 });
      const error = await r.list('', { provider: 'src' }).catch((e: unknown) => e);
      expect(isEnvmuxError(error) && error.code).toBe('TIMEOUT');
    } finally {
      source.setLatency(0);
      source.clearFaults();
      await r.close();
    }
  });
});
