// copySecrets with allVersions between two memory stores: whole histories oldest first with each
// version's metadata and writer, a failure part-way through a history resumed with no duplicate,
// values repeated in a history (A, B, A), and the skip-existing / overwrite rules for a
// destination whose history is unrelated. Latest-only stays the default.

import { describe, expect, it } from 'vitest';
import { copySecrets } from '../../src/manage/copy-secrets.js';
import { type MemoryProvider, memory } from '../../src/providers/memory.js';
import { createResolver } from '../../src/resolver/client.js';

function setup(src: Record<string, string[]>, dst: Record<string, string[]> = {}) {
  const a = memory({ id: 'a', values: src });
  const b = memory({ id: 'b', values: dst });
  const resolver = createResolver({
    providers: [a, b],
    cache: false,
    audit: false,
    retry: { attempts: 1 },
    breaker: false,
  });
  return { a, b, resolver };
}

async function values(store: MemoryProvider, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const v of await store.versions!(name, {})) {
    out.push((await store.get(name, { version: v.version }))!);
  }
  return out;
}

describe('copySecrets with allVersions', () => {
  it('copies every version oldest first; the default copies the latest only', async () => {
    const { b, resolver } = setup({ x: ['x1', 'x2', 'x3'], y: ['y1'] });
    const latest = await copySecrets({ resolver, from: 'a', to: 'b' });
    expect(latest.allVersions).toBe(false);
    expect(await values(b, 'x')).toEqual(['x3']);

    const fresh = setup({ x: ['x1', 'x2', 'x3'], y: ['y1'] });
    const report = await copySecrets({
      resolver: fresh.resolver,
      from: 'a',
      to: 'b',
      allVersions: true,
      verify: true,
    });
    expect(report).toMatchObject({ ok: true, allVersions: true });
    expect(report.counts).toMatchObject({ create: 2, versions: 4, verified: 2 });
    expect(await values(fresh.b, 'x')).toEqual(['x1', 'x2', 'x3']);
  });

  it('carries each version’s description, metadata and writer (not envmux’s own keys)', async () => {
    const { a, b, resolver } = setup({});
    await a.set!('s', 'one', { description: 'first', metadata: { team: 'core' }, actor: 'alice' });
    await a.set!('s', 'two', {
      description: 'second',
      metadata: { team: 'edge', 'envmux.retire': '1@2030-01-01T00:00:00Z' },
      actor: 'bob',
    });
    await copySecrets({ resolver, from: 'a', to: 'b', allVersions: true });
    const versions = await b.versions!('s', {});
    expect(versions.map((v) => [v.description, v.metadata, v.updatedBy])).toEqual([
      ['first', { team: 'core' }, 'alice'],
      ['second', { team: 'edge' }, 'bob'],
    ]);
  });

  it('a failure part-way through a history is resumed with no duplicate version', async () => {
    const { b, resolver } = setup({ h: ['v1', 'v2', 'v1', 'v4', 'v5'] });
    const set = b.set!.bind(b);
    let writes = 0;
    (b as { set: typeof set }).set = async (name, value, ctx) => {
      if (++writes === 3) b.outage('UNAVAILABLE');
      return set(name, value, ctx);
    };
    const first = await copySecrets({ resolver, from: 'a', to: 'b', allVersions: true });
    expect(first.ok).toBe(false);
    b.outage(false);
    expect(await values(b, 'h')).toEqual(['v1', 'v2']);
    b.resetCalls();
    const second = await copySecrets({ resolver, from: 'a', to: 'b', allVersions: true });
    expect(second.ok).toBe(true);
    expect(second.items[0]).toMatchObject({ action: 'update', versions: 3 });
    expect(b.calls.set).toBe(3);
    expect(await values(b, 'h')).toEqual(['v1', 'v2', 'v1', 'v4', 'v5']);
    b.resetCalls();
    const third = await copySecrets({ resolver, from: 'a', to: 'b', allVersions: true });
    expect(third.items[0]).toMatchObject({ action: 'skip', reason: 'unchanged', versions: 0 });
    expect(b.calls.set).toBe(0);
  });

  it('an unrelated destination history: skip-existing leaves it, overwrite appends the source’s', async () => {
    const { b, resolver } = setup({ n: ['s1', 's2'] }, { n: ['other'] });
    const plan = await copySecrets({
      resolver,
      from: 'a',
      to: 'b',
      allVersions: true,
      dryRun: true,
    });
    expect(plan.items[0]).toMatchObject({ action: 'skip', reason: 'exists', status: 'planned' });
    const over = await copySecrets({
      resolver,
      from: 'a',
      to: 'b',
      allVersions: true,
      mode: 'overwrite',
    });
    expect(over.items[0]).toMatchObject({ action: 'update', versions: 2, status: 'done' });
    expect(await values(b, 'n')).toEqual(['other', 's1', 's2']);
  });

  it('falls back to the latest value when the destination keeps no versions', async () => {
    const a = memory({ id: 'a', values: { k: ['1', '2'] } });
    const store = new Map<string, string>();
    const resolver = createResolver({
      providers: [
        a,
        {
          id: 'flat',
          get: async (name: string) => store.get(name),
          set: async (name: string, value: string) => {
            store.set(name, value);
            return undefined;
          },
        },
      ],
      cache: false,
      audit: false,
      retry: { attempts: 1 },
    });
    const report = await copySecrets({ resolver, from: 'a', to: 'flat', allVersions: true });
    expect(report.allVersions).toBe(false);
    expect(store.get('k')).toBe('2');
  });
});
