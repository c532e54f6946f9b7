// `vault` KV v2 retirement through node-vault against the wire server: after the grace period the
// rotated-out version is deleted (POST {mount}/delete/{path}, or destroy with `retire: 'destroy'`),
// so `previous` is gone; a failed `test` rolls back by writing the old value as a new version.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { type VaultProviderOptions, vault } from '../../../src/providers/vault/kv.js';
import { createResolver } from '../../../src/resolver/client.js';
import { VaultWire } from './wire-server.js';

let wire: VaultWire;
beforeAll(async () => {
  wire = await VaultWire.start();
  wire.mount('secret', 2);
});
afterAll(async () => {
  await wire.close();
});

const make = (options: VaultProviderOptions = {}) =>
  vault({ address: wire.url, token: wire.rootToken, env: {}, ...options });

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
}

describe('vault: retirement (KV v2)', () => {
  it.each(['delete', 'destroy'] as const)(
    'keeps previous for the grace period, then %ss it: previous is gone',
    async (retire) => {
      const p = make({ retire });
      const resolver = createResolver({ providers: [p], cache: false, audit: false, env: {} });
      const name = `app/${retire}-db`;
      await p.set!(name, 'old-value', {});
      const [outcome] = await resolver.rotate(name, { grace: 200, generate: () => 'new-value' });
      expect(outcome?.previous).toBe('1');
      expect(await resolver.get(name, { version: 'previous' })).toBe('old-value');
      await new Promise((r) => setTimeout(r, 250));
      expect(await resolver.retireExpired()).toMatchObject([{ name, version: '1' }]);
      expect(await codeOf(resolver.get(name, { version: 'previous' }))).toBe('NOT_FOUND');
      expect(await p.get(name, { version: '1' })).toBeUndefined();
      expect(await resolver.get(name)).toBe('new-value');
      const versions = await p.versions!(name, {});
      expect(versions.find((v) => v.version === '1')).toMatchObject({ enabled: false });
      expect(wire.requests.some((r) => r.path === `secret/${retire}/app/${retire}-db`)).toBe(true);
      await resolver.close();
    },
  );

  it('a failed test rolls back: the old value is the latest again', async () => {
    const p = make();
    const resolver = createResolver({ providers: [p], cache: false, audit: false, env: {} });
    await p.set!('app/api-key', 'stable', {});
    const code = await codeOf(
      resolver.rotate('app/api-key', {
        generate: () => 'broken',
        test: () => {
          throw new Error('nope');
        },
      }),
    );
    expect(code).toBeTruthy();
    expect(await resolver.get('app/api-key')).toBe('stable');
    expect((await p.versions!('app/api-key', {})).find((v) => v.version === '2')).toMatchObject({
      enabled: false,
    });
    await resolver.close();
  });
});

describe('vault: a retirement carried across processes in custom_metadata (KV v2)', () => {
  it('a new resolver retires the old version once the grace period is over, not before', async () => {
    const p = make();
    const name = 'cross/db';
    await p.set!(name, 'cross-old-value', { description: 'the db', metadata: { team: 'db' } });
    await createResolver({ providers: [p], cache: false, audit: false, env: {} }).rotate(name, {
      grace: 300,
      generate: () => 'cross-new-value',
    });
    const [info] = (await make().list!('cross/', { metadata: true })).filter(
      (i) => i.name === name,
    );
    // The other custom metadata stays; the marker is a version and a date, never a value.
    expect(info?.metadata).toEqual({
      team: 'db',
      description: 'the db',
      'envmux.retire': expect.stringMatching(/^1@.+Z$/),
    });
    expect(JSON.stringify(info)).not.toMatch(/cross-(old|new)-value/);

    const other = () =>
      createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    const entries = (await make().list!('', {})).length;
    const seen = wire.requests.length;
    expect(await other().retireExpired()).toEqual([]);
    // KV's LIST answers names only: a LIST per folder (/, app/, cross/), then one metadata read per
    // entry (the due markers of earlier tests, already retired, then cost a versions read each).
    const made = wire.requests.slice(seen).map((r) => `${r.method} ${r.path}`);
    expect(made.filter((r) => /^GET secret\/metadata\/(.*\/)?$/.test(r))).toHaveLength(3);
    const reads = made.filter((r) => /^GET secret\/metadata\/.*[^/]$/.test(r));
    expect(new Set(reads).size).toBe(entries);
    expect(await other().get(name, { version: 'previous' })).toBe('cross-old-value');
    await new Promise((r) => setTimeout(r, 350));
    expect(await other().retireExpired()).toMatchObject([{ name, version: '1' }]);
    expect(await codeOf(other().get(name, { version: 'previous' }))).toBe('NOT_FOUND');
    expect(await other().get(name)).toBe('cross-new-value');
  });
});

