// `gcp` retirement through the real @google-cloud/secret-manager client against the wire server:
// after the grace period the rotated-out version is disabled (DisableSecretVersion), so `previous`
// is gone and accessing that version is FAILED_PRECONDITION; a failed `test` rolls back by adding the
// old value as a new version (GCP's `latest` is the newest version whatever its state).

import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { gcp } from '../../../src/providers/gcp/secret-manager.js';
import { createResolver } from '../../../src/resolver/client.js';
import { type GcpWireServer, startGcpWire } from './wire-server.js';

let wire: GcpWireServer;
beforeAll(async () => {
  wire = await startGcpWire();
});
afterAll(async () => {
  await wire.close();
});

function make() {
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 't', expiry_date: Date.now() + 3_600_000 });
  return gcp({
    projectId: 'p1',
    env: {},
    clientOptions: {
      apiEndpoint: wire.host,
      port: wire.port,
      protocol: 'http',
      fallback: true,
      authClient,
    },
  });
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
}

describe('gcp: retirement', () => {
  it('keeps previous for the grace period, then disables it: previous is gone', async () => {
    const p = make();
    const resolver = createResolver({ providers: [p], cache: false, audit: false, env: {} });
    await p.set!('db-password', 'old-value', {});
    const [outcome] = await resolver.rotate('db-password', {
      grace: 200,
      generate: () => 'new-value',
    });
    expect(outcome?.previous).toBe('1');
    expect(await resolver.get('db-password', { version: 'previous' })).toBe('old-value');
    await new Promise((r) => setTimeout(r, 250));
    expect(await resolver.retireExpired()).toMatchObject([{ name: 'db-password', version: '1' }]);
    expect(wire.count('disable')).toBe(1);
    expect(await codeOf(resolver.get('db-password', { version: 'previous' }))).toBe('NOT_FOUND');
    // The version itself: disabled, so access is refused (FAILED_PRECONDITION on the wire).
    expect(await codeOf(p.get('db-password', { version: '1' }))).toBeTruthy();
    expect(await resolver.get('db-password')).toBe('new-value');
    const versions = await p.versions!('db-password', {});
    expect(versions.find((v) => v.version === '1')).toMatchObject({ enabled: false });
    await resolver.close();
    await p.close?.();
  });

  it('a failed test rolls back: the old value is the latest again', async () => {
    const p = make();
    const resolver = createResolver({ providers: [p], cache: false, audit: false, env: {} });
    await p.set!('api-key', 'stable', {});
    const code = await codeOf(
      resolver.rotate('api-key', {
        generate: () => 'broken',
        test: () => {
          throw new Error('nope');
        },
      }),
    );
    expect(code).toBeTruthy();
    expect(await resolver.get('api-key')).toBe('stable');
    const versions = await p.versions!('api-key', {});
    expect(versions.find((v) => v.version === '2')).toMatchObject({ enabled: false });
    await resolver.close();
    await p.close?.();
  });
});

describe('gcp: a retirement carried across processes in a secret annotation', () => {
  it('a new resolver retires the old version once the grace period is over, not before', async () => {
    const p = make();
    await p.set!('cross-password', 'cross-old-value', {
      description: 'the db',
      metadata: { team: 'db' },
    });
    await createResolver({ providers: [p], cache: false, audit: false, env: {} }).rotate(
      'cross-password',
      { grace: 300, generate: () => 'cross-new-value' },
    );
    // Labels keep theirs; the marker (a version and a date, never a value) is an annotation.
    const stored = wire.secret('projects/p1/secrets/cross-password');
    expect(stored?.labels).toEqual({ team: 'db' });
    expect(stored?.annotations).toEqual({
      description: 'the db',
      'envmux.retire': expect.stringMatching(/^1@.+Z$/),
    });
    expect(JSON.stringify(stored?.annotations)).not.toMatch(/cross-(old|new)-value/);

    const other = () =>
      createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    const lists = wire.count('list');
    expect(await other().retireExpired()).toEqual([]);
    expect(wire.count('list') - lists).toBe(1); // one list call answers every marker
    expect(await other().get('cross-password', { version: 'previous' })).toBe('cross-old-value');
    await new Promise((r) => setTimeout(r, 350));
    expect(await other().retireExpired()).toMatchObject([{ name: 'cross-password', version: '1' }]);
    expect(await codeOf(other().get('cross-password', { version: 'previous' }))).toBe('NOT_FOUND');
    expect(await other().get('cross-password')).toBe('cross-new-value');
  });
});

