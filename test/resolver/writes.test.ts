// Rotation with a grace period through createResolver: readers never see an error or a torn value,
// `previous` is retired after the grace (memory and the local vault, across resolvers), apply/test
// failures roll back, each step is audited without values, dry runs write nothing.

import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { EnvmuxError } from '../../src/errors.js';
import { memory } from '../../src/providers/memory.js';
import { capabilitiesOf, defineProvider } from '../../src/providers/provider.js';
import { createResolver } from '../../src/resolver/client.js';
import { makeVault } from '../providers/local/vault-fixture.js';

const OLD = 'old-secret-value-aaa1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Read `name` in a loop (no cache) until `stop()`; collect every value and error. */
function readerLoop(resolver: ReturnType<typeof createResolver>, name: string) {
  const seen = new Set<string>();
  const errors: unknown[] = [];
  let running = true;
  let reads = 0;
  const done = (async () => {
    while (running) {
      try {
        seen.add(await resolver.get(name, { cache: false }));
        reads++;
      } catch (error) {
        errors.push(error);
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    seen,
    errors,
    stop: async () => {
      running = false;
      await done;
      return reads;
    },
  };
}

describe('rotate with a grace period (memory)', () => {
  it('readers see only the old or the new value; after the grace, previous is gone', async () => {
    const store = memory({ values: { db: OLD } });
    const audit = new AuditLog();
    const resolver = createResolver({ providers: [store], audit: { log: audit } });
    const reader = readerLoop(resolver, 'db');
    await sleep(20);
    const [outcome] = await resolver.rotate('db', { grace: 80, generate: () => 'new-value-bbb2' });
    await sleep(20);
    expect(await reader.stop()).toBeGreaterThan(0);
    expect(reader.errors).toEqual([]);
    expect([...reader.seen].every((v) => v === OLD || v === 'new-value-bbb2')).toBe(true);
    expect(outcome).toMatchObject({ provider: 'memory', version: '2', previous: '1' });
    expect(await resolver.get('db', { version: 'previous' })).toBe(OLD);
    expect(await resolver.retireExpired()).toEqual([]); // still in its grace period
    expect(resolver.pendingRetirements()).toHaveLength(1);
    await sleep(120);
    expect(await resolver.retireExpired()).toMatchObject([{ name: 'db', version: '1' }]);
    await expect(resolver.get('db', { version: 'previous', cache: false })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await resolver.get('db')).toBe('new-value-bbb2');
    const steps = audit.query({ action: 'rotate' }).map((e) => e.step);
    expect(steps).toEqual(['write', 'invalidate', 'retire']);
    expect(JSON.stringify(audit.query())).not.toMatch(/aaa1|bbb2/);
  });

  it('plain sets during the grace period: the schedule (in this process) still retires the old version', async () => {
    const store = memory({ values: { db: OLD } });
    const resolver = createResolver({ providers: [store], audit: false });
    await resolver.rotate('db', { grace: 40, generate: () => 'new-value-iii9' });
    await resolver.set('db', 'by-hand-jjj1', { metadata: { team: 'payments' } });
    await resolver.set('db', 'by-hand-kkk2');
    await sleep(60);
    expect(await resolver.retireExpired()).toMatchObject([{ name: 'db', version: '1' }]);
    expect((await resolver.versions('db')).map((v) => v.version)).toEqual(['2', '3', '4']);
    expect(await resolver.retireExpired()).toEqual([]);
  });

  it('a later rotate runs the due retirement step first (no timer)', async () => {
    const store = memory({ values: { db: OLD } });
    const resolver = createResolver({ providers: [store], audit: false });
    await resolver.rotate('db', { grace: 10 });
    await sleep(30);
    await resolver.rotate('db', { grace: '1h' });
    // version 1 was retired; 2 is previous now, 3 latest
    expect((await resolver.versions('db')).map((v) => v.version)).toEqual(['2', '3']);
  });

  it('the cache serves the new value right after rotate (every tier invalidated)', async () => {
    const store = memory({ values: { db: OLD } });
    const resolver = createResolver({ providers: [store], audit: false });
    expect(await resolver.get('db')).toBe(OLD);
    await resolver.rotate('db', { generate: () => 'new-value-ccc3' });
    expect(await resolver.get('db')).toBe('new-value-ccc3');
  });

  it('apply runs before test, both with the new value; a test failure rolls back', async () => {
    const store = memory({ values: { db: OLD } });
    const audit = new AuditLog();
    const resolver = createResolver({ providers: [store], audit: { log: audit } });
    const calls: string[] = [];
    const error = await resolver
      .rotate('db', {
        generate: () => 'new-value-ddd4',
        apply: (v) => {
          calls.push(`apply:${v}`);
        },
        test: (v) => {
          calls.push(`test:${v}`);
          throw new Error(`login failed for password ${v}`);
        },
      })
      .catch((e: unknown) => e);
    expect(calls).toEqual(['apply:new-value-ddd4', 'test:new-value-ddd4']);
    expect(error).toBeInstanceOf(EnvmuxError);
    expect(String(error)).not.toContain('ddd4');
    expect(JSON.stringify(error)).not.toContain('ddd4');
    expect(await resolver.get('db')).toBe(OLD);
    expect((await resolver.versions('db')).map((v) => v.version)).toEqual(['1']);
    const steps = audit.query({ action: 'rotate' }).map((e) => `${e.step}:${e.outcome}`);
    expect(steps).toEqual(['write:ok', 'apply:ok', 'test:error', 'rollback:ok']);
    expect(JSON.stringify(audit.query())).not.toContain('ddd4');
  });

  it('a store without versions is rolled back by re-setting the old value', async () => {
    const inner = memory({ values: { db: OLD } });
    // Only get and set: no versions, no deleteVersion.
    const plain = {
      id: 'plain',
      type: 'plain',
      get: inner.get,
      set: inner.set,
    };
    const resolver = createResolver({ providers: [plain], audit: false });
    await expect(
      resolver.rotate('db', {
        apply: () => {
          throw new Error('ALTER USER failed');
        },
      }),
    ).rejects.toMatchObject({ key: 'db' });
    expect(await resolver.get('db', { cache: false })).toBe(OLD);
  });

  it('a dry run names the stores and writes nothing', async () => {
    const store = memory({ values: { db: OLD } });
    const resolver = createResolver({ providers: [store], audit: false });
    expect(await resolver.rotate('db', { dryRun: true })).toEqual([
      { provider: 'memory', dryRun: true },
    ]);
    expect(store.calls.set).toBe(0);
  });
});

describe('rotate with a grace period (local vault)', () => {
  it('readers never fail; previous is retired after the grace by another resolver (another process)', async () => {
    const v = await makeVault();
    const setup = v.open();
    await setup.set('db', OLD);
    const writer = createResolver({ providers: [v.open()], audit: false });
    const readerResolver = createResolver({ providers: [v.open()], audit: false });
    const reader = readerLoop(readerResolver, 'db');
    const [outcome] = await writer.rotate('db', { grace: 100, generate: () => 'new-value-eee5' });
    await sleep(20);
    await reader.stop();
    expect(reader.errors).toEqual([]);
    expect([...reader.seen].every((x) => x === OLD || x === 'new-value-eee5')).toBe(true);
    expect(outcome).toMatchObject({ version: '2', previous: '1' });
    expect(await readerResolver.get('db', { version: 'previous', cache: false })).toBe(OLD);
    await sleep(150);
    // A fresh resolver (as a later `envmux rotate` process would be) finds the retirement in the vault.
    const later = createResolver({ providers: [v.open()], audit: false });
    expect(later.pendingRetirements()).toEqual([]);
    expect(await later.retireExpired()).toMatchObject([{ name: 'db', version: '1' }]);
    expect(await later.get('db', { version: 'previous', cache: false }).catch((e) => e.code)).toBe(
      'NOT_FOUND',
    );
    expect(await later.get('db')).toBe('new-value-eee5');
    expect(await later.retireExpired()).toEqual([]); // done once
  });

  it('a set with metadata of its own during the grace period keeps the pending retirement', async () => {
    const v = await makeVault();
    await v.open().set('db', OLD, { metadata: { team: 'db' } });
    const writer = createResolver({ providers: [v.open()], audit: false });
    await writer.rotate('db', { grace: 100, generate: () => 'new-value-fff6' });
    await writer.set('db', 'by-hand-ggg7', { metadata: { team: 'payments' } });
    await writer.set('db', 'by-hand-hhh8');
    const [info] = await v.open().list!('db', {});
    expect(info?.metadata).toMatchObject({
      team: 'payments',
      'envmux.retire': expect.stringMatching(/^1@.+Z$/),
    });
    await sleep(150);
    const later = createResolver({ providers: [v.open()], audit: false });
    expect(await later.retireExpired()).toMatchObject([{ name: 'db', version: '1' }]);
    expect(await later.get('db', { version: '1', cache: false }).catch((e) => e.code)).toBe(
      'NOT_FOUND',
    );
    expect(await later.get('db')).toBe('by-hand-hhh8');
    expect(await later.retireExpired()).toEqual([]); // done once
  });

  it('rotations within one grace period: another resolver retires every old version when due', async () => {
    const v = await makeVault();
    await v.open().set('db', OLD);
    for (const n of [2, 3, 4]) {
      await createResolver({ providers: [v.open()], audit: false }).rotate('db', {
        grace: 100,
        generate: () => `new-value-${n}`,
      });
    }
    const [info] = await v.open().list!('db', {});
    expect(info?.metadata?.['envmux.retire']).toMatch(/^1@\S+Z 2@\S+Z 3@\S+Z$/);
    await sleep(150);
    const later = createResolver({ providers: [v.open()], audit: false });
    expect((await later.retireExpired()).map((r) => r.version)).toEqual(['1', '2', '3']);
    expect((await later.versions('db')).map((x) => x.version)).toEqual(['4']);
  });

  it('an apply failure removes the new version: the vault is as before', async () => {
    const v = await makeVault();
    await v.open().set('db', OLD);
    const resolver = createResolver({ providers: [v.open()], audit: false });
    await expect(
      resolver.rotate('db', {
        apply: async () => {
          throw new Error('nope');
        },
      }),
    ).rejects.toBeInstanceOf(EnvmuxError);
    expect(await resolver.get('db', { cache: false })).toBe(OLD);
    expect((await resolver.versions('db')).map((x) => x.version)).toEqual(['1']);
  });
});

describe('a refused write never quotes the value written', () => {
  it('scrubs the value (raw, URL-encoded, base64) from the error a store threw', async () => {
    const value = 'WriteCanary/Value+With=Symbols&?';
    const quote = `${value} ${encodeURIComponent(value)} ${Buffer.from(value).toString('base64')}`;
    const resolver = createResolver({
      providers: [
        {
          id: 'echo',
          type: 'echo',
          async get() {
            return undefined;
          },
          async set() {
            throw Object.assign(new Error(`refused write of ${quote}`), { status: 403 });
          },
        },
      ],
      audit: false,
    });
    const error = await resolver.set('db', value).then(
      () => undefined,
      (e: unknown) => e as EnvmuxError,
    );
    expect(error?.code).toBe('ACCESS_DENIED');
    const text = [
      error!.message,
      error!.stack,
      String((error as { cause?: Error }).cause?.message),
      String((error as { cause?: Error }).cause?.stack),
      JSON.stringify(error),
    ].join('\n');
    for (const form of [value, encodeURIComponent(value), Buffer.from(value).toString('base64')]) {
      expect(text).not.toContain(form.replace(/=+$/, ''));
    }
    // A foreign error's own text is never repeated: its name and status say what failed.
    expect(error!.message).toBe('provider "echo" failed (Error, HTTP 403)');
  });
});

describe('a retirement travels in the metadata of any store that declares keepsMetadata', () => {
  /** A versioned store in a few lines; `keeps` says whether it declares keepsMetadata. */
  const store = (keeps: boolean) => {
    const versions: string[] = [];
    let meta: Record<string, string> | undefined;
    let lists = 0;
    const p = defineProvider({
      id: 'custom',
      ...(keeps ? { keepsMetadata: true } : {}),
      async get(_name, ctx) {
        if (ctx.version === 'previous') return versions.at(-2);
        return ctx.version ? versions[Number(ctx.version) - 1] : versions.at(-1);
      },
      async set(_name, value, ctx) {
        versions.push(value);
        if (ctx.metadata) meta = { ...ctx.metadata };
        return { version: String(versions.length) };
      },
      async list() {
        lists++;
        return [{ name: 'k', ...(meta ? { metadata: meta } : {}) }];
      },
      async versions() {
        return versions.map((v, i) => ({
          version: String(i + 1),
          enabled: v !== '',
          stages: i === versions.length - 1 ? ['latest'] : [],
        }));
      },
      async deleteVersion(_name, version) {
        versions[Number(version) - 1] = '';
      },
    });
    return { p, meta: () => meta, lists: () => lists };
  };
  const resolverOf = (p: ReturnType<typeof store>['p']) =>
    createResolver({ providers: [p], cache: false, audit: false, env: {} });

  it('declared: the marker is a version and a date; a new resolver retires after the grace', async () => {
    const s = store(true);
    expect(capabilitiesOf(s.p).metadata).toBe(true);
    await s.p.set!('k', 'custom-old', {});
    await resolverOf(s.p).rotate('k', { grace: 150, generate: () => 'custom-new' });
    expect(s.meta()).toEqual({ 'envmux.retire': expect.stringMatching(/^1@.+Z$/) });
    const before = s.lists();
    expect(await resolverOf(s.p).retireExpired()).toEqual([]);
    expect(s.lists() - before).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(await resolverOf(s.p).retireExpired()).toMatchObject([{ name: 'k', version: '1' }]);
    expect(await resolverOf(s.p).retireExpired()).toEqual([]); // retired once, not again
  });

  it('not declared: no marker is written, and nothing is retired by another resolver', async () => {
    const s = store(false);
    expect(capabilitiesOf(s.p).metadata).toBe(false);
    await s.p.set!('k', 'custom-old', {});
    await resolverOf(s.p).rotate('k', { grace: 50, generate: () => 'custom-new' });
    expect(s.meta()).toBeUndefined();
    await new Promise((r) => setTimeout(r, 80));
    expect(await resolverOf(s.p).retireExpired()).toEqual([]);
  });
});
