// `azure` retirement through the real @azure/keyvault-secrets client against the wire server: Key
// Vault deletes secrets, not versions, so after the grace period the rotated-out version is disabled
// (Update Secret, `attributes.enabled = false`): `previous` is gone and a read of that version is 403;
// a failed `test` rolls back by writing the old value as a new version.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { azure } from '../../../src/providers/azure/key-vault.js';
import { createResolver } from '../../../src/resolver/client.js';
import { makeLoopbackCertificate } from '../../servers/certificate.js';
import { type AzureWireServer, startAzureWire } from './wire-server.js';

const tls = makeLoopbackCertificate();
if ('missing' in tls) {
  if (process.env.ENVMUX_REQUIRE_SERVERS === '1') throw new Error(tls.missing);
  console.warn(`SKIPPED azure retire tests: ${tls.missing}`);
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
}

let wire: AzureWireServer;
beforeAll(async () => {
  if (!('missing' in tls)) wire = await startAzureWire(tls);
});
afterAll(async () => {
  await wire?.close();
});
const make = () =>
  azure({
    vaultUrl: wire.url,
    credential: {
      getToken: async () => ({ token: wire.token, expiresOnTimestamp: Date.now() + 3_600_000 }),
    },
    env: {},
    pollIntervalMs: 5,
    clientOptions: { disableChallengeResourceVerification: true, tlsOptions: { ca: wire.cert } },
  });

describe.skipIf('missing' in tls)('azure: retirement', () => {
  it('keeps previous for the grace period, then disables it: previous is gone', async () => {
    const p = make();
    const resolver = createResolver({ providers: [p], cache: false, audit: false, env: {} });
    const { version: old } = (await p.set!('db-password', 'old-value', {}))!;
    const [outcome] = await resolver.rotate('db-password', {
      grace: 200,
      generate: () => 'new-value',
    });
    expect(outcome?.previous).toBe(old);
    expect(await resolver.get('db-password', { version: 'previous' })).toBe('old-value');
    await new Promise((r) => setTimeout(r, 250));
    expect(await resolver.retireExpired()).toMatchObject([{ name: 'db-password', version: old }]);
    expect(wire.count('update')).toBe(1);
    expect(await codeOf(resolver.get('db-password', { version: 'previous' }))).toBe('NOT_FOUND');
    expect(await codeOf(p.get('db-password', { version: old }))).toBe('NOT_FOUND'); // 403 disabled
    expect(await resolver.get('db-password')).toBe('new-value');
    const versions = await p.versions!('db-password', {});
    expect(versions.find((v) => v.version === old)).toMatchObject({ enabled: false });
    await resolver.close();
  });

  it('a failed test rolls back: the old value is served again', async () => {
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
    await resolver.close();
  });

  it('Update Secret on an unknown version is 404 SecretNotFound (through the SDK)', async () => {
    const { SecretClient } = await import('@azure/keyvault-secrets');
    const client = new SecretClient(
      wire.url,
      {
        getToken: async () => ({ token: wire.token, expiresOnTimestamp: Date.now() + 3_600_000 }),
      },
      { disableChallengeResourceVerification: true, tlsOptions: { ca: wire.cert } } as never,
    );
    const p = make();
    await p.set!('known', 'v', {});
    await expect(
      client.updateSecretProperties('known', '0'.repeat(32), { enabled: false }),
    ).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
    const [only] = await p.versions!('known', {});
    const updated = await client.updateSecretProperties('known', only!.version, { enabled: false });
    expect(updated.enabled).toBe(false);
  });

  it("a retirement travels in the new version's tags: a new resolver retires it after the grace period", async () => {
    const p = make();
    const { version: old } = (await p.set!('cross-password', 'cross-old-value', {
      metadata: { team: 'db' },
    }))!;
    await createResolver({ providers: [p], cache: false, audit: false, env: {} }).rotate(
      'cross-password',
      { grace: 300, generate: () => 'cross-new-value' },
    );
    const [info] = (await make().list!('cross-password', {})).filter(
      (i) => i.name === 'cross-password',
    );
    // The marker is a version and a date, never a value; the other tags stay.
    expect(info?.metadata).toEqual({
      team: 'db',
      'envmux.retire': expect.stringMatching(new RegExp(`^${old}@.+Z$`)),
    });
    expect(JSON.stringify(info)).not.toMatch(/cross-(old|new)-value/);

    const other = () =>
      createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    const lists = wire.count('list');
    expect(await other().retireExpired()).toEqual([]);
    expect(wire.count('list') - lists).toBe(1); // one list call answers every marker
    expect(await other().get('cross-password', { version: 'previous' })).toBe('cross-old-value');
    await new Promise((r) => setTimeout(r, 350));
    expect(await other().retireExpired()).toMatchObject([{ name: 'cross-password', version: old }]);
    expect(await codeOf(other().get('cross-password', { version: 'previous' }))).toBe('NOT_FOUND');
    expect(await other().get('cross-password')).toBe('cross-new-value');
  });
});

