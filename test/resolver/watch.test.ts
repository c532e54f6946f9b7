// resolver.watch: change events only on a real content change (digest), with versions and never a
// value; an unchanged re-read reports nothing; debounce drops a flip-flop; close() stops it.

import { describe, expect, it } from 'vitest';
import { memory } from '../../src/providers/memory.js';
import { type ChangeEvent, createResolver } from '../../src/resolver/client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('resolver.watch', () => {
  it('reports a real change once, with versions, and nothing for unchanged re-reads', async () => {
    const store = memory({ values: { db: 'watch-old-1a', api: 'api-value-2b' } });
    const resolver = createResolver({ providers: [store], audit: false });
    const events: ChangeEvent[] = [];
    const handle = resolver.watch(['db', 'api'], {
      interval: 60_000,
      onChange: (e) => events.push(e),
    });
    await handle.refreshNow();
    await handle.refreshNow();
    expect(events).toEqual([]);
    // The same content written again is a new version, not a change.
    await store.set!('api', 'api-value-2b', {});
    await store.set!('db', 'watch-new-3c', {});
    await handle.refreshNow();
    await handle.refreshNow();
    expect(events).toEqual([
      {
        type: 'change',
        key: 'db',
        provider: 'memory',
        oldVersion: '1',
        newVersion: '2',
        digestChanged: true,
      },
    ]);
    expect(JSON.stringify(events)).not.toMatch(/watch-|api-value/);
    handle.close();
  });

  it('polls on its interval (timers unref’d) and stops on close()', async () => {
    const store = memory({ values: { db: 'v1-xx' } });
    const resolver = createResolver({ providers: [store], audit: false });
    const events: ChangeEvent[] = [];
    const handle = resolver.watch(['db'], {
      interval: 20,
      jitter: 5,
      onChange: (e) => events.push(e),
    });
    await sleep(40);
    await store.set!('db', 'v2-yy', {});
    await sleep(120);
    expect(events.map((e) => e.key)).toEqual(['db']);
    handle.close();
    await sleep(30); // a poll already in flight when close() ran may still finish
    const calls = store.calls.get + store.calls.getMany;
    await store.set!('db', 'v3-zz', {});
    await sleep(80);
    expect(store.calls.get + store.calls.getMany).toBe(calls);
    expect(events).toHaveLength(1);
  });

  it('debounce: a value that changes back before it ends is not reported', async () => {
    const store = memory({ values: { db: 'a-value-11' } });
    const resolver = createResolver({ providers: [store], audit: false });
    const events: ChangeEvent[] = [];
    const handle = resolver.watch(['db'], {
      interval: 60_000,
      debounce: 100,
      onChange: (e) => events.push(e),
    });
    await handle.refreshNow();
    await store.set!('db', 'b-value-22', {});
    await handle.refreshNow();
    await store.set!('db', 'a-value-11', {});
    await handle.refreshNow();
    await sleep(150);
    expect(events).toEqual([]);
    await store.set!('db', 'c-value-33', {});
    await handle.refreshNow();
    await sleep(150);
    expect(events.map((e) => [e.oldVersion, e.newVersion])).toEqual([['1', '4']]);
    handle.close();
  });

  it('debounce: the read at its end confirms the change (no read in between is needed)', async () => {
    const store = memory({ values: { db: 'a-value-11' } });
    const resolver = createResolver({ providers: [store], audit: false });
    const events: ChangeEvent[] = [];
    const handle = resolver.watch(['db'], {
      interval: 60_000,
      debounce: 50,
      onChange: (e) => events.push(e),
    });
    await handle.refreshNow();
    await store.set!('db', '', {}); // read half-written
    await handle.refreshNow();
    await store.set!('db', 'a-value-11', {}); // and written in full before the debounce ends
    await sleep(120);
    expect(events).toEqual([]);
    await store.set!('db', 'b-value-22', {});
    await handle.refreshNow();
    await sleep(120);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ key: 'db', digestChanged: true });
    handle.close();
  });
});
