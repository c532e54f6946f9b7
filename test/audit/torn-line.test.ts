// A writer killed mid-write (SIGKILL) can leave a torn last line in an audit file. The next writer,
// through either file sink, ends that line first, so its own entries start lines of their own and
// parse; the reader skips the fragment and counts it.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, jsonLinesSink } from '../../src/audit/audit-log.js';
import { bufferedJsonLinesSink } from '../../src/audit/buffered-sink.js';
import { readAuditFiles } from '../../src/manage/read-audit.js';

const whole = `${JSON.stringify({ action: 'get', key: 'before', outcome: 'ok', time: 1 })}\n`;
const torn = '{"action":"get","key":"torn","provider":"memory","outc';

const sinks = {
  jsonLinesSink: (file: string) => ({ sink: jsonLinesSink(file), close() {} }),
  bufferedJsonLinesSink: (file: string) => bufferedJsonLinesSink(file),
};

describe.each(Object.entries(sinks))('%s after a crash', (_name, open) => {
  const fileWith = (text: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'envmux-torn-')), 'audit.jsonl');
    writeFileSync(file, text);
    return file;
  };
  const writeOne = (file: string) => {
    const out = open(file);
    const log = new AuditLog();
    log.addSink(out.sink);
    log.record({ action: 'get', key: 'after', outcome: 'ok' });
    out.close();
  };

  it('ends a torn last line, so the next entry is a line of its own', () => {
    const file = fileWith(whole + torn);
    writeOne(file);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe(torn);
    expect(JSON.parse(lines[2]!).key).toBe('after');
    expect(lines[3]).toBe('');
    const { entries, skipped } = readAuditFiles([file]);
    expect(entries.map((e) => e.key)).toEqual(['before', 'after']);
    expect(skipped).toBe(1);
  });

  it('adds nothing to a file that ends with a whole line, or is empty', () => {
    const file = fileWith(whole);
    writeOne(file);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
    const empty = fileWith('');
    writeOne(empty);
    expect(readFileSync(empty, 'utf8').split('\n')).toHaveLength(2);
    expect(readAuditFiles([file, empty]).skipped).toBe(0);
  });
});
