// backup / restore and --actor from the packed package: a local vault with several versions,
// writers and metadata is backed up into one 0600 file holding no plaintext, restored into a second
// vault (values per version, order, writers, description, metadata) and into the memory store;
// re-running writes nothing; a wrong key or an edited file is DECRYPTION_FAILED with nothing
// written; every command's output is free of values; the actor lands in the audit file.

import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCase, type Run, runCli } from './consumer.js';

const config = `import { local } from 'envmux/providers';
export default { providers: ['local', local({ id: 'other', path: 'other/vault.json' })] };
`;
const VALUES = ['BackupCanary-one-Zq', 'BackupCanary-two-Zq\n"q"', 'BackupCanary-three-Zq $x'];
const API = 'BackupCanary-api-Zq';
const ALL = [...VALUES, API];
const KEY = `${Buffer.alloc(32, 3).toString('base64')}\n`;
const WRONG = `${Buffer.alloc(32, 4).toString('base64')}\n`;

const digest = (v: string) => createHash('sha256').update(v).digest('hex');

function expectClean(label: string, text: string): void {
  for (const value of ALL) {
    for (const form of [
      value,
      Buffer.from(value).toString('base64').replace(/=+$/, ''),
      Buffer.from(value).toString('base64url'),
      encodeURIComponent(value),
    ]) {
      expect(text.includes(form), `${label} leaks ${form}:\n${text.slice(0, 1200)}`).toBe(false);
    }
  }
}

