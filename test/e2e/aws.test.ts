// The `aws` provider from the packed package (issue 5 acceptance): a consumer project with only
// envmux and @aws-sdk/client-secrets-manager installed resolves `$<aws:prod/db#password>` against
// the AWS wire server (run in this process), and never loads the GCP or Azure SDKs; the preload
// with ENVMUX_PROVIDERS=aws and no references loads no SDK; without the SDK, the error names the
// exact `npm install` line.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsWire } from '../providers/aws/wire-server.js';
import { installProject, makeCase, runNodeAsync, writeCase } from './consumer.js';

let wire: AwsWire;
let project: string;

/** A fresh folder in the AWS consumer project holding `files`. */
const awsCase = (name: string, files: Record<string, string>) => writeCase(project, name, files);

const awsEnv = () => ({
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL: wire.url,
  AWS_ACCESS_KEY_ID: 'AKIDE2E',
  AWS_SECRET_ACCESS_KEY: 'e2e-secret',
  // Our own tests only: the SDK warns on Node 20 (documented in the README).
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // Never read the machine's AWS profile.
  AWS_CONFIG_FILE: '/nonexistent',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
});

/** Lines of the Node CJS loader trace (NODE_DEBUG=module, main thread) that match `pattern`. */
const loaded = (stderr: string, pattern: RegExp) =>
  [...new Set(stderr.split('\n').filter((line) => pattern.test(line)))].length;

beforeAll(async () => {
  wire = await AwsWire.start();
  wire.putSecret('prod/db', JSON.stringify({ user: 'app', password: 'e2e-pw-$<not-a-ref>' }));
  // A project of its own beside the shared consumer: envmux from the same tarball, plus the one SDK.
  project = installProject('aws-consumer', ['@aws-sdk/client-secrets-manager@^3']);
}, 300_000);

afterAll(async () => {
  await wire?.close();
});

describe('aws provider from the installed package', () => {
  const app = `const cloud = Object.keys(require.cache).filter((k) => /@google-cloud|@azure|@aws-sdk/.test(k));
console.log(JSON.stringify({ DB_PASSWORD: process.env.DB_PASSWORD, DB_USER: process.env.DB_USER, cloud }));
`;

  it('node -r envmux/register resolves $<aws:prod/db#password>', async () => {
    const dir = awsCase('register', {
      '.env': 'DB_PASSWORD=$<aws:prod/db#password>\nDB_USER="$<secret:prod/db#user>"\n',
      'app.cjs': app,
    });
    wire.resetCounts();
    const r = await runNodeAsync(['-r', 'envmux/register', 'app.cjs'], dir, awsEnv());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Resolved in the preload's worker: the app's own module cache holds no SDK at all. (The
    // worker's own module cache is not visible from here; the loadConfig test below checks the same
    // lazy path in-process.)
    expect(JSON.parse(r.stdout)).toEqual({
      DB_PASSWORD: 'e2e-pw-$<not-a-ref>',
      DB_USER: 'app',
      cloud: [],
    });
    // One document, two fields: one batch call.
    expect(wire.count('secretsmanager.BatchGetSecretValue')).toBe(1);
    expect(wire.count('secretsmanager.GetSecretValue')).toBe(0);
  });

  it('loadConfig in-process: the module cache holds the one SDK, no GCP or Azure', async () => {
    const dir = awsCase('load', {
      '.env': 'DB_PASSWORD=$<aws:prod/db#password>\n',
      'load.mjs': `import { createRequire } from 'node:module';
import { loadConfig } from 'envmux';
const config = await loadConfig();
const keys = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({
  DB_PASSWORD: config.DB_PASSWORD,
  sm: keys.some((k) => /@aws-sdk[\\/\\\\]client-secrets-manager/.test(k)),
  others: keys.filter((k) => /@google-cloud|@azure/.test(k)),
}));
`,
    });
    const r = await runNodeAsync(['load.mjs'], dir, awsEnv());
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      DB_PASSWORD: 'e2e-pw-$<not-a-ref>',
      sm: true,
      others: [],
    });
  });

  it('ENVMUX_PROVIDERS=aws with no references: the preload imports no SDK', async () => {
    const dir = awsCase('no-refs', {
      '.env': 'PLAIN=1\nPASSWORD=literal$value\n',
      'app.cjs': `console.log(JSON.stringify({ PLAIN: process.env.PLAIN, sdk: Object.keys(require.cache).filter((k) => /@aws-sdk|@smithy|[/\\\\]aws-[^/\\\\]*\\.c?js$/.test(k)) }));\n`,
    });
    const r = await runNodeAsync(['-r', 'envmux/register', 'app.cjs'], dir, {
      ...awsEnv(),
      ENVMUX_PROVIDERS: 'aws',
      NODE_DEBUG: 'module',
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ PLAIN: '1', sdk: [] });
    expect(loaded(r.stderr, /@aws-sdk|@smithy/)).toBe(0);
    expect(r.stderr).not.toMatch(/Worker|register-worker/);
  });
});

describe('aws provider without its SDK installed', () => {
  it('fails closed with the exact npm install line', async () => {
    // The shared consumer project has envmux and zod only.
    const dir = makeCase({
      '.env': 'DB_PASSWORD=$<aws:prod/db#password>\n',
      'app.cjs': 'console.log("app ran");\n',
    });
    const r = await runNodeAsync(['-r', 'envmux/register', 'app.cjs'], dir, awsEnv());
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('.env:1 DB_PASSWORD $<aws:prod/db#password>: CONFIG');
    expect(r.stderr).toContain('npm install @aws-sdk/client-secrets-manager');
  });
});

describe('envmux rotate --grace, then rotate --retire from another process (aws)', () => {
  it('the second process retires the old version after the grace period, and not before', async () => {
    const old = wire.putSecret('ops/api-key', 'e2e-old-api-key');
    const dir = awsCase('rotate-retire', { '.env': '' });
    const cli = (...args: string[]) =>
      runNodeAsync([join(project, 'node_modules/envmux/dist/cli.cjs'), ...args], dir, awsEnv());
    const rotated = await cli('rotate', 'ops/api-key', '--provider', 'aws', '--grace', '2s');
    expect(rotated.status).toBe(0);
    expect(rotated.stderr + rotated.stdout).toContain(`version ${old} stays readable as previous`);
    const early = await cli('rotate', '--retire', '--provider', 'aws');
    expect(early.status).toBe(0);
    expect(early.stderr).toContain('nothing to retire');
    await new Promise((r) => setTimeout(r, 2_100));
    const late = await cli('rotate', '--retire', '--provider', 'aws');
    expect(late.status).toBe(0);
    expect(late.stderr).toContain(`retired "ops/api-key" version ${old} in aws`);
    for (const r of [rotated, early, late])
      expect(r.stdout + r.stderr).not.toContain('e2e-old-api-key');
  }, 60_000);
});
