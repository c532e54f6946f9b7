// Issue 15's acceptance run from the packed package: a 200-key .env (secret-looking and plain keys)
// is migrated into the local vault and --validate'd; the vault is copied with --verify to the
// memory store and to the AWS and GCP wire servers (real SDKs, loopback); a failure injected at the
// 100th create of each cloud copy, then a re-run: everything equal, no duplicate, no re-copy.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsWire } from '../providers/aws/wire-server.js';
import { type GcpWireServer, startGcpWire } from '../providers/gcp/wire-server.js';
import { installProject, type Run, runNodeAsync, writeCase } from './consumer.js';

/** 200 keys: 120 that look like secrets (by name or by entropy), 80 plain settings. */
function acceptanceEnv(): { text: string; secrets: Record<string, string>; plain: string[] } {
  const lines = ['# acceptance: 200 keys', ''];
  const secrets: Record<string, string> = {};
  const plain: string[] = [];
  for (let i = 0; i < 200; i++) {
    const n = String(i).padStart(3, '0');
    const canary = `AccCanary-${n}-Qx`;
    switch (i % 5) {
      case 0:
        lines.push(`APP${n}_PASSWORD=${canary}`);
        secrets[`APP${n}_PASSWORD`] = canary;
        break;
      case 1:
        lines.push(`APP${n}_API_TOKEN="${canary} with spaces"`);
        secrets[`APP${n}_API_TOKEN`] = `${canary} with spaces`;
        break;
      case 2:
        // No secret-looking name: found by entropy.
        lines.push(`APP${n}_BLOB=${canary}-k9Zr2LwQ8vXn4TbY7hPm3sJd6Fg`);
        secrets[`APP${n}_BLOB`] = `${canary}-k9Zr2LwQ8vXn4TbY7hPm3sJd6Fg`;
        break;
      case 3:
        lines.push(`APP${n}_PORT=${9000 + i}`);
        plain.push(`APP${n}_PORT`);
        break;
      default:
        lines.push(`APP${n}_LOG_LEVEL=info`);
        plain.push(`APP${n}_LOG_LEVEL`);
    }
  }
  return { text: `${lines.join('\n')}\n`, secrets, plain };
}

const { text: ENV_TEXT, secrets: SECRETS, plain: PLAIN } = acceptanceEnv();
const NAMES = Object.keys(SECRETS).sort();
const CANARIES = NAMES.map((k) => `AccCanary-${k.slice(3, 6)}-Qx`);

let aws: AwsWire;
let gcp: GcpWireServer;
let dir: string;

const cloudEnv = () => ({
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL: aws.url,
  AWS_ACCESS_KEY_ID: 'AKIDACCEPT',
  AWS_SECRET_ACCESS_KEY: 'accept-secret',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  METADATA_SERVER_DETECTION: 'none',
});

/** The installed CLI without blocking this process (the wire servers answer from its loop). */
const cli = (args: string[]): Promise<Run> =>
  runNodeAsync([join(dir, '..', 'node_modules/envmux/dist/cli.cjs'), ...args], dir, cloudEnv());

/** No canary in any form, and never a stack trace. */
function expectQuiet(label: string, r: Run): void {
  for (const value of CANARIES) {
    for (const form of [value, Buffer.from(value).toString('base64').replace(/=+$/, '')]) {
      expect(r.stdout.includes(form), `${label} stdout leaks ${form}`).toBe(false);
      expect(r.stderr.includes(form), `${label} stderr leaks ${form}`).toBe(false);
    }
  }
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  aws = await AwsWire.start();
  gcp = await startGcpWire();
  const project = installProject('manage-acceptance', [
    '@aws-sdk/client-secrets-manager@^3',
    '@google-cloud/secret-manager',
  ]);
  dir = writeCase(project, 'app', {
    'envmux.config.mjs': `import { gcp } from 'envmux/providers';
import { OAuth2Client } from 'google-auth-library';
const authClient = new OAuth2Client();
authClient.setCredentials({ access_token: 'accept-token', expiry_date: Date.now() + 3_600_000 });
export default {
  providers: [
    'local',
    gcp({ projectId: 'p1', clientOptions: { apiEndpoint: '127.0.0.1', port: ${gcp.port}, protocol: 'http', fallback: true, authClient } }),
  ],
};
`,
    '.env': ENV_TEXT,
  });
  expect((await cli(['vault', 'init'])).status).toBe(0);
}, 300_000);

afterAll(async () => {
  await aws?.close();
  await gcp?.close();
});