function expectQuiet(label: string, r: Run): void {
  expectClean(`${label} stdout`, r.stdout);
  expectClean(`${label} stderr`, r.stderr);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('backup and restore from the packed package', { timeout: 180_000 }, () => {
  let dir: string;
  const cli = (args: string[], env: Record<string, string> = {}, input?: string) => {
    const r = runCli(args, dir, { ENVMUX_VAULT_AUDIT: '1', ...env }, input ? { input } : {});
    expectQuiet(args.slice(0, 2).join(' '), r);
    return r;
  };
  /** Each version's value digest, writer and description, oldest first. */
  const history = (provider: string, name: string) => {
    const versions = JSON.parse(cli(['versions', name, '--provider', provider, '--json']).stdout);
    return versions.map((v: { version: string; updatedBy: string | null }) => {
      const value = runCli(
        ['get', name, '--provider', provider, '--version', v.version, '-n'],
        dir,
      );
      expect(value.status).toBe(0);
      return { digest: digest(value.stdout), updatedBy: v.updatedBy };
    });
  };

  beforeAll(() => {
    dir = makeCase({ 'envmux.config.mjs': config, 'backup.key': KEY, 'wrong.key': WRONG });
    for (const f of ['backup.key', 'wrong.key']) chmodSync(join(dir, f), 0o600);
    expect(runCli(['vault', 'init'], dir).status).toBe(0);
    expect(runCli(['vault', 'init', '--vault', 'other/vault.json'], dir).status).toBe(0);
    const writers = [['--actor', 'alice'], ['--actor', 'bob'], []];
    for (const [i, value] of VALUES.entries()) {
      const r = cli(
        ['set', 'db/password', '--provider', 'local', '--description', `v${i + 1}`, ...writers[i]!],
        i === 2 ? { ENVMUX_ACTOR: 'ci:deploy-bot' } : {},
        value,
      );
      expect(r.status, r.stderr).toBe(0);
    }
    const r = cli(['vault', 'set', 'api/key', '--meta', 'team=core', '--actor', 'carol'], {}, API);
    expect(r.status, r.stderr).toBe(0);
  });

  it('versions shows who wrote each version; the audit file records the actor', () => {
    const table = cli(['versions', 'db/password', '--provider', 'local']).stdout;
    expect(table.split('\n')[0]).toMatch(/UPDATED BY$/);
    expect(table).toMatch(/^1 .* alice$/m);
    expect(table).toMatch(/^3 .* ci:deploy-bot$/m);
    const audit = cli(['audit', '--actor', 'carol', '--json']);
    expect(audit.status).toBe(0);
    expect(JSON.parse(audit.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ actor: 'carol', action: 'set' })]),
    );
    const bad = runCli(['get', 'api/key', '--actor', 'a\u0007b'], dir);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^envmux: CONFIG: --actor holds control characters/);
  });

  it('backup writes one 0600 file with every version and no plaintext', () => {
    const r = cli([
      'backup',
      '--from',
      'local',
      '--out',
      'store.backup',
      '--key-file',
      'backup.key',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'envmux backup: local → store.backup: 2 secrets, 4 versions (raw key)',
    );
    expect(statSync(join(dir, 'store.backup')).mode & 0o777).toBe(0o600);
    expectClean('the backup file', readFileSync(join(dir, 'store.backup'), 'utf8'));
    const again = cli([
      'backup',
      '--from',
      'local',
      '--out',
      'store.backup',
      '--key-file',
      'backup.key',
    ]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^envmux: CONFIG: store.backup already exists/);
  });

  it('restore into a second vault: same values, order, writers and metadata; a re-run writes nothing', () => {
    const expected = history('local', 'db/password');
    const r = cli([
      'restore',
      'store.backup',
      '--to',
      'other',
      '--key-file',
      'backup.key',
      '--verify',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      allVersions: true,
      counts: { create: 2, versions: 4, verified: 2, failed: 0 },
    });
    expect(history('other', 'db/password')).toEqual(expected);
    expect(expected.map((v: { updatedBy: string }) => v.updatedBy)).toEqual([
      'alice',
      'bob',
      'ci:deploy-bot',
    ]);
    const list = JSON.parse(cli(['vault', 'list', '--vault', 'other/vault.json', '--json']).stdout);
    expect(list.find((i: { name: string }) => i.name === 'api/key').metadata).toMatchObject({
      team: 'core',
      'envmux.actor': 'carol',
    });
    const again = cli(['restore', 'store.backup', '--to', 'other', '--key-file', 'backup.key']);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('0 created, 0 updated, 2 skipped, 0 failed, 0 versions written');
    expect(history('other', 'db/password')).toHaveLength(3);
    const memory = cli(['restore', 'store.backup', '--to', 'memory', '--key-file', 'backup.key']);
    expect(memory.status).toBe(0);
    expect(memory.stderr).toContain(
      '2 created, 0 updated, 0 skipped, 0 failed, 4 versions written',
    );
  });

  it('a wrong key or an edited backup is DECRYPTION_FAILED and nothing is written', () => {
    const before = readFileSync(join(dir, 'other/vault.json'), 'utf8');
    const wrong = cli([
      'restore',
      'store.backup',
      '--to',
      'other',
      '--key-file',
      'wrong.key',
      '--overwrite',
    ]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(
      /^envmux: DECRYPTION_FAILED: the key or passphrase does not open backup/,
    );
    const text = readFileSync(join(dir, 'store.backup'), 'utf8');
    writeFileSync(join(dir, 'edited.backup'), text.replace('"version":2,', '"version":7,'));
    const edited = cli(['restore', 'edited.backup', '--to', 'other', '--key-file', 'backup.key']);
    expect(edited.status).toBe(1);
    expect(edited.stderr).toMatch(/^envmux: DECRYPTION_FAILED: backup edited.backup/);
    const lines = text.split('\n');
    writeFileSync(
      join(dir, 'dropped.backup'),
      lines.filter((l) => !l.includes('"name":"db/password","version":2,')).join('\n'),
    );
    const dropped = cli([
      'restore',
      'dropped.backup',
      '--to',
      'memory',
      '--key-file',
      'backup.key',
    ]);
    expect(dropped.status).toBe(1);
    expect(dropped.stderr).toMatch(
      /^envmux: DECRYPTION_FAILED: backup dropped.backup was modified/,
    );
    const noKey = cli(['restore', 'store.backup', '--to', 'memory']);
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toMatch(
      /^envmux: CONFIG: backup store.backup is encrypted with a raw key/,
    );
    expect(readFileSync(join(dir, 'other/vault.json'), 'utf8')).toBe(before);
  });

  it('a passphrase backup: ENVMUX_VAULT_PASSPHRASE writes and opens it; a wrong one does not', () => {
    const env = { ENVMUX_VAULT_PASSPHRASE: 'correct horse battery' };
    const r = cli(['backup', '--from', 'local', '--out', 'pass.backup', '--passphrase'], env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('(passphrase)');
    expectClean('the passphrase backup', readFileSync(join(dir, 'pass.backup'), 'utf8'));
    const wrong = cli(['restore', 'pass.backup', '--to', 'memory'], {
      ENVMUX_VAULT_PASSPHRASE: 'wrong horse',
    });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^envmux: DECRYPTION_FAILED/);
    const ok = cli(['restore', 'pass.backup', '--to', 'memory', '--latest-only', '--dry-run'], env);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('create  db/password');
  });
});
