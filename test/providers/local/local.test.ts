// The `local` provider: round trip, AAD binding, wrong key, tampering of every field, truncation,
// format versions, expiry, versions/restore, key rotation (and an interrupted one), lock/auto-lock,
// sessions, file modes, key-file permissions, audit, auto-detection and the conformance suite.

import {
  chmodSync,
  existsSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { type EnvmuxError, toEnvmuxError } from '../../../src/errors.js';
import { writeFileAtomicSync } from '../../../src/files/atomic-write.js';
import { formatRawKey } from '../../../src/providers/local/key-source.js';
import { local } from '../../../src/providers/local/local.js';
import { nextKeyFile } from '../../../src/providers/local/paths.js';
import { sessionFile } from '../../../src/providers/local/session.js';
import { providerConformance } from '../../../src/testing/index.js';
import { editLines, makeVault, readLines } from './vault-fixture.js';

const SECRET = 'p@$$w0rd $<secret:x> ${HOME} $(id) ünï 🔑';

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
}

async function errorOf(promise: Promise<unknown>): Promise<EnvmuxError> {
  try {
    await promise;
  } catch (error) {
    return toEnvmuxError(error);
  }
  throw new Error('expected a rejection');
}

function shown(error: unknown): string {
  return [String(error), JSON.stringify(error), inspect(error, { depth: 6 })].join('\n');
}

describe('round trip', () => {
  it('stores and reads values byte for byte, sync and async, with versions', async () => {
    const v = await makeVault();
    const p = v.open();
    const pem = '-----BEGIN KEY-----\nAAAA\r\nBBBB\n-----END KEY-----\n';
    expect(await p.set('db/password', SECRET)).toEqual({ version: '1' });
    expect(await p.set('tls/key', pem, { description: 'TLS key' })).toEqual({ version: '1' });
    expect(await p.set('db/password', 'second')).toEqual({ version: '2' });
    expect(p.getSync!('db/password')).toBe('second');
    expect(await p.get('tls/key')).toBe(pem);
    expect(p.getSync!('db/password', { version: 'previous' })).toBe(SECRET);
    expect(p.getSync!('db/password', { version: '1' })).toBe(SECRET);
    expect(p.getSync!('db/password', { version: '9' })).toBeUndefined();
    expect(p.getSync!('missing')).toBeUndefined();
    expect(await codeOf(() => p.getSync!('db/password', { version: 'AWSCURRENT' }))).toBe(
      'INVALID_REFERENCE',
    );
    const many = await p.getMany(['db/password', 'tls/key', 'nope'], {});
    expect([...many]).toEqual([
      ['db/password', 'second'],
      ['tls/key', pem],
    ]);
    // A fresh provider (another process) reads the same.
    expect(v.open().getSync!('db/password')).toBe('second');
  });

  it('keeps the file reviewable: one line per version, a set adds exactly one line', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('b', '1');
    await p.set('a', '1');
    await p.set('c', '1');
    const before = readFileSync(v.path, 'utf8').split('\n');
    await p.set('b', '2');
    const after = readFileSync(v.path, 'utf8').split('\n');
    expect(after.length).toBe(before.length + 1);
    expect(after.filter((l) => !before.includes(l))).toHaveLength(1);
    expect(before.filter((l) => !after.includes(l))).toEqual([]);
    const added = after.find((l) => !before.includes(l))!;
    expect(added.startsWith(',{"name":"b","version":2,')).toBe(true);
    // Header first, records sorted by name then version, the closing bracket alone.
    expect(after[0]!.startsWith('[{"envmux":"vault","format":1,')).toBe(true);
    expect(
      readLines(v.path)
        .slice(1)
        .map((r) => `${r.name}@${r.version}`),
    ).toEqual(['a@1', 'b@1', 'b@2', 'c@1']);
    expect(after.at(-2)).toBe(']');
    // Valid JSON as a whole, too.
    expect(Array.isArray(JSON.parse(after.join('\n')))).toBe(true);
  });

  it('creates the vault and key file 0600 (folder 0700) and git-ignores the key', async () => {
    const v = await makeVault();
    await v.open().set('x', 'y');
    expect(statSync(v.path).mode & 0o777).toBe(0o600);
    expect(statSync(v.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(`${v.dir}/.envmux`).mode & 0o777).toBe(0o700);
    const ignore = readFileSync(`${v.dir}/.envmux/.gitignore`, 'utf8').split('\n');
    expect(ignore).toContain('vault.key');
    expect(ignore).toContain('vault.key.next');
  });

  it('rejects bad names and never writes for them', async () => {
    const v = await makeVault();
    const p = v.open();
    for (const name of ['', '../x', '/abs', 'a b', 'x\n', '.hidden']) {
      expect(await codeOf(p.set(name, 'v'))).toBe('INVALID_REFERENCE');
    }
    expect(readLines(v.path)).toHaveLength(1);
  });
});

