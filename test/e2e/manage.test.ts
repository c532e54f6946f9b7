// The store commands from the packed package: a 200-key .env migrated into the local vault with
// --validate, copied to a second local vault with --verify (and resumed), get/list/versions/set/rm,
// every export format read back, rollback — and a leak scan of every command's stdout and stderr
// (raw, base64, base64url, URL-encoded) except the stdout of get and export.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeCase, nodeBin, type Run, runCli } from './consumer.js';

// The first vault by type ('local' opens its key before reading): a `local()` instance read by
// two concurrent batches on first use races on opening its key (reported; src/providers/local).
const config = `import { local } from 'envmux/providers';
export default { providers: ['local', local({ id: 'other', path: 'other/vault.json' })] };
`;

/** 200 keys: 160 secrets of every quoting (values with quotes, $, spaces, newlines), 40 settings. */
function bigEnv(): { text: string; secrets: Record<string, string> } {
  const lines = ['# app settings', ''];
  const secrets: Record<string, string> = {};
  for (let i = 0; i < 200; i++) {
    const n = String(i).padStart(3, '0');
    const v = `LeakCanary-${n}-Zq`;
    switch (i % 5) {
      case 0:
        lines.push(`S${n}_PASSWORD=${v}`);
        secrets[`S${n}_PASSWORD`] = v;
        break;
      case 1:
        lines.push(`S${n}_TOKEN="${v} 'q' $x"`);
        secrets[`S${n}_TOKEN`] = `${v} 'q' $x`;
        break;
      case 2:
        lines.push(`# pem ${n}`, `S${n}_PRIVATE_KEY="-----BEGIN-----\\n${v}\\n-----END-----"`);
        secrets[`S${n}_PRIVATE_KEY`] = `-----BEGIN-----\n${v}\n-----END-----`;
        break;
      case 3:
        lines.push(`export S${n}_SECRET='${v} "dq" \`bt\`'`);
        secrets[`S${n}_SECRET`] = `${v} "dq" \`bt\``;
        break;
      default:
        lines.push(`S${n}_PORT=${8000 + i}`);
    }
  }
  return { text: `${lines.join('\n')}\n`, secrets };
}

const { text: ENV_TEXT, secrets: SECRETS } = bigEnv();
const CANARIES = Object.keys(SECRETS).map((k) => `LeakCanary-${k.slice(1, 4)}-Zq`);

function forms(value: string): string[] {
  const b64 = Buffer.from(value).toString('base64');
  return [
    value,
    b64.replace(/=+$/, ''),
    Buffer.from(value).toString('base64url'),
    encodeURIComponent(value),
  ];
}

/** No canary, in any form, in `text`. */
function expectClean(label: string, text: string): void {
  for (const value of CANARIES) {
    for (const form of forms(value)) {
      expect(text.includes(form), `${label} leaks ${form}:\n${text.slice(0, 1500)}`).toBe(false);
    }
  }
}

