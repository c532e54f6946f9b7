// Backup and restore through the library: a local vault with several versions and metadata is
// backed up into one encrypted file (no plaintext in it, 0600), restored with its history into the
// memory store and into a second vault (values by digest, version order, metadata, writer), and a
// wrong key, an edited record or a removed record is a coded error with nothing written.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BackupKey, openBackup, writeBackup } from '../../src/manage/backup-file.js';
import { copySecrets } from '../../src/manage/copy-secrets.js';
import { digestOf } from '../../src/manage/digest.js';
import { memory } from '../../src/providers/memory.js';
import type { Provider } from '../../src/providers/provider.js';
import { createResolver } from '../../src/resolver/client.js';
import {
  CHEAP_KDF,
  makeVault,
  readLines,
  type TestVault,
  writeLines,
} from '../providers/local/vault-fixture.js';

const VALUES = {
  'db/password': ['first-Zq9"\'$', 'second-Xk2\n', 'third-Pw7€'],
  'api/key': ['ak-Yh3-only'],
};
const KEY: BackupKey = { key: Buffer.alloc(32, 7).toString('base64') };

const resolverOf = (...providers: Provider[]) =>
  createResolver({ providers, cache: false, audit: false, retry: { attempts: 1 }, breaker: false });

async function history(p: Provider, name: string) {
  const out = [];
  for (const v of await p.versions!(name, {})) {
    out.push({
      digest: digestOf((await p.get(name, { version: v.version }))!),
      updatedBy: v.updatedBy,
      description: v.description,
      metadata: Object.fromEntries(
        Object.entries(v.metadata ?? {}).filter(([k]) => !k.startsWith('envmux.')),
      ),
    });
  }
  return out;
}

describe('backup and restore', () => {
  let source: TestVault;
  let out: string;
  const actor = process.env.ENVMUX_ACTOR;

  beforeEach(async () => {
    source = await makeVault();
    const vault = source.open();
    process.env.ENVMUX_ACTOR = 'ci:deploy-bot';
    for (const [i, value] of VALUES['db/password'].entries()) {
      await vault.set('db/password', value, {
        description: `db v${i + 1}`,
        metadata: { team: 'core', rev: String(i + 1) },
      });
    }
    process.env.ENVMUX_ACTOR = 'alice';
    await vault.set('api/key', VALUES['api/key'][0]!, {
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    await vault.close!();
    out = join(source.dir, 'store.backup');
  });
  afterEach(() => {
    if (actor === undefined) delete process.env.ENVMUX_ACTOR;
    else process.env.ENVMUX_ACTOR = actor;
  });

  async function backup(key: BackupKey = KEY) {
    const vault = source.open();
    const resolver = resolverOf(vault);
    try {
      return await writeBackup({ resolver, from: 'local', out, key, kdf: CHEAP_KDF });
    } finally {
      await resolver.close();
    }
  }

  it('writes every version into one 0600 file that holds no plaintext value', async () => {
    const report = await backup();
    expect(report).toMatchObject({ secrets: 2, versions: 4, skipped: [], kdf: 'none' });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const text = readFileSync(out, 'utf8');
    for (const value of Object.values(VALUES).flat()) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(Buffer.from(value).toString('base64'));
    }
  });

  it('restores values, version order, metadata and writers into memory and into another vault', async () => {
    await backup();
    const vault = source.open();
    const expected = {
      'db/password': await history(vault, 'db/password'),
      'api/key': await history(vault, 'api/key'),
    };
    await vault.close!();
    expect(expected['db/password'].map((v) => v.updatedBy)).toEqual(Array(3).fill('ci:deploy-bot'));
    expect(expected['db/password'][1]).toMatchObject({
      description: 'db v2',
      metadata: { team: 'core', rev: '2' },
    });

    const second = await makeVault();
    for (const target of [memory({ id: 'dest' }), second.open({ id: 'dest' })]) {
      const backupStore = await openBackup(out, KEY);
      const resolver = resolverOf(backupStore, target);
      const report = await copySecrets({
        resolver,
        from: 'backup',
        to: 'dest',
        allVersions: true,
        verify: true,
      });
      expect(report).toMatchObject({ ok: true, allVersions: true });
      expect(report.counts).toMatchObject({ create: 2, versions: 4, verified: 2 });
      expect(await history(target, 'db/password')).toEqual(expected['db/password']);
      expect(await history(target, 'api/key')).toEqual(expected['api/key']);
      // A re-run writes nothing: every version is already there, in order.
      const again = await copySecrets({ resolver, from: 'backup', to: 'dest', allVersions: true });
      expect(again.counts).toMatchObject({ skip: 2, versions: 0 });
      expect((await target.versions!('db/password', {})).length).toBe(3);
      await resolver.close();
    }
  });

  it('a passphrase backup opens with its passphrase only', async () => {
    await backup({ passphrase: 'correct horse' });
    await expect(openBackup(out, { passphrase: 'wrong horse' })).rejects.toMatchObject({
      code: 'DECRYPTION_FAILED',
      message: expect.stringContaining('does not open backup'),
    });
    const store = await openBackup(out, { passphrase: 'correct horse' });
    expect(await store.get('api/key', {})).toBe(VALUES['api/key'][0]);
    await store.close!();
  });

  it('a wrong key, an edited record or a removed record is DECRYPTION_FAILED', async () => {
    await backup();
    await expect(openBackup(out, { key: Buffer.alloc(32, 8) })).rejects.toMatchObject({
      code: 'DECRYPTION_FAILED',
    });
    const original = readFileSync(out, 'utf8');
    const lines = readLines(out);
    const edited = lines.map((l, i) =>
      i === 2 ? { ...l, created: '2001-01-01T00:00:00.000Z' } : l,
    );
    writeLines(out, edited);
    const error = await openBackup(out, KEY).catch((e) => e);
    expect(error).toMatchObject({ code: 'DECRYPTION_FAILED' });
    expect(error.stack === undefined || !String(error.message).includes('at ')).toBe(true);
    writeFileSync(out, original);
    writeLines(
      out,
      lines.filter((l, i) => !(i > 0 && l.name === 'db/password' && l.version === 2)),
    );
    await expect(openBackup(out, KEY)).rejects.toMatchObject({
      code: 'DECRYPTION_FAILED',
      message: expect.stringContaining('manifest'),
    });
  });

  it('refuses to replace an existing file unless forced', async () => {
    await backup();
    await expect(backup()).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