describe('authenticity', () => {
  it('binds each ciphertext to its name and version (AAD): swapped ciphertexts fail', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('a', 'value-a');
    await p.set('b', 'value-b');
    editLines(v.path, (items) => {
      const [a, b] = [items[1]!, items[2]!];
      [a.nonce, b.nonce] = [b.nonce, a.nonce];
      [a.data, b.data] = [b.data, a.data];
    });
    const e = await errorOf(v.open().get('a'));
    expect(e.code).toBe('DECRYPTION_FAILED');
    expect(e.message).toContain('vault.json');
    expect(shown(e)).not.toContain('value-');
  });

  it('a ciphertext moved to another version of the same name fails', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('a', 'one');
    await p.set('a', 'two');
    editLines(v.path, (items) => {
      // Roll "latest" back to the old value by copying version 1's ciphertext into version 2.
      items[2]!.nonce = items[1]!.nonce;
      items[2]!.data = items[1]!.data;
    });
    expect(await codeOf(v.open().get('a'))).toBe('DECRYPTION_FAILED');
  });

  it('a wrong key is DECRYPTION_FAILED naming the vault and the key source, never the key', async () => {
    const v = await makeVault();
    await v.open().set('a', 'x');
    const wrong = Buffer.alloc(32, 7).toString('base64');
    const e = await errorOf(v.open({ key: wrong }).get('a'));
    expect(e.code).toBe('DECRYPTION_FAILED');
    expect(e.message).toContain('.envmux/vault.json');
    expect(e.message).toContain('the key option');
    expect(shown(e)).not.toContain(wrong);
    const env = await errorOf(
      local({ env: { ...v.env, ENVMUX_VAULT_KEY: wrong }, cwd: v.dir, audit: false }).get('a'),
    );
    expect(env.code).toBe('DECRYPTION_FAILED');
    expect(env.message).toContain('ENVMUX_VAULT_KEY');
  });

  it('a malformed key is CONFIG without echoing it', async () => {
    const v = await makeVault();
    const e = await errorOf(v.open({ key: 'not-a-key-but-secret-text' }).get('a'));
    expect(e.code).toBe('CONFIG');
    expect(shown(e)).not.toContain('secret-text');
  });

  type Edit = [string, string, (items: Record<string, any>[]) => void];
  const edits: Edit[] = [
    ['header marker', 'DECRYPTION_FAILED', (i) => (i[0]!.envmux = 'vaulty')],
    ['header id', 'DECRYPTION_FAILED', (i) => (i[0]!.id = Buffer.alloc(16, 1).toString('base64'))],
    ['header kdf name', 'DECRYPTION_FAILED', (i) => (i[0]!.kdf = { name: 'scrypt' })],
    [
      'header kdf (none → argon2id)',
      'DECRYPTION_FAILED',
      (i) =>
        (i[0]!.kdf = {
          name: 'argon2id',
          memory: 256,
          iterations: 1,
          parallelism: 1,
          salt: Buffer.alloc(16).toString('base64'),
        }),
    ],
    ['header check', 'DECRYPTION_FAILED', (i) => (i[0]!.check = flip(i[0]!.check))],
    ['header extra field', 'DECRYPTION_FAILED', (i) => (i[0]!.extra = 1)],
    ['header format (string)', 'DECRYPTION_FAILED', (i) => (i[0]!.format = '1')],
    ['record name', 'DECRYPTION_FAILED', (i) => (i[1]!.name = 'b')],
    ['record version', 'DECRYPTION_FAILED', (i) => (i[1]!.version = 3)],
    ['record created', 'DECRYPTION_FAILED', (i) => (i[1]!.created = '2020-01-01T00:00:00.000Z')],
    [
      'record expires (added)',
      'DECRYPTION_FAILED',
      (i) => (i[1]!.expires = '2999-01-01T00:00:00.000Z'),
    ],
    ['record expires (removed)', 'DECRYPTION_FAILED', (i) => delete i[2]!.expires],
    [
      'record expires (extended)',
      'DECRYPTION_FAILED',
      (i) => (i[2]!.expires = '2999-01-01T00:00:00.000Z'),
    ],
    ['record description', 'DECRYPTION_FAILED', (i) => (i[1]!.description = 'other')],
    ['record description (removed)', 'DECRYPTION_FAILED', (i) => delete i[1]!.description],
    ['record metadata', 'DECRYPTION_FAILED', (i) => (i[1]!.metadata = { owner: 'mallory' })],
    ['record nonce', 'DECRYPTION_FAILED', (i) => (i[1]!.nonce = flip(i[1]!.nonce))],
    ['record data', 'DECRYPTION_FAILED', (i) => (i[1]!.data = flip(i[1]!.data))],
    ['record tag only', 'DECRYPTION_FAILED', (i) => (i[1]!.data = flip(i[1]!.data, -3))],
    ['record extra field', 'DECRYPTION_FAILED', (i) => (i[1]!.x = 1)],
    ['record duplicated', 'CONFIG', (i) => i.push({ ...i[1]! })],
    ['record dropped nonce', 'DECRYPTION_FAILED', (i) => delete i[1]!.nonce],
    ['format version 2', 'CONFIG', (i) => (i[0]!.format = 2)],
  ];

  it.each(edits)('detects tampering: %s → %s', async (_, code, edit) => {
    const v = await makeVault();
    const p = v.open();
    await p.set('a', 'value-a', { description: 'desc', metadata: { owner: 'team' } });
    await p.set('c', 'value-c', { expiresAt: new Date(Date.now() + 3_600_000) });
    editLines(v.path, edit);
    // Nothing is half-read: even the untouched secret is refused.
    const fresh = v.open();
    const e = await errorOf(fresh.get('c'));
    expect(e.code).toBe(code);
    expect(e.message).toContain('vault.json');
    expect(shown(e)).not.toContain('value-');
    expect(await codeOf(() => fresh.getSync!('a'))).toBe(code);
    // And nothing is ever written on top of it.
    const text = readFileSync(v.path, 'utf8');
    expect(await codeOf(fresh.set('z', 'v'))).toBe(code);
    expect(readFileSync(v.path, 'utf8')).toBe(text);
  });

  it('reports an unknown format version clearly', async () => {
    const v = await makeVault();
    editLines(v.path, (i) => (i[0]!.format = 7));
    const e = await errorOf(v.open().get('a'));
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(/format version 7; this envmux reads version 1/);
    expect(e.hint).toMatch(/upgrade envmux/);
  });

  it('detects truncation at every length', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('a', 'value-a');
    await p.set('b', 'value-b');
    const text = readFileSync(v.path, 'utf8');
    const full = text.trimEnd();
    for (let length = 0; length < full.length; length++) {
      writeFileSync(v.path, text.slice(0, length));
      const code = await codeOf(() => v.open().getSync!('a'));
      expect(code, `truncated to ${length} bytes`).toBe('DECRYPTION_FAILED');
    }
  });

  it('names merge-conflict markers as such', async () => {
    const v = await makeVault();
    const text = readFileSync(v.path, 'utf8');
    writeFileSync(v.path, text.replace(']\n', '<<<<<<< HEAD\n,{}\n=======\n,{}\n>>>>>>> b\n]\n'));
    const e = await errorOf(v.open().get('a'));
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(/merge conflict/);
  });

  it('a missing vault is CONFIG with the init hint', async () => {
    const v = await makeVault();
    const e = await errorOf(v.open({ path: `${v.dir}/nope.json` }).get('a'));
    expect(e.code).toBe('CONFIG');
    expect(e.hint).toMatch(/envmux vault init/);
  });
});