/** Both streams clean, and never a stack trace. */
function expectQuiet(label: string, r: Run, stdoutToo = true): void {
  if (stdoutToo) expectClean(`${label} stdout`, r.stdout);
  expectClean(`${label} stderr`, r.stderr);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('store commands from the packed package', { timeout: 180_000 }, () => {
  let dir: string;

  beforeAll(() => {
    dir = makeCase({ 'envmux.config.mjs': config, '.env': ENV_TEXT });
    expect(runCli(['vault', 'init'], dir).status).toBe(0);
    expect(runCli(['vault', 'init', '--vault', 'other/vault.json'], dir).status).toBe(0);
  });

  it('migrate --dry-run shows a masked diff and changes nothing', () => {
    const r = runCli(['migrate', '.env', '--to', 'local', '--dry-run'], dir);
    expectQuiet('migrate --dry-run', r);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      '-   3 S000_PASSWORD=***\n+   3 S000_PASSWORD=$<secret:S000_PASSWORD>',
    );
    expect(r.stderr).toContain('160 secrets would move to local (160 new');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(ENV_TEXT);
  });

  it('migrate a 200-key .env into the local vault with --validate', () => {
    const r = runCli(
      ['migrate', '.env', '--to', 'local', '--validate', '--json'],
      dir,
      {},
      {
        timeout: 60_000,
      },
    );
    expectQuiet('migrate', r);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      ok: true,
      rewritten: true,
      validation: { ok: true, keys: 200 },
    });
    expect(report.items).toHaveLength(160);
    const rewritten = readFileSync(join(dir, '.env'), 'utf8');
    expectClean('rewritten .env', rewritten);
    expect(rewritten).toContain('# pem 002\nS002_PRIVATE_KEY="$<secret:S002_PRIVATE_KEY>"\n');
    expect(rewritten).toContain('export S003_SECRET="$<secret:S003_SECRET>"\nS004_PORT=8004\n');
    expect(readFileSync(join(dir, '.env.envmux-backup'), 'utf8')).toBe(ENV_TEXT);
  }, 180_000);

  it('list and versions show names and metadata, never values', () => {
    const list = runCli(['list', '--provider', 'local'], dir);
    expectQuiet('list', list);
    expect(list.status).toBe(0);
    expect(list.stdout.split('\n').filter((l) => l.includes(' local '))).toHaveLength(160);
    const json = runCli(['list', 'S00*', '--provider', 'local', '--json'], dir);
    expectQuiet('list --json', json);
    expect(JSON.parse(json.stdout).map((i: { name: string }) => i.name)).toEqual([
      'S000_PASSWORD',
      'S001_TOKEN',
      'S002_PRIVATE_KEY',
      'S003_SECRET',
      'S005_PASSWORD',
      'S006_TOKEN',
      'S007_PRIVATE_KEY',
      'S008_SECRET',
    ]);
    const versions = runCli(['versions', 'S001_TOKEN', '--provider', 'local', '--json'], dir);
    expectQuiet('versions', versions);
    expect(JSON.parse(versions.stdout)).toEqual([expect.objectContaining({ version: '1' })]);
  });

  it('copy local → a second local vault with --verify; a re-run writes nothing', () => {
    const plan = runCli(['copy', '--from', 'local', '--to', 'other', '--dry-run'], dir);
    expectQuiet('copy --dry-run', plan);
    expect(plan.stderr).toContain('160 secrets: 160 would create');
    const r = runCli(
      ['copy', '--from', 'local', '--to', 'other', '--verify', '--json'],
      dir,
      {},
      {
        timeout: 60_000,
      },
    );
    expectQuiet('copy', r);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).counts).toEqual({
      total: 160,
      create: 160,
      update: 0,
      skip: 0,
      failed: 0,
      verified: 160,
      // Versions written: one per created secret (the latest only, without --all-versions).
      versions: 160,
    });
    const again = runCli(['copy', '--from', 'local', '--to', 'other', '--overwrite'], dir);
    expectQuiet('copy again', again);
    expect(again.stderr).toContain('0 created, 0 updated, 160 skipped, 0 failed');
    const versions = runCli(['versions', 'S000_PASSWORD', '--provider', 'other', '--json'], dir);
    expect(JSON.parse(versions.stdout)).toHaveLength(1);
  }, 180_000);

  it('get prints exactly the value, from either store', () => {
    for (const provider of ['local', 'other']) {
      const r = runCli(['get', 'S002_PRIVATE_KEY', '--provider', provider, '-n'], dir);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(SECRETS.S002_PRIVATE_KEY);
      expectClean('get stderr', r.stderr);
    }
  });

  it('set reads stdin (never argv), rm deletes; neither prints the value', () => {
    const set = runCli(
      ['set', 'new/token', '--provider', 'other'],
      dir,
      {},
      {
        input: 'LeakCanary-999-Zq\n',
      },
    );
    expect(set.status).toBe(0);
    expect(set.stderr).toBe('envmux: set "new/token" in other (version 1)\n');
    expect(runCli(['get', 'new/token', '--provider', 'other'], dir).stdout).toBe(
      'LeakCanary-999-Zq\n',
    );
    const rm = runCli(['rm', 'new/token', '--provider', 'other'], dir);
    expect(rm.status).toBe(0);
    expect(rm.stderr).toBe('envmux: deleted "new/token" from other\n');
  });

  it('rotate writes a new version without printing it; status reports each store', () => {
    const before = runCli(['get', 'S000_PASSWORD', '--provider', 'other', '-n'], dir).stdout;
    const r = runCli(['rotate', 'S000_PASSWORD', '--provider', 'other'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('envmux: rotated "S000_PASSWORD" in other (version 2)\n');
    const after = runCli(['get', 'S000_PASSWORD', '--provider', 'other', '-n'], dir).stdout;
    expect(after).not.toBe(before);
    expect(r.stderr).not.toContain(after);
    const previous = runCli(
      ['get', 'S000_PASSWORD', '--provider', 'other', '--version', 'previous', '-n'],
      dir,
    );
    expect(previous.stdout).toBe(before);
    const status = runCli(['status', '--json'], dir);
    expectQuiet('status', status);
    expect(status.status).toBe(0);
    expect(
      JSON.parse(status.stdout).map((s: { provider: string; ok: boolean }) => [s.provider, s.ok]),
    ).toEqual([
      ['local', true],
      ['other', true],
    ]);
  });

  it('doctor checks every store; explain names file:line, layer and store, never the value', () => {
    const doctor = runCli(['doctor', '--json'], dir);
    expectQuiet('doctor', doctor);
    expect(doctor.status).toBe(0);
    const report = JSON.parse(doctor.stdout);
    expect(report).toMatchObject({ ok: true, config: 'envmux.config.mjs', problems: [] });
    expect(report.stores.map((s: { provider: string }) => s.provider)).toEqual(['local', 'other']);

    const explain = runCli(['explain', 'S002_PRIVATE_KEY'], dir);
    expectQuiet('explain', explain);
    expect(explain.status).toBe(0);
    expect(explain.stdout).toContain('set by      .env:6 (wins)');
    expect(explain.stdout).toContain('references  $<secret:S002_PRIVATE_KEY>');
    expect(explain.stdout).toContain('served by   local');
    const env = runCli(['explain', 'S000_PASSWORD'], dir, { S000_PASSWORD: 'LeakCanary-000-Zq' });
    expect(env.stdout).toContain('the process environment (it wins over the files)');
    expectQuiet('explain (environment)', env);
    const missing = runCli(['explain', 'NOPE'], dir);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^envmux: NOT_FOUND: no env file sets NOPE/);
  });

  it('audit reads the vault audit file with filters; entries hold names, never values', () => {
    const audited = { ENVMUX_VAULT_AUDIT: '1' };
    expect(runCli(['get', 'S001_TOKEN', '--provider', 'local'], dir, audited).status).toBe(0);
    expect(runCli(['get', 'nope', '--provider', 'local'], dir, audited).status).toBe(1);
    const all = runCli(['audit', '--json'], dir);
    expectQuiet('audit', all);
    expect(all.status).toBe(0);
    const entries = JSON.parse(all.stdout);
    expect(
      entries.some(
        (e: { action: string; key: string }) => e.action === 'get' && e.key === 'S001_TOKEN',
      ),
    ).toBe(true);
    const gets = runCli(['audit', '--action', 'get', '--key', 'S00*', '--limit', '1'], dir);
    expectQuiet('audit table', gets);
    expect(gets.stdout).toMatch(/^TIME\s+ACTION\s+KEY/);
    expect(gets.stdout.trim().split('\n')).toHaveLength(2);
    expect(gets.stdout).toContain('S001_TOKEN');
    const bad = runCli(['audit', '--since', 'yesterday-ish'], dir);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^envmux: CONFIG: --since/);
  });

  it('export: every format reads back to the original values', () => {
    const json = runCli(['export', '--format', 'json'], dir);
    expectClean('export stderr', json.stderr);
    expect(json.status).toBe(0);
    const values = JSON.parse(json.stdout);
    for (const [k, v] of Object.entries(SECRETS)) expect(values[k]).toBe(v);
    expect(values.S004_PORT).toBe('8004');

    const shell = runCli(['export', '--format', 'shell', '-o', 'env.sh'], dir);
    expect(shell.status).toBe(0);
    expect(shell.stdout).toBe('');
    for (const key of ['S001_TOKEN', 'S002_PRIVATE_KEY', 'S003_SECRET']) {
      const out = spawnSync('bash', ['-c', `source env.sh; printf %s "$${key}"`], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(out.stdout).toBe(SECRETS[key]);
    }

    const dotenv = runCli(['export', '--format', 'dotenv', '-o', 'exported.env'], dir);
    expect(dotenv.status).toBe(0);
    const back = runCli(['export', '--format', 'json', '-f', 'exported.env'], dir);
    expect(JSON.parse(back.stdout)).toEqual(values);

    const k8s = runCli(['export', '--format', 'k8s-secret', '--name', 'app'], dir);
    const data = / {2}S002_PRIVATE_KEY: (\S+)/.exec(k8s.stdout)![1]!;
    expect(Buffer.from(data, 'base64').toString()).toBe(SECRETS.S002_PRIVATE_KEY);

    writeFileSync(join(dir, 'gh.env'), '');
    const gh = runCli(['export', '--format', 'github'], dir, { GITHUB_ENV: join(dir, 'gh.env') });
    expect(gh.status).toBe(0);
    expect(gh.stdout.split('\n')[0]).toMatch(/^::add-mask::/);
    expect(gh.stdout).toContain(`::add-mask::${SECRETS.S000_PASSWORD}\n`);
    expect(gh.stdout).not.toContain('<<');
    const ghEnv = readFileSync(join(dir, 'gh.env'), 'utf8');
    expect(ghEnv).toMatch(
      /^S000_PASSWORD<<ghadelimiter_\w+\nLeakCanary-000-Zq\nghadelimiter_\w+\n/,
    );

    const gitlab = runCli(['export', '--format', 'gitlab'], dir);
    expect(gitlab.status).toBe(1);
    expect(gitlab.stderr).toMatch(/^envmux: CONFIG: the value of S002_PRIVATE_KEY spans lines/);
    expectQuiet('export gitlab error', gitlab);
  });

  it('export refuses a terminal unless --force', () => {
    const cli = join(dir, '..', 'node_modules/envmux/dist/cli.cjs');
    const r = spawnSync('script', ['-qec', `${nodeBin} ${cli} export --format json`, '/dev/null'], {
      cwd: dir,
      encoding: 'utf8',
      env: cleanEnv(),
    });
    expect(r.stdout).toContain('refusing to print secret values to a terminal');
    expectClean('export to a tty', r.stdout);
    expect(r.status).toBe(2);
  });

  it('errors are one coded line with a hint, exit 1 or 2, and no value', () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['get', 'missing', '--provider', 'local'], 1, /^envmux: NOT_FOUND: /],
      [['get', 'x', '--provider', 'nosuch'], 1, /^envmux: CONFIG: /],
      [['copy', '--from', 'local'], 2, /required option '--to/],
      [
        ['copy', '--from', 'local', '--to', 'other', '--skip-existing', '--overwrite'],
        2,
        /exclude/,
      ],
      [['copy', '--from', 'local', '--to', 'other', '--rename', 'bad'], 2, /old\/\*=new/],
      [['migrate', '.env', '--delete-uploaded'], 2, /--rollback/],
      [['migrate', 'nope.env', '--to', 'local'], 1, /^envmux: CONFIG: env file not found/],
      [['export', '--format', 'yaml'], 2, /unknown format/],
      [['list', '--bogus'], 2, /unknown option/],
      [['versions', 'missing', '--provider', 'local'], 1, /^envmux: NOT_FOUND: no versions/],
    ];
    for (const [args, status, pattern] of cases) {
      const r = runCli(args, dir);
      expect(r.stderr, args.join(' ')).toMatch(pattern);
      expect(r.status, args.join(' ')).toBe(status);
      expectQuiet(args.join(' '), r);
    }
    const help = runCli(['copy', '--help'], dir);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 done, 1');
  });

  it('migrate --rollback --delete-uploaded restores the file and removes what it created', () => {
    const r = runCli(
      ['migrate', '.env', '--rollback', '--delete-uploaded'],
      dir,
      {},
      {
        timeout: 60_000,
      },
    );
    expectQuiet('rollback', r);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('restored from its backup; 160 secrets deleted');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(ENV_TEXT);
    const list = runCli(['list', '--provider', 'local', '--json'], dir);
    expect(JSON.parse(list.stdout)).toEqual([]);
  }, 180_000);
});
