// copySecrets between two memory stores: plan, modes, rename, verify, and resumability after a
// failure at item 100 of 200 (no duplicate versions, no re-copies: counted set calls).

import { describe, expect, it } from 'vitest';
import { copySecrets } from '../../src/manage/copy-secrets.js';
import { type MemoryProvider, memory } from '../../src/providers/memory.js';
import { createResolver } from '../../src/resolver/client.js';

const values = (n: number, prefix = 'app/') =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `${prefix}k${String(i).padStart(3, '0')}`,
      `value-${i}-Zq9"'$\n`,
    ]),
  );

function setup(src: Record<string, string>, dst: Record<string, string> = {}) {
  const a = memory({ id: 'a', values: src });
  const b = memory({ id: 'b', values: dst });
  const resolver = createResolver({
    providers: [a, b],
    cache: false,
    audit: false,
    retry: { attempts: 1 },
    // A re-run here is a new process in real use: no circuit breaker state carried between runs.
    breaker: false,
  });
  return { a, b, resolver };
}

async function versionsOf(store: MemoryProvider, name: string) {
  return (await store.versions!(name, {})).length;
}

describe('copySecrets', () => {
  it('dry run plans create / update / skip and writes nothing', async () => {
    const { b, resolver } = setup({ x: '1', y: '2', z: '3' }, { y: '2', z: 'different' });
    const skip = await copySecrets({ resolver, from: 'a', to: 'b', dryRun: true });
    expect(skip.items.map((i) => [i.source, i.action, i.reason, i.status])).toEqual([
      ['x', 'create', undefined, 'planned'],
      ['y', 'skip', 'unchanged', 'planned'],
      ['z', 'skip', 'exists', 'planned'],
    ]);
    const over = await copySecrets({
      resolver,
      from: 'a',
      to: 'b',
      dryRun: true,
      mode: 'overwrite',
    });
    expect(over.counts).toMatchObject({ total: 3, create: 1, update: 1, skip: 1, failed: 0 });
    expect(b.calls.set).toBe(0);
  });

  it('copies, overwrites only differing values, and verifies by digest', async () => {
    const { b, resolver } = setup({ x: '1', y: '2', z: '3' }, { y: '2', z: 'old' });
    const report = await copySecrets({
      resolver,
      from: 'a',
      to: 'b',
      mode: 'overwrite',
      verify: true,
    });
    expect(report.ok).toBe(true);
    expect(report.counts).toMatchObject({ create: 1, update: 1, skip: 1, verified: 3 });
    expect(b.calls.set).toBe(2);
    expect(await resolver.get('z', { provider: 'b' })).toBe('3');
    expect(await versionsOf(b, 'y')).toBe(1);
  });

  it('prefix and rename map names; a clash is a CONFIG error', async () => {
    const { resolver } = setup({ 'dev/db': 'p', 'dev/api/key': 'k', 'other/x': 'o' });
    const report = await copySecrets({
      resolver,
      from: 'a',
      to: 'b',
      prefix: 'dev/',
      rename: ['dev/*=prod/*'],
    });
    expect(report.items.map((i) => [i.source, i.target])).toEqual([
      ['dev/api/key', 'prod/api/key'],
      ['dev/db', 'prod/db'],
    ]);
    expect(await resolver.get('prod/api/key', { provider: 'b' })).toBe('k');
    await expect(
      copySecrets({ resolver, from: 'a', to: 'b', rename: ['*=same'] }),
    ).rejects.toMatchObject({ code: 'CONFIG' });
  });

  it('a failure at item 100 of 200, then a re-run: no duplicates and no re-copies', async () => {
    const src = values(200);
    const { b, resolver } = setup(src);
    // The destination goes down after its 99th write: items 100..200 fail.
    const set = b.set!.bind(b);
    let writes = 0;
    (b as { set: typeof set }).set = async (name, value, ctx) => {
      if (++writes === 100) b.outage('UNAVAILABLE');
      return set(name, value, ctx);
    };
    const first = await copySecrets({ resolver, from: 'a', to: 'b', concurrency: 1 });
    expect(first.ok).toBe(false);
    expect(first.counts).toMatchObject({ create: 99, failed: 101 });
    expect(first.items.find((i) => i.status === 'failed')?.error?.code).toBe('UNAVAILABLE');

    b.outage(false);
    b.resetCalls();
    const second = await copySecrets({ resolver, from: 'a', to: 'b', verify: true });
    expect(second.ok).toBe(true);
    expect(second.counts).toMatchObject({ create: 101, skip: 99, failed: 0, verified: 200 });
    expect(b.calls.set).toBe(101);
    for (const name of Object.keys(src)) {
      expect(await versionsOf(b, name)).toBe(1);
      expect(await resolver.get(name, { provider: 'b' })).toBe(src[name]);
    }

    b.resetCalls();
    const third = await copySecrets({ resolver, from: 'a', to: 'b', mode: 'overwrite' });
    expect(third.counts).toMatchObject({ skip: 200, create: 0, update: 0 });
    expect(b.calls.set).toBe(0);
  });

  it('failures carry codes; reports, errors and progress never hold a value', async () => {
    const src = values(20);
    const { a, resolver } = setup(src);
    a.fail('app/k005', 'ACCESS_DENIED');
    const seen: string[] = [];
    const report = await copySecrets({
      resolver,
      from: 'a',
      to: 'b',
      verify: true,
      onProgress: (p) => seen.push(JSON.stringify(p)),
    });
    expect(report.counts.failed).toBe(1);
    expect(report.items.find((i) => i.source === 'app/k005')?.error?.code).toBe('ACCESS_DENIED');
    expect(seen).toHaveLength(20);
    const text = JSON.stringify(report) + seen.join('');
    for (const value of Object.values(src)) expect(text).not.toContain(value.slice(0, 9));
  });

  it('an unknown source provider is a coded error', async () => {
    const { resolver } = setup({});
    await expect(copySecrets({ resolver, from: 'nosuch', to: 'b' })).rejects.toMatchObject({
      code: 'INVALID_REFERENCE',
    });
  });
});