function flip(base64: string, at = 2): string {
  const bytes = Buffer.from(base64, 'base64');
  const i = at < 0 ? bytes.length + at : at;
  bytes[i] = bytes[i]! ^ 1;
  return bytes.toString('base64');
}

describe('expiry, versions, restore, cleanup', () => {
  it('stops serving an expired version, lists it, and cleanup removes it', async () => {
    const v = await makeVault();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const p = v.open({ now: () => now });
    await p.set('token', 'old');
    await p.set('token', 'fresh-value', { expiresAt: new Date(now + 24 * 3_600_000) });
    expect(p.getSync!('token')).toBe('fresh-value');
    now += 25 * 3_600_000;
    const e = await errorOf(p.get('token'));
    expect(e.code).toBe('EXPIRED');
    expect(e.message).toContain('token');
    expect(shown(e)).not.toContain('fresh-value');
    expect(p.getSync!('token', { version: 'previous' })).toBe('old');
    const [info] = await p.list('');
    expect(info!.expires).toEqual(new Date(Date.parse('2026-01-02T00:00:00Z')));
    const versions = await p.versions('token');
    expect(versions.map((x) => [x.version, x.enabled, x.stages])).toEqual([
      ['1', true, ['previous']],
      ['2', false, ['latest']],
    ]);
    expect(await p.cleanup({ dryRun: true })).toEqual([
      { name: 'token', version: '2', reason: 'expired' },
    ]);
    await expect(p.cleanup()).resolves.toHaveLength(1);
    expect(p.getSync!('token')).toBe('old');
  });

  it('restores an old version as a new one; deletes a version or a whole secret', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('k', 'v1', { description: 'first', metadata: { owner: 'a' } });
    await p.set('k', 'v2', { description: 'second' });
    await p.set('k', 'v3');
    expect((await p.versions('k')).map((x) => x.description)).toEqual([
      'first',
      'second',
      'second',
    ]);
    expect(await p.restore('k', '1')).toEqual({ version: '4' });
    expect(p.getSync!('k')).toBe('v1');
    const [info] = await p.list('k');
    expect(info).toMatchObject({
      name: 'k',
      version: '4',
      description: 'first',
      metadata: { owner: 'a' },
    });
    expect(await codeOf(p.restore('k', '9'))).toBe('NOT_FOUND');
    await p.deleteVersion('k', '2');
    expect((await p.versions('k')).map((x) => x.version)).toEqual(['1', '3', '4']);
    expect(p.getSync!('k', { version: 'previous' })).toBe('v3');
    await p.delete('k', {});
    expect(p.getSync!('k')).toBeUndefined();
    expect(await p.versions('k')).toEqual([]);
    await p.delete('k', {}); // deleting what is not there is a no-op
    expect(await p.set('k', 'again')).toEqual({ version: '1' });
  });

  it('keeps only the newest N versions on request', async () => {
    const v = await makeVault();
    const p = v.open();
    for (let i = 1; i <= 5; i++) await p.set('k', `v${i}`);
    await p.set('other', 'x');
    const removed = await p.cleanup({ keep: 2 });
    expect(removed.map((r) => r.version)).toEqual(['1', '2', '3']);
    expect((await p.versions('k')).map((x) => x.version)).toEqual(['4', '5']);
    expect(p.getSync!('other')).toBe('x');
  });
});