describe.skipIf('missing' in tls)('azure: plain sets during the grace period', () => {
  const infoOf = async (name: string) =>
    (await make().list!(name, {})).find((i) => i.name === name);

  it('keep the pending retirement (and the tags and description) on each new version', async () => {
    const p = make();
    const resolver = createResolver({ providers: [p], cache: false, audit: false, env: {} });
    const { version: old } = (await p.set!('hand-password', 'hand-old-value', {
      description: 'the db',
      metadata: { team: 'db' },
    }))!;
    await resolver.rotate('hand-password', { grace: 300, generate: () => 'hand-new-value' });
    const marker = (await infoOf('hand-password'))?.metadata?.['envmux.retire'];
    expect(marker).toMatch(new RegExp(`^${old}@.+Z$`));
    expect(await infoOf('hand-password')).toMatchObject({ description: 'the db' });

    await resolver.set('hand-password', 'hand-set-1');
    expect(await infoOf('hand-password')).toMatchObject({
      description: 'the db',
      metadata: { team: 'db', 'envmux.retire': marker },
    });
    await resolver.set('hand-password', 'hand-set-2', {
      description: 'by hand',
      metadata: { team: 'payments' },
    });
    const info = await infoOf('hand-password');
    expect(info?.description).toBe('by hand');
    expect(info?.metadata).toEqual({ team: 'payments', 'envmux.retire': marker });

    const other = () =>
      createResolver({ providers: [make()], cache: false, audit: false, env: {} });
    expect(await other().retireExpired()).toEqual([]);
    await new Promise((r) => setTimeout(r, 350));
    expect(await other().retireExpired()).toMatchObject([{ name: 'hand-password', version: old }]);
    expect(await codeOf(p.get('hand-password', { version: old }))).toBe('NOT_FOUND');
    expect(await other().get('hand-password')).toBe('hand-set-2');
    expect(await other().retireExpired()).toEqual([]);
    await resolver.close();
  });
});

describe.skipIf('missing' in tls)(
  'azure: rotations within one grace period, and a rolled-back one',
  () => {
    const other = () =>
      createResolver({ providers: [make()], cache: false, audit: false, env: {} });

    it('a second rotation keeps the first retirement in the marker: both old versions are retired', async () => {
      const p = make();
      const { version: first } = (await p.set!('twice-password', 'twice-1', {}))!;
      const [rotated] = await other().rotate('twice-password', {
        grace: 300,
        generate: () => 'twice-2',
      });
      const second = rotated?.version;
      await other().rotate('twice-password', { grace: 300, generate: () => 'twice-3' });
      await other().set('twice-password', 'twice-by-hand');
      await new Promise((r) => setTimeout(r, 350));
      const retired = await other().retireExpired();
      expect(retired.map((r) => r.version).sort()).toEqual([first, second].sort());
      expect(await other().get('twice-password', { version: 'previous' })).toBe('twice-3');
    });

    it.each([
      ['with', { team: 'db' }],
      ['without', undefined],
    ] as const)(
      'a rotation rolled back after its write leaves no retirement behind (%s tags)',
      async (what, metadata) => {
        const p = make();
        const name = `undone-${what}`;
        const { version: first } = (await p.set!(name, 'undone-1', {
          description: 'kept',
          ...(metadata ? { metadata } : {}),
        }))!;
        const failed = other().rotate(name, {
          grace: 100,
          generate: () => 'undone-2',
          test: () => {
            throw new Error('no login');
          },
        });
        expect(await codeOf(failed)).toBeTruthy();
        expect(wire.secret(name)?.versions.at(-1)?.tags).toEqual({
          ...metadata,
          description: 'kept',
        });
        await new Promise((r) => setTimeout(r, 150));
        expect((await other().retireExpired()).filter((r) => r.name === name)).toEqual([]);
        expect(await p.get(name, { version: first })).toBe('undone-1');
      },
    );
  },
);
