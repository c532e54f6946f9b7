// The buffered JSON-lines audit sink of `envmux serve`: batches written after `flushMs` or at once
// at `maxEntries` (bounded memory), in order, 0600, everything flushed on close, nothing after.

import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { bufferedJsonLinesSink } from '../../src/audit/buffered-sink.js';

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { key: string; source: string });

const fileIn = () => join(mkdtempSync(join(tmpdir(), 'envmux-buffered-')), 'audit.jsonl');

afterEach(() => {
  vi.useRealTimers();
});

describe('bufferedJsonLinesSink', () => {
  it('writes a batch after flushMs, in order, to a 0600 file', () => {
    vi.useFakeTimers();
    const file = fileIn();
    const out = bufferedJsonLinesSink(file, { flushMs: 50 });
    const log = new AuditLog();
    log.source = 'sidecar';
    log.addSink(out.sink);
    for (let i = 0; i < 10; i++) log.record({ action: 'get', key: `k${i}`, outcome: 'ok' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines(file)).toHaveLength(0);
    vi.advanceTimersByTime(50);
    expect(lines(file).map((e) => e.key)).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`));
    expect(lines(file).every((e) => e.source === 'sidecar')).toBe(true);
    out.close();
  });

  it('holds at most maxEntries: the entry that reaches the bound writes the batch at once', () => {
    vi.useFakeTimers();
    const file = fileIn();
    const out = bufferedJsonLinesSink(file, { maxEntries: 4, flushMs: 60_000 });
    const log = new AuditLog();
    log.addSink(out.sink);
    for (let i = 0; i < 9; i++) log.record({ action: 'get', key: `k${i}`, outcome: 'ok' });
    expect(lines(file)).toHaveLength(8);
    out.close();
    expect(lines(file)).toHaveLength(9);
  });

  it('close flushes what waits, is idempotent, and drops later entries', () => {
    const file = fileIn();
    const out = bufferedJsonLinesSink(file, { flushMs: 60_000 });
    const log = new AuditLog();
    log.addSink(out.sink);
    log.record({ action: 'get', key: 'before', outcome: 'ok' });
    out.close();
    out.close();
    log.record({ action: 'get', key: 'after', outcome: 'ok' });
    out.flush();
    expect(lines(file).map((e) => e.key)).toEqual(['before']);
  });

  it('flushes at process exit when nobody closed it', () => {
    const file = fileIn();
    const before = process.listenerCount('exit');
    const out = bufferedJsonLinesSink(file, { flushMs: 60_000 });
    expect(process.listenerCount('exit')).toBe(before + 1);
    const log = new AuditLog();
    log.addSink(out.sink);
    log.record({ action: 'get', key: 'at-exit', outcome: 'ok' });
    const exitHook = process.listeners('exit').at(-1) as (code: number) => void;
    exitHook(0);
    expect(lines(file).map((e) => e.key)).toEqual(['at-exit']);
    out.close();
    expect(process.listenerCount('exit')).toBe(before);
  });
});
