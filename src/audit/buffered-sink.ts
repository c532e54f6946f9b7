// A JSON-lines audit sink for long-lived servers: entries are buffered and written together (one
// `write` per batch on a file kept open), bounded in memory, and flushed on close and at process exit.

import { closeSync, writeSync } from 'node:fs';
import { type AuditEntry, type AuditSink, openAuditFile } from './audit-log.js';

export interface BufferedSinkOptions {
  /** Entries held before a write is forced at once (bounds memory); default 512. */
  maxEntries?: number;
  /** Longest time an entry waits for its write, ms; default 50. */
  flushMs?: number;
}

/** A buffered JSON-lines sink: `sink` for `AuditLog.addSink`, `flush` and `close` for shutdown. */
export interface BufferedSink {
  sink: AuditSink;
  /** Write every buffered entry now (synchronously). */
  flush(): void;
  /** Flush, then close the file; later entries are dropped. Idempotent. */
  close(): void;
}

/**
 * Append audit entries to `path` (created 0600) in batches: an entry is written at most `flushMs`
 * after it was recorded, or at once when `maxEntries` are waiting, and always before `close()`
 * returns or the process exits. Only a crash (SIGKILL, power loss) can lose the last `flushMs`.
 * Same lines as `jsonLinesSink`, which writes each entry synchronously as it comes.
 */
export function bufferedJsonLinesSink(
  path: string,
  options: BufferedSinkOptions = {},
): BufferedSink {
  const maxEntries = options.maxEntries ?? 512;
  const flushMs = options.flushMs ?? 50;
  let fd: number | undefined = openAuditFile(path);
  let pending: AuditEntry[] = [];
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (!pending.length || fd === undefined) return;
    const batch = pending;
    pending = [];
    let text = '';
    for (const entry of batch) text += `${JSON.stringify(entry)}\n`;
    const bytes = Buffer.from(text, 'utf8');
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  };
  const close = () => {
    flush();
    process.off('exit', flushQuietly);
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  // From the timer, as from `AuditLog.record`: a failing write must not take the server down.
  const flushQuietly = () => {
    try {
      flush();
    } catch {
      // The entries of this batch are lost, as a failing `jsonLinesSink` loses its entry.
    }
  };
  process.on('exit', flushQuietly);

  return {
    sink: (entry) => {
      if (fd === undefined) return;
      pending.push(entry);
      if (pending.length >= maxEntries) flush();
      else if (!timer) {
        timer = setTimeout(flushQuietly, flushMs);
        timer.unref();
      }
    },
    flush,
    close,
  };
}