describe('key rotation', () => {
  it('re-encrypts everything under a new key file; the old key no longer opens it', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('a', 'value-a');
    await p.set('a', 'value-a2');
    await p.set('b', 'value-b');
    const oldKey = readFileSync(v.keyFile, 'utf8');
    const before = readLines(v.path);
    const result = await p.rotateKey({ keyFile: v.keyFile });
    expect(result.records).toBe(3);
    expect(readFileSync(v.keyFile, 'utf8')).not.toBe(oldKey);
    expect(existsSync(nextKeyFile(v.keyFile))).toBe(false);
    expect(statSync(v.keyFile).mode & 0o777).toBe(0o600);
    const after = readLines(v.path);
    expect(after[0]!.id).toBe(before[0]!.id);
    for (let i = 1; i < after.length; i++) {
      expect(after[i]!.nonce).not.toBe(before[i]!.nonce);
      expect(after[i]!.created).toBe(before[i]!.created);
    }
    expect(p.getSync!('a')).toBe('value-a2');
    const fresh = v.open();
    expect(fresh.getSync!('a', { version: '1' })).toBe('value-a');
    expect(fresh.getSync!('b')).toBe('value-b');
    expect(await codeOf(v.open({ key: oldKey }).get('a'))).toBe('DECRYPTION_FAILED');
  });

  it('survives a crash between replacing the vault and renaming the new key file', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('a', 'value-a');
    const oldKey = readFileSync(v.keyFile, 'utf8');
    await p.rotateKey({ keyFile: v.keyFile });
    // Put the world back to "vault replaced, key file not yet renamed".
    renameSync(v.keyFile, nextKeyFile(v.keyFile));
    writeFileAtomicSync(v.keyFile, oldKey, 0o600);
    const reopened = v.open();
    expect(reopened.getSync!('a')).toBe('value-a');
    expect((await reopened.info()).keySource).toContain('interrupted key rotation');
    // And before the vault was replaced: the staged key is unused, the old one still opens it.
    const w = await makeVault();
    await w.open().set('a', 'value-a');
    writeFileAtomicSync(nextKeyFile(w.keyFile), formatRawKey(Buffer.alloc(32, 9)), 0o600);
    expect(w.open().getSync!('a')).toBe('value-a');
  });

  it('switches between a raw key and a passphrase', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('a', 'value-a');
    await p.rotateKey({
      passphrase: 'correct horse',
      kdf: { memory: 256, iterations: 1, parallelism: 1 },
    });
    expect(readLines(v.path)[0]!.kdf).toMatchObject({ name: 'argon2id', memory: 256 });
    const byPass = local({
      env: {
        ENVMUX_VAULT_PATH: v.path,
        ENVMUX_VAULT_PASSPHRASE: 'correct horse',
        ENVMUX_VAULT_KEY_FILE: '',
      },
      keyFile: undefined,
      cwd: v.dir,
      passphrase: 'correct horse',
      audit: false,
    });
    expect(await byPass.get('a')).toBe('value-a');
    const result = await byPass.rotateKey({});
    expect(result.kdf).toBe('none');
    expect(await v.open({ key: result.key }).get('a')).toBe('value-a');
  });

  it('leaves the vault untouched when the current key is wrong', async () => {
    const v = await makeVault();
    await v.open().set('a', 'value-a');
    const text = readFileSync(v.path, 'utf8');
    const wrong = v.open({ key: Buffer.alloc(32, 3) });
    expect(await codeOf(wrong.rotateKey({}))).toBe('DECRYPTION_FAILED');
    expect(readFileSync(v.path, 'utf8')).toBe(text);
  });
});