describe('vault: plain sets during the grace period keep the pending retirement (KV v2)', () => {
  it('a set with a description, then one with metadata: the old version is still retired when due', async () => {
    const p = make();
    const resolver = createResolver({ providers: [p], cache: false, audit: false, env: {} });
    const name = 'hand/db';
    await p.set!(name, 'hand-old-value', { description: 'the db', metadata: { team: 'db' } });
    await resolver.rotate(name, { grace: 300, generate: () => 'hand-new-value' });
    await resolver.set(name, 'hand-set-1', { description: 'by hand' });
    await resolver.set(name, 'hand-set-2', { metadata: { team: 'payments' } });
    await resolver.set(name, 'hand-set-3');
    const [info] = (await make().list!('hand/', { metadata: true })).filter((i) => i.name === name);
    expect(info?.metadata).toEqual({
      team: 'payments',
      description: 'by hand',
      'envmux.retire': expect.stringMatching(/^1@.+Z$/),
    });
    const other = () =>
      createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    await new Promise((r) => setTimeout(r, 350));
    expect(await other().retireExpired()).toMatchObject([{ name, version: '1' }]);
    expect(await p.get(name, { version: '1' })).toBeUndefined();
    expect(await other().get(name)).toBe('hand-set-3');
    expect((await other().retireExpired()).filter((r) => r.name === name)).toEqual([]);
    await resolver.close();
  });
});

describe('vault: rotations within one grace period, and a rolled-back one (KV v2)', () => {
  const other = () => createResolver({ providers: [make()], cache: false, audit: false, env: {} });

  it('a second rotation keeps the first retirement: both old versions are retired', async () => {
    const name = 'twice/db';
    await make().set!(name, 'twice-1', {});
    await other().rotate(name, { grace: 300, generate: () => 'twice-2' });
    await other().rotate(name, { grace: 300, generate: () => 'twice-3' });
    await new Promise((r) => setTimeout(r, 350));
    const retired = (await other().retireExpired()).filter((r) => r.name === name);
    expect(retired.map((r) => r.version)).toEqual(['1', '2']);
    expect(await codeOf(other().get(name, { version: 'previous' }))).toBe('NOT_FOUND');
    expect(await other().get(name)).toBe('twice-3');
  });

  it.each([
    ['with', { team: 'db' }],
    ['without', undefined],
  ] as const)(
    'a rotation rolled back after its write leaves no retirement behind (%s other metadata)',
    async (what, metadata) => {
      const p = make();
      const name = `undone/${what}`;
      await p.set!(name, 'undone-1', metadata ? { metadata } : {});
      const failed = other().rotate(name, {
        grace: 100,
        generate: () => 'undone-2',
        test: () => {
          throw new Error('no login');
        },
      });
      expect(await codeOf(failed)).toBeTruthy();
      const [info] = (await make().list!('undone/', { metadata: true })).filter(
        (i) => i.name === name,
      );
      expect(info?.metadata).toEqual(metadata);
      await new Promise((r) => setTimeout(r, 150));
      expect((await other().retireExpired()).filter((r) => r.name === name)).toEqual([]);
      expect(await p.get(name, { version: '1' })).toBe('undone-1');
    },
  );
});