describe('gcp: plain sets during the grace period keep the pending retirement', () => {
  it('a set with a description, then one with labels, then a bare one: the old version is still retired when due', async () => {
    const p = make();
    const resolver = createResolver({ providers: [p], cache: false, audit: false, env: {} });
    await p.set!('hand-password', 'hand-old-value', {
      description: 'the db',
      metadata: { team: 'db' },
    });
    await resolver.rotate('hand-password', { grace: 300, generate: () => 'hand-new-value' });
    const marker = wire.secret('projects/p1/secrets/hand-password')?.annotations?.['envmux.retire'];
    expect(marker).toMatch(/^1@.+Z$/);
    await resolver.set('hand-password', 'hand-set-1', { description: 'the db, by hand' });
    await resolver.set('hand-password', 'hand-set-2', { metadata: { team: 'payments' } });
    await resolver.set('hand-password', 'hand-set-3');
    // The user's labels and description are theirs; the one marker is still the rotation's.
    const stored = wire.secret('projects/p1/secrets/hand-password');
    expect(stored?.labels).toEqual({ team: 'payments' });
    expect(stored?.annotations).toEqual({
      description: 'the db, by hand',
      'envmux.retire': marker,
    });

    const other = () =>
      createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    expect(await other().retireExpired()).toEqual([]);
    await new Promise((r) => setTimeout(r, 350));
    expect(await other().retireExpired()).toMatchObject([{ name: 'hand-password', version: '1' }]);
    expect(await codeOf(p.get('hand-password', { version: '1' }))).toBeTruthy();
    expect(await other().get('hand-password')).toBe('hand-set-3');
    // Done once: the next retirement step finds nothing more to do.
    expect(await other().retireExpired()).toEqual([]);
    await resolver.close();
  });
});

describe('gcp: rotations within one grace period, and a rolled-back one', () => {
  const other = () => createResolver({ providers: [make()], cache: false, audit: false, env: {} });

  it('a second rotation keeps the first retirement in the marker: both old versions are retired', async () => {
    const p = make();
    await p.set!('twice-password', 'twice-1', {});
    await other().rotate('twice-password', { grace: 300, generate: () => 'twice-2' });
    await other().rotate('twice-password', { grace: 300, generate: () => 'twice-3' });
    const marker = wire.secret('projects/p1/secrets/twice-password')?.annotations?.[
      'envmux.retire'
    ];
    expect(marker).toMatch(/^1@\S+Z 2@\S+Z$/);
    await other().set('twice-password', 'twice-by-hand');
    await new Promise((r) => setTimeout(r, 350));
    const retired = await other().retireExpired();
    expect(retired.filter((r) => r.name === 'twice-password').map((r) => r.version)).toEqual([
      '1',
      '2',
    ]);
    expect(await other().get('twice-password', { version: 'previous' })).toBe('twice-3');
  });

  it.each([
    ['with', 'kept'],
    ['without', undefined],
  ] as const)(
    'a rotation rolled back after its write leaves no retirement behind (%s a description)',
    async (what, description) => {
      const p = make();
      const name = `undone-${what}`;
      await p.set!(name, 'undone-1', description ? { description } : {});
      const failed = other().rotate(name, {
        grace: 100,
        generate: () => 'undone-2',
        test: () => {
          throw new Error('no login');
        },
      });
      expect(await codeOf(failed)).toBeTruthy();
      const annotations = wire.secret(`projects/p1/secrets/${name}`)?.annotations ?? {};
      expect(annotations).toEqual(description ? { description } : {});
      await new Promise((r) => setTimeout(r, 150));
      expect((await other().retireExpired()).filter((r) => r.name === name)).toEqual([]);
      expect(await p.get(name, { version: '1' })).toBe('undone-1');
    },
  );
});