describe('lock and auto-lock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lock() wipes the key: reads are LOCKED until unlock()', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('a', 'value-a');
    p.lock();
    expect(p.locked).toBe(true);
    expect(await codeOf(() => p.getSync!('a'))).toBe('LOCKED');
    expect(await codeOf(p.get('a'))).toBe('LOCKED');
    expect(await codeOf(p.set('a', 'x'))).toBe('LOCKED');
    await p.unlock();
    expect(p.getSync!('a')).toBe('value-a');
  });

  it('locks itself after the configured inactivity, not while in use', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const v = await makeVault();
    const p = v.open({ autoLock: '10m' });
    await p.set('a', 'value-a');
    vi.advanceTimersByTime(6 * 60_000);
    expect(p.getSync!('a')).toBe('value-a');
    vi.advanceTimersByTime(6 * 60_000);
    expect(p.locked).toBe(false);
    vi.advanceTimersByTime(5 * 60_000);
    expect(p.locked).toBe(true);
    expect(await codeOf(() => p.getSync!('a'))).toBe('LOCKED');
    await p.unlock();
    expect(p.getSync!('a')).toBe('value-a');
  });

  it('a passphrase vault unlocks with a passphrase given to unlock()', async () => {
    const v = await makeVault({ passphrase: 'pp-1' });
    const p = local({
      env: { ENVMUX_VAULT_PATH: v.path, ENVMUX_VAULT_SESSION_DIR: v.sessionDir },
      audit: false,
    });
    const e = await errorOf(p.get('a'));
    expect(e.code).toBe('LOCKED');
    expect(e.hint).toMatch(/envmux vault unlock/);
    const wrong = await errorOf(p.unlock({ passphrase: 'wrong' }));
    expect(wrong.code).toBe('DECRYPTION_FAILED');
    expect(wrong.message).toMatch(/^the passphrase does not open vault .* \(wrong passphrase, /);
    await p.unlock({ passphrase: 'pp-1' });
    await p.set('a', 'value-a');
    expect(p.getSync!('a')).toBe('value-a');
  });
});

