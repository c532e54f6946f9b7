// The warm read path: a first-tier hit answers `resolver.get` in as many microtask turns as an
// awaited no-op async function (no await chain inside), with the audit log on or off, and a warm
// hit still records its audit entry and counts in the cache stats.

import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/index.js';
import { memory } from '../../src/providers/index.js';

/** Microtask turns until `promise` settles (a turn = one `await` of a resolved promise). */
async function turns(promise: Promise<unknown>): Promise<number> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  let n = 0;
  while (!settled && n < 20) {
    await Promise.resolve();
    n++;
  }
  return n;
}

describe('warm resolver.get', () => {
  for (const audit of [false, undefined] as const) {
    it(`settles as fast as an awaited no-op async function (audit ${audit === false ? 'off' : 'on'})`, async () => {
      const resolver = createResolver({
        providers: [memory({ values: { db: '{"password":"pw"}' } })],
        ...(audit === false ? { audit: false as const } : {}),
      });
      await resolver.get('db');
      const floor = await turns((async () => 1)());
      expect(await turns(resolver.get('db'))).toBeLessThanOrEqual(floor);
      expect(await turns(resolver.get('db', { field: 'password' }))).toBeLessThanOrEqual(floor);
      expect(await resolver.get('db', { field: 'password' })).toBe('pw');
      expect(resolver.cacheStats().hits).toBe(3);
    });
  }

  it('a warm hit is audited as one', async () => {
    const resolver = createResolver({ providers: [memory({ values: { db: 'v' } })] });
    resolver.clearAudit();
    await resolver.get('db');
    await resolver.get('db');
    const entries = resolver.audit({ key: 'db' });
    expect(entries.map((e) => e.cache)).toEqual(['miss', 'hit']);
  });

  it('a missing field of a warm entry rejects (never throws synchronously)', async () => {
    const resolver = createResolver({ providers: [memory({ values: { db: '{"a":1}' } })] });
    await resolver.get('db');
    const pending = resolver.get('db', { field: 'nope' });
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('warm keys', () => {
  it('past the bound of kept keys every name still hits its own entry; versions and pins stay apart', async () => {
    const names = Array.from({ length: 5000 }, (_, i) => `app/s${i}`);
    const resolver = createResolver({
      providers: [memory({ values: Object.fromEntries(names.map((n) => [n, `v-${n}`])) })],
      cache: { max: 10_000 },
      audit: false,
    });
    for (const name of names) await resolver.get(name);
    for (const name of names) expect(await resolver.get(name)).toBe(`v-${name}`);
    expect(resolver.cacheStats()).toMatchObject({ hits: 5000, misses: 5000, size: 5000 });
    expect(await resolver.get('app/s1', { provider: 'memory' })).toBe('v-app/s1');
    expect(resolver.cacheStats()).toMatchObject({ hits: 5000, size: 5001 });
  });
});

describe('the audit clock', () => {
  it('an audited warm get reads the wall clock at most once per timer tick', async () => {
    const resolver = createResolver({ providers: [memory({ values: { db: 'v' } })] });
    await resolver.get('db');
    await new Promise((r) => setTimeout(r, 5));
    const now = Date.now;
    let reads = 0;
    Date.now = () => {
      reads++;
      return now();
    };
    try {
      for (let i = 0; i < 1000; i++) await resolver.get('db');
    } finally {
      Date.now = now;
    }
    expect(reads).toBeLessThanOrEqual(1);
  });

  it('an audited warm get reads ENVMUX_ACTOR at most once per timer tick', async () => {
    const resolver = createResolver({ providers: [memory({ values: { db: 'v' } })] });
    await resolver.get('db');
    await new Promise((r) => setTimeout(r, 5));
    const env = process.env;
    let reads = 0;
    process.env = new Proxy(env, {
      get(target, property, receiver) {
        if (property === 'ENVMUX_ACTOR') reads++;
        return Reflect.get(target, property, receiver);
      },
    });
    try {
      for (let i = 0; i < 1000; i++) await resolver.get('db');
    } finally {
      process.env = env;
    }
    expect(reads).toBeLessThanOrEqual(1);
  });

  it('entries carry the actor of their tick (ENVMUX_ACTOR set later applies from the next tick)', async () => {
    const resolver = createResolver({ providers: [memory({ values: { db: 'v' } })] });
    const actor = process.env.ENVMUX_ACTOR;
    try {
      process.env.ENVMUX_ACTOR = 'ci:first';
      await new Promise((r) => setTimeout(r, 5));
      resolver.clearAudit();
      await resolver.get('db');
      process.env.ENVMUX_ACTOR = 'ci:second';
      await new Promise((r) => setTimeout(r, 5));
      await resolver.get('db');
      expect(resolver.audit({ key: 'db' }).map((e) => e.actor)).toEqual(['ci:first', 'ci:second']);
    } finally {
      if (actor === undefined) delete process.env.ENVMUX_ACTOR;
      else process.env.ENVMUX_ACTOR = actor;
    }
  });

  it('entries of later ticks carry later times', async () => {
    const resolver = createResolver({ providers: [memory({ values: { db: 'v' } })] });
    resolver.clearAudit();
    // A tick first: the stamp of an earlier test's last entry may still be current.
    await new Promise((r) => setTimeout(r, 5));
    const before = Date.now();
    await resolver.get('db');
    await new Promise((r) => setTimeout(r, 20));
    await resolver.get('db');
    const [first, second] = resolver.audit({ key: 'db' });
    expect(first!.time).toBeGreaterThanOrEqual(before - 2);
    expect(second!.time - first!.time).toBeGreaterThanOrEqual(15);
  });
});
