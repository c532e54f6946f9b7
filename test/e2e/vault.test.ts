// The local vault from the packed package: the issue's acceptance (init, set from stdin, a .env
// reference, `node -r envmux/register` prints it, a reviewable git diff), passphrase vaults through
// the preload, unlock sessions, rotation, bad keys and tampering as clean errors, and Argon2id
// native vs hash-wasm on the Node under test.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCase, nodeBin, runCli, runNode } from './consumer.js';

const hasGit = spawnSync('git', ['--version']).status === 0;
const app =
  'console.log(JSON.stringify({ DB_PASSWORD: process.env.DB_PASSWORD, URL: process.env.URL }));\n';
const files = {
  '.env': 'DB_PASSWORD=$<secret:db/password>\nURL=postgres://app:$<local:db/password>@db/app\n',
  'app.js': app,
  'app.mjs': app,
};
const cheap = ['--kdf-memory', '1', '--kdf-iterations', '1', '--kdf-parallelism', '1'];

function git(args: string[], cwd: string): string {
  const r = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('acceptance: a fresh project on the local vault', () => {
  it('init, set from stdin, .env reference, node -r envmux/register prints it', () => {
    const dir = makeCase(files);
    const init = runCli(['vault', 'init'], dir);
    expect(init.status).toBe(0);
    expect(init.stdout).toBe('');
    expect(init.stderr).toContain('created .envmux/vault.json');
    const set = runCli(['vault', 'set', 'db/password'], dir, {}, { input: 's3cret pw$(x)\n' });
    expect(set.stderr).toBe('db/password: version 1\n');
    expect(set.status).toBe(0);
    for (const args of [
      ['-r', 'envmux/register', 'app.js'],
      ['--import', 'envmux/register', 'app.mjs'],
    ]) {
      const r = runNode(args, dir);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        DB_PASSWORD: 's3cret pw$(x)',
        URL: 'postgres://app:s3cret pw$(x)@db/app',
      });
    }
    // The preload resolved in-thread (raw key, no worker): ENVMUX_DEBUG names the provider.
    const debug = runNode(['-r', 'envmux/register', 'app.js'], dir, { ENVMUX_DEBUG: '1' });
    expect(debug.stderr).toContain('DB_PASSWORD ← .env:1 via local');
    expect(debug.stdout).not.toContain('envmux');
  });

  it.runIf(hasGit)(
    'git diff after a set touches only that entry’s lines; the key is ignored',
    () => {
      const dir = makeCase(files);
      git(['init', '-q'], dir);
      expect(runCli(['vault', 'init'], dir).status).toBe(0);
      for (const [name, value] of [
        ['db/password', 'one'],
        ['api/token', 'tok'],
        ['z/last', 'zz'],
      ] as const) {
        expect(runCli(['vault', 'set', name], dir, {}, { input: value }).status).toBe(0);
      }
      git(['add', '-A'], dir);
      git(['commit', '-qm', 'vault'], dir);
      const tracked = git(['ls-files'], dir);
      expect(tracked).toContain('.envmux/vault.json');
      expect(tracked).not.toContain('vault.key');
      expect(runCli(['vault', 'set', 'db/password'], dir, {}, { input: 'two' }).status).toBe(0);
      expect(git(['diff', '--numstat', '--', '.envmux/vault.json'], dir).trim()).toBe(
        '1\t0\t.envmux/vault.json',
      );
      const added = git(['diff', '-U0', '--', '.envmux/vault.json'], dir)
        .split('\n')
        .filter((l) => /^[+-][^+-]/.test(l));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(/^\+,\{"name":"db\/password","version":2,/);
      expect(added[0]).not.toContain('two');
      const r = runNode(['-r', 'envmux/register', 'app.js'], dir);
      expect(JSON.parse(r.stdout).DB_PASSWORD).toBe('two');
    },
  );
});

