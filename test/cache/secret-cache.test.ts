// The in-process tier's two lifetimes: a lasting cache loads lru-cache before it keeps anything; a
// cache for one load is a Map from the start (nothing to load, nothing expires or is served stale).

import { describe, expect, it } from 'vitest';
import { SecretCache } from '../../src/cache/secret-cache.js';

const entry = { value: 'v-1', provider: 'memory' };

describe('SecretCache', () => {
  it('lasting: keeps entries once ready() has loaded lru-cache', async () => {
    const cache = new SecretCache({ ttl: 60_000 });
    cache.set('secret\0db\0', entry);
    expect(cache.get('secret\0db\0')).toBeUndefined();
    await cache.ready();
    expect(cache.ready()).toBeUndefined();
    cache.set('secret\0db\0', entry);
    expect(cache.get('secret\0db\0')).toEqual(entry);
  });

  it('one load: keeps entries at once, with nothing to load', () => {
    const cache = new SecretCache({ ttl: 1, maxStale: 60_000 }, 'one load');
    expect(cache.ready()).toBeUndefined();
    cache.set('secret\0db\0', entry);
    cache.set('secret\0api\0', { ...entry, value: 'v-2' });
    expect(cache.get('secret\0db\0')).toEqual(entry);
    expect(cache.stale('secret\0db\0')).toBeUndefined();
    cache.invalidate('db');
    expect(cache.get('secret\0db\0')).toBeUndefined();
    cache.failed('secret\0api\0', false);
    expect(cache.get('secret\0api\0')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, size: 0 });
  });
});
