// The metrics hook: cache, provider-call and breaker events through createResolver — never a value.

import { describe, expect, it } from 'vitest';
import { createResolver, type ResolverMetric } from '../../src/index.js';
import { memory } from '../../src/providers/index.js';

const VALUE = 'metric-secret-value-9f3';

describe('onMetric', () => {
  it('emits cache miss then hit, and the provider call with its latency and outcome', async () => {
    const events: ResolverMetric[] = [];
    const store = memory({ values: { db: VALUE } });
    const resolver = createResolver({
      providers: [store],
      audit: false,
      onMetric: (m) => events.push(m),
    });
    await resolver.get('db');
    await resolver.get('db');
    const cache = events.filter((e) => e.type === 'cache');
    expect(cache.map((e) => e.outcome)).toEqual(['miss', 'hit']);
    expect(cache[0]).toMatchObject({ key: 'db', provider: 'memory' });
    const calls = events.filter((e) => e.type === 'provider-call');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ provider: 'memory', outcome: 'ok' });
    expect(typeof (calls[0] as { durationMs: number }).durationMs).toBe('number');
    expect(JSON.stringify(events)).not.toContain(VALUE);
  });

  it('emits the error code of a failed call, stale serves, and breaker state changes', async () => {
    const events: ResolverMetric[] = [];
    const store = memory({ values: { db: VALUE }, batch: false });
    const resolver = createResolver({
      providers: [store],
      audit: false,
      cache: { ttl: 1, maxStale: 60_000 },
      retry: { attempts: 1 },
      breaker: { threshold: 1, coolDown: 60_000 },
      onMetric: (m) => events.push(m),
    });
    await resolver.get('db');
    await new Promise((r) => setTimeout(r, 10));
    store.outage('UNAVAILABLE');
    expect(await resolver.get('db')).toBe(VALUE); // stale-if-error
    const failed = events.find((e) => e.type === 'provider-call' && e.outcome !== 'ok');
    expect(failed).toMatchObject({ provider: 'memory', outcome: 'UNAVAILABLE' });
    expect(events.some((e) => e.type === 'cache' && e.outcome === 'stale')).toBe(true);
    expect(events.find((e) => e.type === 'breaker')).toMatchObject({
      provider: 'memory',
      from: 'closed',
      to: 'open',
    });
    expect(JSON.stringify(events)).not.toContain(VALUE);
  });

  it('a listener that throws does not break resolution', async () => {
    const resolver = createResolver({
      providers: [memory({ values: { db: VALUE } })],
      audit: false,
      onMetric: () => {
        throw new Error('exporter down');
      },
    });
    expect(await resolver.get('db')).toBe(VALUE);
  });
});