describe('sessions (envmux vault unlock)', () => {
  it('lets a process without the passphrase open the vault until the session goes idle', async () => {
    const v = await makeVault({ passphrase: 'pp-2' });
    const owner = v.open();
    await owner.set('a', 'value-a');
    const file = owner.startSession(60_000);
    expect(file).toBe(sessionFile(v.path, v.env));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(v.sessionDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).not.toContain('pp-2');
    const envNoPass = { ENVMUX_VAULT_PATH: v.path, ENVMUX_VAULT_SESSION_DIR: v.sessionDir };
    const guest = local({ env: envNoPass, audit: false });
    expect(guest.getSync!('a')).toBe('value-a');
    expect((await guest.info()).keySource).toBe('the unlock session');
    // Idle past its limit: the session no longer opens it, and is removed.
    const old = new Date(Date.now() - 120_000);
    utimesSync(file, old, old);
    expect(await codeOf(local({ env: envNoPass, audit: false }).get('a'))).toBe('LOCKED');
    expect(existsSync(file)).toBe(false);
  });

  it('a key rotation makes old sessions stale', async () => {
    const v = await makeVault({ passphrase: 'pp-3' });
    const owner = v.open();
    await owner.set('a', 'value-a');
    owner.startSession(60_000);
    await owner.rotateKey({
      passphrase: 'pp-4',
      kdf: { memory: 256, iterations: 1, parallelism: 1 },
    });
    const envNoPass = { ENVMUX_VAULT_PATH: v.path, ENVMUX_VAULT_SESSION_DIR: v.sessionDir };
    expect(await codeOf(local({ env: envNoPass, audit: false }).get('a'))).toBe('LOCKED');
  });

  it('refuses a session folder others can read', async () => {
    const v = await makeVault({ passphrase: 'pp-5' });
    const owner = v.open();
    await owner.set('a', 'value-a');
    owner.startSession(60_000);
    chmodSync(v.sessionDir, 0o755);
    const envNoPass = { ENVMUX_VAULT_PATH: v.path, ENVMUX_VAULT_SESSION_DIR: v.sessionDir };
    expect(await codeOf(local({ env: envNoPass, audit: false }).get('a'))).toBe('LOCKED');
    expect(await codeOf(async () => owner.startSession(1000))).toBe('CONFIG');
  });
});