describe('issue 15 acceptance from the packed package', { timeout: 120_000 }, () => {
  it('migrates the 200-key .env into the local vault; --validate proves the same values', async () => {
    const r = await cli(['migrate', '.env', '--to', 'local', '--validate', '--json']);
    expectQuiet('migrate', r);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      ok: true,
      rewritten: true,
      validation: { ok: true, keys: 200 },
    });
    expect(report.items.map((i: { key: string }) => i.key).sort()).toEqual(NAMES);
    expect(report.items.filter((i: { reason: string }) => i.reason === 'entropy')).toHaveLength(40);
    const list = await cli(['list', '--provider', 'local', '--json']);
    expect(JSON.parse(list.stdout).map((i: { name: string }) => i.name)).toEqual(NAMES);
    // The plain settings stay literal in the rewritten file.
    const exported = JSON.parse((await cli(['export', '--format', 'json'])).stdout);
    expect(exported).toEqual({
      ...SECRETS,
      ...Object.fromEntries(
        PLAIN.map((k) => [k, k.endsWith('PORT') ? String(9000 + Number(k.slice(3, 6))) : 'info']),
      ),
    });
  });

  it('plan: the migrated file is 120 reads, 2 batched calls to the vault, 0–120 to GCP', async () => {
    const r = await cli(['plan', '--json', '--rate', '100/day']);
    expectQuiet('plan', r);
    expect(r.status, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan).toMatchObject({ keys: 200, reads: 120, chainReads: 120, dependentReads: 0 });
    expect(
      plan.stores.map((s: { provider: string; calls: unknown }) => [s.provider, s.calls]),
    ).toEqual([
      ['local', { min: 2, max: 2 }],
      ['gcp', { min: 0, max: 120 }],
    ]);
    // 0–120 GCP calls a start at $0.03 per 10,000, 3,041.67 starts a month.
    expect(plan.monthly.callCost.max).toBeCloseTo((120 * 3041.67 * 0.03) / 10_000, 2);
    const text = await cli(['plan', '--rate', '100/day']);
    expect(text.stdout).toMatch(/^local\s+local\s+120\s+100\s+2\s/m);
  });

  it('copies to the memory store with --verify (in the copying process: memory lives there)', async () => {
    const r = await cli(['copy', '--from', 'local', '--to', 'memory', '--verify', '--json']);
    expectQuiet('copy to memory', r);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).counts).toEqual({
      total: 120,
      create: 120,
      update: 0,
      skip: 0,
      failed: 0,
      verified: 120,
      versions: 120,
    });
  });

  it('AWS: a refused 100th create fails one item; the re-run copies only it, with no duplicate', async () => {
    aws.fault({ target: 'secretsmanager.CreateSecret', kind: 'denied', times: 1, after: 99 });
    const first = await cli(['copy', '--from', 'local', '--to', 'aws', '--verify', '--json']);
    expectQuiet('copy to aws', first);
    expect(first.status).toBe(1);
    const report = JSON.parse(first.stdout);
    expect(report.counts).toMatchObject({ total: 120, create: 119, failed: 1, verified: 119 });
    const failed = report.items.filter((i: { status: string }) => i.status === 'failed');
    expect(failed).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ code: 'ACCESS_DENIED' }) }),
    ]);
    expect(aws.secrets.size).toBe(119);
    expect(aws.count('secretsmanager.CreateSecret')).toBe(120);

    aws.resetCounts();
    const again = await cli(['copy', '--from', 'local', '--to', 'aws', '--verify', '--json']);
    expectQuiet('copy to aws (re-run)', again);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).counts).toEqual({
      total: 120,
      create: 1,
      update: 0,
      skip: 119,
      failed: 0,
      verified: 120,
      versions: 1,
    });
    // One write: the item that failed (the listing lacks it: its create, no put first).
    // Nothing else is written again.
    expect(aws.count('secretsmanager.CreateSecret')).toBe(1);
    expect(aws.count('secretsmanager.PutSecretValue')).toBe(0);
    expect(aws.count('secretsmanager.UpdateSecret')).toBe(0);
    expect(aws.secrets.size).toBe(120);
    for (const name of NAMES) {
      const secret = aws.secrets.get(name)!;
      expect(secret.versions, name).toHaveLength(1);
      expect(secret.versions[0]!.string, name).toBe(SECRETS[name]);
    }
  });

  it('GCP: a refused 100th create fails one item; the re-run copies only it, with no duplicate', async () => {
    gcp.fail({ rpc: 'create', status: 403, grpc: 'PERMISSION_DENIED', times: 1, after: 99 });
    const first = await cli(['copy', '--from', 'local', '--to', 'gcp', '--verify', '--json']);
    expectQuiet('copy to gcp', first);
    expect(first.status).toBe(1);
    const report = JSON.parse(first.stdout);
    expect(report.counts).toMatchObject({ total: 120, create: 119, failed: 1, verified: 119 });
    expect(report.items.filter((i: { status: string }) => i.status === 'failed')).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ code: 'ACCESS_DENIED' }) }),
    ]);
    expect(gcp.count('create')).toBe(120);

    const before = gcp.requests.length;
    const again = await cli(['copy', '--from', 'local', '--to', 'gcp', '--verify', '--json']);
    expectQuiet('copy to gcp (re-run)', again);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).counts).toEqual({
      total: 120,
      create: 1,
      update: 0,
      skip: 119,
      failed: 0,
      verified: 120,
      versions: 1,
    });
    const rerun = gcp.requests.slice(before);
    expect(rerun.filter((r) => r.rpc === 'create')).toHaveLength(1);
    // The listing lacks it: the write creates, then adds its one version.
    expect(rerun.filter((r) => r.rpc === 'addVersion')).toHaveLength(1);
    for (const name of NAMES) {
      const secret = gcp.secret(`projects/p1/secrets/${name}`);
      expect(secret?.versions, name).toHaveLength(1);
      expect(secret!.versions[0]!.data.toString('utf8'), name).toBe(SECRETS[name]);
    }
  });
});
