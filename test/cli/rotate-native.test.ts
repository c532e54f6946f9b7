// `envmux rotate NAME --provider aws --lambda ARN --schedule 30d`: store-native rotation through the
// real SDK against the AWS wire server (RotateSecret with RotationRules; DescribeSecret shows them);
// stderr names the secret, provider, version and schedule, never a value.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/rotate.js';
import { KEYS, startFileWire } from '../providers/aws/fixtures.js';

const wire = await startFileWire();
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:rotate-db';

async function runCli(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  let err = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'envmux', 'rotate', ...args]);
  } finally {
    spy.mockRestore();
  }
  return err;
}

afterEach(() => {
  vi.unstubAllEnvs();
  process.exitCode = undefined;
});

describe('envmux rotate --lambda --schedule (AWS RotateSecret)', () => {
  it('configures the schedule and rotates now; DescribeSecret reflects it', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', wire.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEYS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEYS.secretAccessKey);
    wire.putSecret('prod/db', 'old-db-value-z9x8');
    const out = await runCli([
      'prod/db',
      '--provider',
      'aws',
      '--lambda',
      LAMBDA,
      '--schedule',
      '30d',
    ]);
    expect(out).toMatch(
      /^envmux: rotated "prod\/db" in aws \(version [0-9a-f-]+\); the store rotates it every 30d\n$/,
    );
    expect(out).not.toContain('old-db-value');
    const sdk = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: wire.url,
      credentials: KEYS,
    });
    const described = await sdk.send(new DescribeSecretCommand({ SecretId: 'prod/db' }));
    expect(described).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: LAMBDA,
      RotationRules: { AutomaticallyAfterDays: 30 },
    });
    expect(process.exitCode).toBeUndefined();
  });

  it('a bad schedule is a CONFIG error before any call', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', wire.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEYS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEYS.secretAccessKey);
    wire.putSecret('prod/api', 'x');
    const out = await runCli(['prod/api', '--provider', 'aws', '--schedule', 'fortnightly']);
    expect(out).toContain('CONFIG');
    expect(wire.count('secretsmanager.RotateSecret')).toBe(0);
    expect(process.exitCode).toBe(1);
  });
});
