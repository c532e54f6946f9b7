// planLoad: reads after dedupe, calls after batching per store, chain bounds, dependent reads,
// monthly cost from the price table; parseRate's units and errors.

import { describe, expect, it } from 'vitest';
import { parseRate, planLoad } from '../../src/manage/plan.js';
import { STORE_PRICES } from '../../src/manage/prices.js';
import { memory } from '../../src/providers/memory.js';
import { createResolver, type Resolver } from '../../src/resolver/client.js';
import { parseEnvSource } from '../../src/resolver/parse.js';
import { Evaluation, resolveAsync } from '../../src/resolver/resolve.js';

const entries = (text: string) => parseEnvSource(text, '.env');

/** Resolve `text` through `resolver` as a load does (waves of batched fetches). */
const resolveAll = (text: string, resolver: Resolver) =>
  resolveAsync(
    new Evaluation(entries(text), { processEnv: {}, isScheme: resolver.isScheme }),
    (requests) => resolver.fetch(requests),
  );

/** `n` keys, each a `secret:` reference to its own name. */
const secrets = (n: number, scheme = 'secret') =>
  Array.from({ length: n }, (_, i) => `K${i}=$<${scheme}:s${i}>`).join('\n');

describe('planLoad', () => {
  it('dedupes field picks of one secret and batches per store', () => {
    const plan = planLoad({
      entries: entries(
        [
          'USER=$<aws:prod/db#user>',
          'PW=$<aws:prod/db#password>',
          'URL=postgres://$<aws:prod/db#user>@h',
          'PLAIN=1',
          'HOME_DIR=$<env:HOME:-/>',
        ].join('\n'),
      ),
      providers: ['aws'],
    });
    expect(plan.keys).toBe(5);
    expect(plan.reads).toBe(1);
    expect(plan.stores).toEqual([
      expect.objectContaining({
        provider: 'aws',
        batchSize: 20,
        reads: { min: 1, max: 1 },
        calls: { min: 1, max: 1 },
      }),
    ]);
  });

  it('45 names on AWS Secrets Manager are 3 batch calls; a pinned version is one more', () => {
    const text = `${secrets(45)}\nOLD=$<secret:s0?version=previous>`;
    const plan = planLoad({ entries: entries(text), providers: ['aws'] });
    expect(plan.reads).toBe(46);
    expect(plan.stores[0]!.calls).toEqual({ min: 4, max: 4 });
  });

  it('a store without getMany reads one name a call', () => {
    const plan = planLoad({ entries: entries(secrets(7)), providers: ['gcp'] });
    expect(plan.stores[0]).toMatchObject({ type: 'gcp', calls: { min: 7, max: 7 } });
    expect(plan.stores[0]!.batchSize).toBeUndefined();
  });

  it('secret: reads give bounds along the chain; failover off stops at the first store', () => {
    const text = `${secrets(30)}\nP=$<gcp:pinned>`;
    const plan = planLoad({ entries: entries(text), providers: ['aws', 'gcp', 'env'] });
    expect(plan.chainReads).toBe(30);
    expect(plan.stores.map((s) => [s.provider, s.calls])).toEqual([
      ['aws', { min: 2, max: 2 }],
      ['gcp', { min: 1, max: 31 }],
      ['env', { min: 0, max: 30 }],
    ]);
    expect(plan.calls).toEqual({ min: 3, max: 63 });
    const strict = planLoad({ entries: entries(text), providers: ['aws', 'gcp'], failover: false });
    expect(strict.calls).toEqual({ min: 3, max: 3 });
  });

  it('a pinned type outside the chain is planned as built on demand', () => {
    const plan = planLoad({ entries: entries('A=$<ssm:/app/a>\nB=$<ssm:/app/b>'), providers: [] });
    expect(plan.stores).toEqual([
      expect.objectContaining({ provider: 'ssm', batchSize: 10, calls: { min: 1, max: 1 } }),
    ]);
  });

  it('reads a configured instance’s own batch capability without calling it', () => {
    const store = memory({ id: 'mem', batchSize: 7 });
    const plan = planLoad({ entries: entries(secrets(15)), providers: [store] });
    expect(plan.stores[0]).toMatchObject({ provider: 'mem', type: 'memory', batchSize: 7 });
    expect(plan.stores[0]!.calls).toEqual({ min: 3, max: 3 });
    expect(store.calls).toMatchObject({ get: 0, getMany: 0 });
  });

  it('matches the calls a real load makes, at both ends of the bounds', async () => {
    const text = `${secrets(45)}\nF1=$<secret:s1#a>\nOLD=$<secret:s2?version=1>`;
    const values = Object.fromEntries(
      Array.from({ length: 45 }, (_, i) => [`s${i}`, i === 1 ? '{"a":"x"}' : `v${i}`]),
    );
    // Every name in the first store: the low bound.
    const first = memory({ id: 'first', batchSize: 20, values });
    const second = memory({ id: 'second', batchSize: 20 });
    const low = planLoad({ entries: entries(text), providers: [first, second] });
    const resolver = createResolver({ providers: [first, second], cache: false, audit: false });
    const evaluation = await resolveAll(text, resolver);
    expect(evaluation.errors).toEqual([]);
    expect(first.calls.getMany + first.calls.get).toBe(low.stores[0]!.calls.min);
    expect(second.calls.getMany + second.calls.get).toBe(low.stores[1]!.calls.min);
    // Every name in the second store: the high bound.
    const empty = memory({ id: 'first', batchSize: 20 });
    const full = memory({ id: 'second', batchSize: 20, values });
    const high = planLoad({ entries: entries(text), providers: [empty, full] });
    const r2 = createResolver({ providers: [empty, full], cache: false, audit: false });
    expect((await resolveAll(text, r2)).errors).toEqual([]);
    expect(empty.calls.getMany + empty.calls.get).toBe(high.stores[0]!.calls.max);
    expect(full.calls.getMany + full.calls.get).toBe(high.stores[1]!.calls.max);
  });

  it('counts reads whose names come from a secret, and skips keys the environment sets', () => {
    const plan = planLoad({
      entries: entries('PTR=$<secret:$<secret:pointer>>\nSET=$<secret:x>'),
      providers: ['aws'],
      processEnv: { SET: 'already' },
    });
    expect(plan.reads).toBe(1);
    expect(plan.dependentReads).toBe(1);
  });

  it('monthly cost: calls × starts × the published price, storage per secret', () => {
    const plan = planLoad({
      entries: entries(secrets(40)),
      providers: ['aws'],
      startsPerMonth: parseRate('1000/day'),
    });
    // 2 calls a start, 30,416.67 starts a month, $0.05 per 10,000 calls.
    expect(plan.monthly!.calls).toEqual({ min: 60_833, max: 60_833 });
    expect(plan.monthly!.callCost.min).toBeCloseTo(0.3042, 4);
    expect(plan.monthly!.storageCost).toBe(16);
  });
});

describe('parseRate', () => {
  it('reads starts per unit as starts a month (730 hours)', () => {
    expect(parseRate('730/hour')).toBe(730 * 730);
    expect(parseRate('1/h')).toBe(730);
    expect(parseRate('24/day')).toBe(730);
    expect(parseRate('2 / days')).toBeCloseTo(60.83, 2);
    expect(parseRate('1000/month')).toBe(1000);
    expect(parseRate('1/min')).toBe(730 * 60);
  });

  it('refuses anything else with a coded error and a hint', () => {
    for (const bad of ['100', 'many/day', '5/fortnight', '-1/day']) {
      expect(() => parseRate(bad)).toThrowError(expect.objectContaining({ code: 'CONFIG' }));
    }
  });
});

describe('price table', () => {
  it('every priced cloud store names its source and the day it was read', () => {
    for (const p of STORE_PRICES.filter((x) => x.per10kCalls > 0 || x.perSecretMonth > 0)) {
      expect(p.source, p.type).toMatch(/^https:\/\//);
      expect(p.checked, p.type).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });
});
