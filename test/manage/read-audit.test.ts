// readAuditFiles: JSON lines from the audit sinks, filtered like the in-process log, newest `limit`,
// torn or foreign lines skipped and counted.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAuditFiles } from '../../src/manage/read-audit.js';

const entry = (time: number, action: string, key: string, outcome = 'ok', actor = 'ann') =>
  JSON.stringify({ time, action, key, provider: 'local', outcome, actor, source: 'cli', pid: 1 });

describe('readAuditFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-audit-'));
  const a = join(dir, 'a.jsonl');
  const b = join(dir, 'b.jsonl');
  writeFileSync(
    a,
    `${entry(1000, 'get', 'db/password')}\n${entry(3000, 'set', 'db/password', 'ok', 'ci')}\n{"torn`,
  );
  writeFileSync(b, `${entry(2000, 'get', 'api/token', 'error')}\nnot json\n`);

  it('merges files oldest first and counts lines that are not entries', () => {
    const r = readAuditFiles([a, b]);
    expect(r.entries.map((e) => e.time)).toEqual([1000, 2000, 3000]);
    expect(r.skipped).toBe(2);
  });

  it.each([
    [{ action: 'get' as const }, [1000, 2000]],
    [{ key: 'db/password' }, [1000, 3000]],
    [{ key: /^api\// }, [2000]],
    [{ outcome: 'error' as const }, [2000]],
    [{ actor: 'ci' }, [3000]],
    [{ since: 1500, until: 2500 }, [2000]],
    [{ limit: 2 }, [2000, 3000]],
  ])('%o', (query, times) => {
    expect(readAuditFiles([a, b], query).entries.map((e) => e.time)).toEqual(times);
  });

  it('a missing file is a coded error', () => {
    expect(() => readAuditFiles([join(dir, 'none.jsonl')])).toThrow(
      expect.objectContaining({ code: 'CONFIG' }),
    );
  });
});