describe('key files', () => {
  it('refuses a key file group or others can read, unless told to accept it', async () => {
    const v = await makeVault();
    await v.open().set('a', 'value-a');
    chmodSync(v.keyFile, 0o644);
    const e = await errorOf(v.open().get('a'));
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(/mode 0644/);
    expect(e.hint).toMatch(/chmod 600/);
    expect(e.hint).toMatch(/ENVMUX_VAULT_INSECURE_KEY_FILE=1/);
    const insecure = local({
      env: { ...v.env, ENVMUX_VAULT_INSECURE_KEY_FILE: '1' },
      cwd: v.dir,
      audit: false,
    });
    expect(insecure.getSync!('a')).toBe('value-a');
  });

  it('accepts the key as hex, base64 or base64url, from ENVMUX_VAULT_KEY', async () => {
    const v = await makeVault();
    await v.open().set('a', 'value-a');
    const key = Buffer.from(readFileSync(v.keyFile, 'utf8').trim(), 'base64');
    for (const text of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) {
      const p = local({ env: { ENVMUX_VAULT_PATH: v.path, ENVMUX_VAULT_KEY: text }, audit: false });
      expect(p.getSync!('a')).toBe('value-a');
    }
  });

  it('an explicitly named key file that does not exist is CONFIG', async () => {
    const v = await makeVault();
    const e = await errorOf(
      local({ env: { ...v.env, ENVMUX_VAULT_KEY_FILE: `${v.dir}/nope.key` }, audit: false }).get(
        'a',
      ),
    );
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(/nope\.key does not exist/);
  });

  it('a raw-key vault given only a passphrase says so', async () => {
    const v = await makeVault();
    const e = await errorOf(v.open({ passphrase: 'x' }).get('a'));
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(/opens with a raw key/);
  });
});

describe('audit', () => {
  it('records management operations, and appends them to the audit file without values', async () => {
    const v = await makeVault();
    const log = new AuditLog(100);
    const p = v.open({ audit: { log }, auditFile: true });
    await p.set('a', 'value-a');
    await p.set('a', 'value-b');
    await p.restore('a', '1');
    await p.rotateKey({ keyFile: v.keyFile });
    p.lock();
    await p.unlock();
    const actions = log.query({ provider: 'local' }).map((e) => `${e.action}:${e.key ?? ''}`);
    expect(actions).toEqual(['set:a', 'rotate:*', 'auth:']);
    const file = readFileSync(`${v.dir}/.envmux/audit.jsonl`, 'utf8');
    expect(file.trim().split('\n')).toHaveLength(3);
    expect(file).not.toContain('value-');
  });
});

describe('errors never carry values', () => {
  it('an expired or damaged vault error shows names only', async () => {
    const v = await makeVault();
    let now = Date.now();
    const p = v.open({ now: () => now });
    await p.set('k', 'super-secret-value', { expiresAt: new Date(now + 1000) });
    now += 2000;
    const e = await errorOf(p.get('k'));
    expect(shown(e)).not.toContain('super-secret-value');
  });
});

providerConformance(
  { describe, it, expect },
  {
    name: 'local',
    async create() {
      const v = await makeVault();
      const provider = v.open();
      const seeder = v.open();
      return {
        provider,
        seed: async (name, value) => {
          await seeder.set(name, value);
        },
      };
    },
  },
);
