// loadConfig({ watch }): the config plus a watcher; a real change re-validates and replaces the
// config (events carry names and versions, never values); a change the schema refuses keeps the
// old config and reaches onError scrubbed; an unchanged re-read reports nothing.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  type ConfigChangeEvent,
  type ConfigWatchOptions,
  type EnvmuxError,
  loadConfig,
  type WatchedConfig,
} from '../../src/index.js';
import { memory } from '../../src/providers/memory.js';

function project(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-config-watch-'));
  writeFileSync(join(dir, '.env'), content);
  return dir;
}

const schema = z.object({ PORT: z.coerce.number().int().min(1).max(65535), DB: z.string() });

describe('loadConfig({ watch })', () => {
  it('keeps its return type without watch, and returns { config, watcher } with it', async () => {
    const cwd = project('PORT=$<secret:port>\nDB=$<secret:db>\n');
    const store = memory({ values: { port: '8080', db: 'db-pass-1111' } });
    const base = {
      cwd,
      schema,
      providers: [store],
      configFile: false as const,
      audit: false as const,
    };
    const plain = await loadConfig(base);
    expectTypeOf(plain).toEqualTypeOf<Readonly<{ PORT: number; DB: string }>>();
    expect(plain.PORT).toBe(8080);
    const watched = await loadConfig({ ...base, watch: { interval: '1h' } });
    expectTypeOf(watched).toEqualTypeOf<WatchedConfig<{ PORT: number; DB: string }>>();
    expect(watched.config.PORT).toBe(8080);
    expect(watched.watcher.current()).toBe(watched.config);
    await watched.watcher.close();
    // Options built elsewhere, watch maybe set: either shape.
    const maybe = (): ConfigWatchOptions | undefined => undefined;
    const either = await loadConfig({ ...base, watch: maybe() });
    expectTypeOf(either).toEqualTypeOf<
      Readonly<{ PORT: number; DB: string }> | WatchedConfig<{ PORT: number; DB: string }>
    >();
  });

  it('reloads and re-validates on a real change; unchanged re-reads report nothing', async () => {
    const cwd = project('PORT=$<secret:port>\nDB=$<secret:db>\n');
    const store = memory({ values: { port: '8080', db: 'db-pass-1111' } });
    const events: ConfigChangeEvent[] = [];
    const errors: EnvmuxError[] = [];
    const { config, watcher } = await loadConfig({
      cwd,
      schema,
      providers: [store],
      configFile: false,
      audit: false,
      watch: { interval: '1h', onChange: (e) => events.push(e), onError: (e) => errors.push(e) },
    });
    await watcher.refreshNow();
    await store.set!('db', 'db-pass-1111', {}); // same content, new version: not a change
    await watcher.refreshNow();
    expect(events).toEqual([]);
    expect(watcher.current()).toBe(config);

    await store.set!('db', 'db-pass-2222', {});
    await watcher.refreshNow();
    expect(events).toEqual([
      {
        type: 'change',
        changes: [
          {
            type: 'change',
            key: 'db',
            provider: 'memory',
            oldVersion: '1', // the version the old content was first seen at
            newVersion: '3',
            digestChanged: true,
          },
        ],
        keys: ['DB'],
      },
    ]);
    expect(watcher.current().DB).toBe('db-pass-2222');
    expect(config.DB).toBe('db-pass-1111');
    expect(JSON.stringify(events)).not.toMatch(/db-pass/);

    // A new value the schema refuses: the error (scrubbed), the old config kept.
    await store.set!('port', 'not-a-port-9999', {});
    await watcher.refreshNow();
    expect(events).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify({ ...errors[0], message: errors[0]!.message })).not.toMatch(
      /not-a-port-9999|db-pass/,
    );
    expect(String(errors[0]!.stack)).not.toMatch(/not-a-port-9999/);
    expect(watcher.current().PORT).toBe(8080);

    // Fixed again: the next change is applied.
    await store.set!('port', '9090', {});
    await watcher.refreshNow();
    expect(events).toHaveLength(2);
    expect(events[1]!.keys).toEqual(['PORT']);
    expect(watcher.current().PORT).toBe(9090);

    // Removed: an error, the old config kept.
    await store.delete!('db', {});
    await watcher.refreshNow();
    expect(errors.map((e) => e.code)).toEqual(['VALIDATION_FAILED', 'NOT_FOUND']);
    expect(watcher.current().DB).toBe('db-pass-2222');
    await watcher.close();
  });

  it('polls on its interval with several changes of one poll reloaded once', async () => {
    const cwd = project('A=$<secret:a>\nB=$<secret:b>\n');
    const store = memory({ values: { a: 'value-a-1', b: 'value-b-1' } });
    const events: ConfigChangeEvent[] = [];
    const { watcher } = await loadConfig({
      cwd,
      providers: [store],
      configFile: false,
      audit: false,
      watch: { interval: 30, jitter: 5, onChange: (e) => events.push(e) },
    });
    await new Promise((r) => setTimeout(r, 60));
    await store.set!('a', 'value-a-2', {});
    await store.set!('b', 'value-b-2', {});
    const until = Date.now() + 3000;
    while (!events.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 80));
    expect(events).toHaveLength(1);
    expect(events[0]!.keys).toEqual(['A', 'B']);
    expect(watcher.current()).toEqual({ A: 'value-a-2', B: 'value-b-2' });
    await watcher.close();
  });
});
