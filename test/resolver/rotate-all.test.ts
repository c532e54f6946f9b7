// `rotate` with `writeTo: 'all'`: one generated value, written to every writable store, with each
// store's outcome reported — a primary and its replica never diverge.

import { describe, expect, it } from 'vitest';
import { memory } from '../../src/providers/memory.js';
import { createResolver } from '../../src/resolver/client.js';

describe("rotate with writeTo: 'all'", () => {
  it('runs the generator once and writes that value to every store', async () => {
    const primary = memory({ id: 'primary', values: { db: 'old' } });
    const replica = memory({ id: 'replica', values: { db: 'old' } });
    const secrets = createResolver({
      providers: [primary, replica],
      writeTo: 'all',
      cache: false,
      audit: false,
    });
    let runs = 0;
    const outcomes = await secrets.rotate('db', { generate: () => `new-${++runs}` });
    expect(runs).toBe(1);
    expect(outcomes.map((o) => [o.provider, o.error?.code])).toEqual([
      ['primary', undefined],
      ['replica', undefined],
    ]);
    expect(await secrets.get('db', { provider: 'primary' })).toBe('new-1');
    expect(await secrets.get('db', { provider: 'replica' })).toBe('new-1');
  });

  it('reports each store: one failing store does not hide the other, nor fail the call', async () => {
    const primary = memory({ id: 'primary', values: { db: 'old' } });
    const replica = memory({ id: 'replica', values: { db: 'old' } });
    replica.fail('*', 'ACCESS_DENIED');
    const secrets = createResolver({
      providers: [primary, replica],
      writeTo: 'all',
      cache: false,
      audit: false,
    });
    const outcomes = await secrets.rotate('db', { generate: () => 'fresh' });
    expect(outcomes.map((o) => [o.provider, o.error?.code])).toEqual([
      ['primary', undefined],
      ['replica', 'ACCESS_DENIED'],
    ]);
  });

  it('refuses a generator that returns no string, before writing anything', async () => {
    const primary = memory({ id: 'primary', values: { db: 'old' } });
    const secrets = createResolver({ providers: [primary], cache: false, audit: false });
    await expect(secrets.rotate('db', { generate: () => '' })).rejects.toMatchObject({
      code: 'CONFIG',
    });
    expect(primary.calls.set).toBe(0);
  });
});