describe('CLI', () => {
  it('get prints the value; list, versions and messages never do', () => {
    const dir = makeCase(files);
    runCli(['vault', 'init'], dir);
    runCli(['vault', 'set', 'db/password', '-d', 'primary'], dir, {}, { input: 'first-value' });
    runCli(['vault', 'set', 'db/password'], dir, {}, { input: 'second-value' });
    expect(runCli(['vault', 'get', 'db/password'], dir).stdout).toBe('second-value\n');
    expect(runCli(['vault', 'get', 'db/password?version=previous', '-n'], dir).stdout).toBe(
      'first-value',
    );
    const list = runCli(['vault', 'list', 'db/*', '--masked'], dir);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/db\/password\s+2\s+.*\*\*\*lue\s+primary/);
    const versions = runCli(['vault', 'versions', 'db/password', '--json'], dir);
    expect(JSON.parse(versions.stdout).map((v: { version: string }) => v.version)).toEqual([
      '1',
      '2',
    ]);
    const restore = runCli(['vault', 'restore', 'db/password', '1'], dir);
    expect(restore.stderr).toContain('restored as version 3');
    expect(runCli(['vault', 'get', 'db/password'], dir).stdout).toBe('first-value\n');
    const generated = runCli(['generate', '--length', '24', '--charset', 'hex'], dir);
    expect(generated.stdout).toMatch(/^[0-9a-f]{24}\n$/);
    runCli(
      ['vault', 'set', 'api/token', '--expires-in', '7d'],
      dir,
      {},
      { input: generated.stdout },
    );
    expect(runCli(['vault', 'get', 'api/token'], dir).stdout).toBe(generated.stdout);
    const rm = runCli(['vault', 'rm', 'api/token', '--yes'], dir);
    expect(rm.status).toBe(0);
    const missing = runCli(['vault', 'get', 'api/token'], dir);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');
    for (const r of [list, versions, restore, rm, missing]) {
      expect(r.stdout + r.stderr).not.toContain('first-value');
      expect(r.stdout + r.stderr).not.toContain('second-value');
    }
  });

  it('rotate-key re-encrypts under a new key file; the app still starts; the old key fails', () => {
    const dir = makeCase(files);
    runCli(['vault', 'init'], dir);
    runCli(['vault', 'set', 'db/password'], dir, {}, { input: 'rotated-value' });
    const oldKey = readFileSync(join(dir, '.envmux/vault.key'), 'utf8').trim();
    const rotate = runCli(['vault', 'rotate-key', '--yes'], dir);
    expect(rotate.status).toBe(0);
    expect(rotate.stderr).toContain('re-encrypted 1 record(s)');
    expect(readFileSync(join(dir, '.envmux/vault.key'), 'utf8').trim()).not.toBe(oldKey);
    const r = runNode(['-r', 'envmux/register', 'app.js'], dir);
    expect(JSON.parse(r.stdout).DB_PASSWORD).toBe('rotated-value');
    const old = runNode(['-r', 'envmux/register', 'app.js'], dir, { ENVMUX_VAULT_KEY: oldKey });
    expect(old.status).toBe(1);
    expect(old.stdout).toBe('');
    expect(old.stderr).toContain('DECRYPTION_FAILED');
    expect(old.stderr).toContain('ENVMUX_VAULT_KEY does not open vault .envmux/vault.json');
    expect(old.stderr).not.toContain(oldKey);
    expect(old.stderr).not.toMatch(/\n\s+at /);
  });

  it('a tampered vault is reported cleanly by the preload and the CLI, never half-read', () => {
    const dir = makeCase(files);
    runCli(['vault', 'init'], dir);
    runCli(['vault', 'set', 'db/password'], dir, {}, { input: 'tamper-me' });
    runCli(['vault', 'set', 'other'], dir, {}, { input: 'untouched' });
    const path = join(dir, '.envmux/vault.json');
    const text = readFileSync(path, 'utf8');
    writeFileSync(
      path,
      text.replace(
        /"name":"db\/password","version":1,"created":"[^"]+"/,
        '"name":"db/password","version":1,"created":"2001-01-01T00:00:00.000Z"',
      ),
    );
    const r = runNode(['-r', 'envmux/register', 'app.js'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('DECRYPTION_FAILED');
    expect(r.stderr).toContain('vault .envmux/vault.json is damaged or was modified');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const get = runCli(['vault', 'get', 'other'], dir);
    expect(get.status).toBe(1);
    expect(get.stdout).toBe('');
    expect(get.stderr).toMatch(/^envmux: DECRYPTION_FAILED: vault \.envmux\/vault\.json/);
    writeFileSync(path, text.slice(0, text.length - 40));
    const truncated = runCli(['vault', 'list'], dir);
    expect(truncated.status).toBe(1);
    expect(truncated.stderr).toContain('truncated or edited');
  });
});

