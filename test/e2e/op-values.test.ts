// A plain `op://vault/item/field` value, as `op run` users write it, resolved by every entry point of
// the packed package (preload -r and --import, loadConfig, run, check) through a stand-in `op` on
// PATH (test/providers/op/fake-op.cjs); single-quoted values stay literal; no op fails closed.

import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { installFakeCli } from '../providers/fake-cli.js';
import { makeCase, runCli, runNode } from './consumer.js';

const script = fileURLToPath(new URL('../providers/op/fake-op.cjs', import.meta.url));
const PASSWORD = 'op-e2e-pass-9d1c';
const fake = installFakeCli('op', script, {
  signedIn: true,
  vaults: {
    prod: {
      db: { password: PASSWORD, username: 'app-user', 'one-time password': '123456' },
      dup: { __duplicates: true },
    },
  },
});
afterAll(() => fake.close());

const env = (extra: Record<string, string> = {}) => ({
  PATH: fake.path,
  FAKE_OP_STATE: fake.stateFile,
  ENVMUX_PROVIDERS: 'op,env',
  // The stand-in op is a Node script (~1 s a process on a loaded machine; the real op is Go).
  ENVMUX_TIMEOUT: '60000',
  ENVMUX_DEADLINE: '120000',
  ...extra,
});

const dotenv = [
  'A=op://prod/db/password',
  'B="op://prod/db/username"',
  "C='op://prod/db/password'",
  'D=see op://prod/db/password',
  'E=op://prod/db/one-time password?attribute=otp',
  'F=plain',
  '',
].join('\n');
const app =
  'console.log(JSON.stringify(Object.fromEntries(["A","B","C","D","E","F"].map((k) => [k, process.env[k]]))));\n';
const expected = {
  A: PASSWORD,
  B: 'app-user',
  C: 'op://prod/db/password',
  D: 'see op://prod/db/password',
  E: '123456',
  F: 'plain',
};

describe('op:// values (packed package, stand-in op CLI)', { timeout: 400_000 }, () => {
  it('node -r envmux/register resolves a whole op:// value; quoted literal and substrings stay text', () => {
    const dir = makeCase({ '.env': dotenv, 'app.cjs': app });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, env(), { timeout: 150_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('node --import envmux/register resolves them the same way', () => {
    const dir = makeCase({ '.env': dotenv, 'app.mjs': app });
    const r = runNode(['--import', 'envmux/register', 'app.mjs'], dir, env(), { timeout: 150_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('loadConfig resolves them', () => {
    const dir = makeCase({
      '.env': dotenv,
      'load.mjs': `import { loadConfig } from 'envmux';
const config = await loadConfig({ deadline: '150s' });
console.log(JSON.stringify({ A: config.A, B: config.B, C: config.C, E: config.E }));
`,
    });
    const r = runNode(['load.mjs'], dir, env(), { timeout: 150_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      A: PASSWORD,
      B: 'app-user',
      C: 'op://prod/db/password',
      E: '123456',
    });
  });

  it('envmux run gives the child the resolved values', () => {
    const dir = makeCase({ '.env': dotenv, 'app.cjs': app });
    // --no-mask: the child prints the values to show it has them (run masks them by default).
    const r = runCli(['run', '--no-mask', '--', process.execPath, 'app.cjs'], dir, env(), {
      timeout: 150_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
    const masked = runCli(['run', '--', process.execPath, 'app.cjs'], dir, env(), {
      timeout: 150_000,
    });
    expect(masked.stdout).not.toContain(PASSWORD);
  });

  it('envmux check and check --json count an op:// value as a reference and name its problems, no value', () => {
    const good = makeCase({ '.env': dotenv });
    const ok = runCli(['check'], good, env(), { timeout: 150_000 });
    expect(ok.stderr).toContain('envmux check: ok');
    expect(ok.stderr).toContain('3 references resolved');
    expect(ok.status).toBe(0);
    const bad = makeCase({
      '.env': 'A=op://prod/missing/password\nB=op://prod/dup/password\nC=op://prod/db/password\n',
    });
    const r = runCli(['check'], bad, env(), { timeout: 150_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('.env:1 A op://prod/missing/password: NOT_FOUND');
    expect(r.stderr).toContain('.env:2 B op://prod/dup/password: INVALID_REFERENCE');
    expect(r.stderr).not.toContain(PASSWORD);
    const json = runCli(['check', '--json'], bad, env(), { timeout: 150_000 });
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.problems.map((p: { key: string; code: string }) => [p.key, p.code])).toEqual([
      ['A', 'NOT_FOUND'],
      ['B', 'INVALID_REFERENCE'],
    ]);
    expect(json.stdout + json.stderr).not.toContain(PASSWORD);
  });

  it('without op in ENVMUX_PROVIDERS the type is still read (like $<op:...>); no op CLI fails closed with CONFIG', () => {
    const dir = makeCase({ '.env': 'A=op://prod/db/password\n', 'app.cjs': app });
    const fromType = runNode(
      ['-r', 'envmux/register', 'app.cjs'],
      dir,
      env({ ENVMUX_PROVIDERS: 'env' }),
      { timeout: 150_000 },
    );
    expect(fromType.status).toBe(0);
    expect(JSON.parse(fromType.stdout).A).toBe(PASSWORD);
    const noCli = runNode(
      ['-r', 'envmux/register', 'app.cjs'],
      dir,
      env({ ENVMUX_PROVIDERS: 'env', PATH: '/nonexistent-bin' }),
      { timeout: 150_000 },
    );
    expect(noCli.status).toBe(1);
    expect(noCli.stdout).toBe('');
    expect(noCli.stderr).toContain('.env:1 A op://prod/db/password: CONFIG');
    expect(noCli.stderr).toContain('1Password CLI');
  });

  it('an op:// value that also holds $ is INVALID_REFERENCE, not a half-resolved string', () => {
    const dir = makeCase({ '.env': 'A=op://prod/$<env:HOME>/password\n', 'app.cjs': app });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, env(), { timeout: 150_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('INVALID_REFERENCE');
    expect(r.stderr).toContain('op://');
  });
});