describe('passphrase vaults', () => {
  it('resolve through the preload with ENVMUX_VAULT_PASSPHRASE, and through an unlock session', () => {
    const dir = makeCase(files);
    const sessions = { ENVMUX_VAULT_SESSION_DIR: join(dir, 'sessions') };
    const init = runCli(['vault', 'init', '--passphrase', ...cheap], dir, sessions, {
      input: 'correct horse\n',
    });
    expect(init.status).toBe(0);
    expect(init.stderr).toContain('passphrase vault');
    const withPass = { ...sessions, ENVMUX_VAULT_PASSPHRASE: 'correct horse' };
    expect(
      runCli(['vault', 'set', 'db/password'], dir, withPass, { input: 'pp-value' }).status,
    ).toBe(0);
    const r = runNode(['-r', 'envmux/register', 'app.js'], dir, withPass);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).DB_PASSWORD).toBe('pp-value');
    // Without the passphrase: locked, and the app does not start.
    const locked = runNode(['-r', 'envmux/register', 'app.js'], dir, {
      ...sessions,
      ENVMUX_PROVIDERS: 'local',
    });
    expect(locked.status).toBe(1);
    expect(locked.stderr).toContain('LOCKED');
    // `vault unlock` (passphrase on stdin) opens it for later processes; `vault lock` ends that.
    const unlock = runCli(['vault', 'unlock', '--idle', '5m'], dir, sessions, {
      input: 'correct horse\n',
    });
    expect(unlock.status).toBe(0);
    const viaSession = runNode(['-r', 'envmux/register', 'app.js'], dir, sessions);
    expect(viaSession.stderr).toBe('');
    expect(JSON.parse(viaSession.stdout).DB_PASSWORD).toBe('pp-value');
    expect(runCli(['vault', 'lock'], dir, sessions).stderr).toContain('locked');
    const after = runNode(['-r', 'envmux/register', 'app.js'], dir, {
      ...sessions,
      ENVMUX_PROVIDERS: 'local',
    });
    expect(after.status).toBe(1);
    // A wrong passphrase is DECRYPTION_FAILED naming the vault.
    const wrong = runNode(['-r', 'envmux/register', 'app.js'], dir, {
      ...sessions,
      ENVMUX_VAULT_PASSPHRASE: 'wrong horse',
    });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('DECRYPTION_FAILED');
    expect(wrong.stderr).toContain(
      'ENVMUX_VAULT_PASSPHRASE does not open vault .envmux/vault.json',
    );
    expect(wrong.stderr).not.toContain('wrong horse');
  });
});

describe('Argon2id on the Node under test', () => {
  it('crypto.argon2 (where present) and hash-wasm give identical keys', () => {
    const dir = makeCase({
      'argon.cjs': `const crypto = require('node:crypto');
const { argon2id } = require('hash-wasm');
(async () => {
  const salt = Buffer.alloc(16, 5);
  const wasm = Buffer.from(await argon2id({ password: 'pässwörd', salt, parallelism: 2, iterations: 2, memorySize: 1024, hashLength: 32, outputType: 'binary' })).toString('hex');
  const native = crypto.argon2Sync ? crypto.argon2Sync('argon2id', { message: Buffer.from('pässwörd'), nonce: salt, parallelism: 2, tagLength: 32, memory: 1024, passes: 2 }).toString('hex') : null;
  console.log(JSON.stringify({ wasm, native }));
})();
`,
    });
    const r = runNode(['argon.cjs'], dir);
    expect(r.stderr).toBe('');
    const { wasm, native } = JSON.parse(r.stdout);
    expect(wasm).toMatch(/^[0-9a-f]{64}$/);
    if (native !== null) expect(native).toBe(wasm);
    else console.warn(`${nodeBin}: no crypto.argon2 (Node < 24.7); only hash-wasm ran`);
  });
});
