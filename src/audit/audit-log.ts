// The audit log: a process-wide ring buffer of operations (docs/architecture.md, "Audit"), with filters and sinks.
// Entries hold names, providers, codes and timings — never a value, by construction of the type.

import { appendFileSync, closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { ErrorCode } from '../errors.js';

export type AuditAction =
  | 'resolve'
  | 'get'
  | 'set'
  | 'delete'
  | 'list'
  | 'versions'
  | 'rotate'
  | 'auth'
  | 'health'
  | 'batch-fallback'
  /** A load used the last-known-good copy (every store unreachable), or could not. */
  | 'last-known-good';

export type AuditSource = 'register' | 'cli' | 'api' | 'sidecar';

export interface AuditEntry {
  /** Milliseconds since the epoch. */
  time: number;
  action: AuditAction;
  provider?: string;
  /** The secret's name (never its value). */
  key?: string;
  outcome: 'ok' | 'error' | 'miss';
  code?: ErrorCode;
  durationMs?: number;
  cache?: 'hit' | 'miss' | 'stale' | 'bypass';
  /** The step of a rotation this entry records (docs/architecture.md, "Writes"). */
  step?: 'write' | 'apply' | 'test' | 'rollback' | 'invalidate' | 'retire';
  actor: string;
  source: AuditSource;
  pid: number;
}

export type AuditInput = Omit<AuditEntry, 'time' | 'actor' | 'pid' | 'source'> & {
  source?: AuditSource;
};

export interface AuditFilter {
  action?: AuditAction | AuditAction[];
  key?: string | RegExp;
  provider?: string;
  outcome?: AuditEntry['outcome'];
  since?: Date | number;
  until?: Date | number;
}

export type AuditSink = (entry: AuditEntry) => void;

let osUser: string | undefined;
let actorText: string | undefined;
let actorShown = '';

/**
 * Who is acting, as audit entries and stores that keep a writer per version record it:
 * `ENVMUX_ACTOR` (a CI identity; `--actor` of the CLI sets it), else the OS user. Control
 * characters are dropped and the name is cut to 128 characters.
 */
export function currentActor(): string {
  const named = process.env.ENVMUX_ACTOR;
  if (named) {
    if (named !== actorText) {
      actorText = named;
      actorShown = named.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, 128);
    }
    if (actorShown) return actorShown;
  }
  if (osUser === undefined) {
    try {
      osUser = (process.getBuiltinModule('node:os') as typeof import('node:os')).userInfo()
        .username;
    } catch {
      osUser = process.env.USER ?? 'unknown';
    }
  }
  return osUser;
}

let stamp = 0;
let stampActor = '';
/**
 * The wall clock and the actor for entries, read at most once per timer tick: a clock read costs
 * 0.2 µs on some virtual machines and an environment read (`ENVMUX_ACTOR`) more (together more
 * than the rest of a warm `get`), and reads within one millisecond-timer tick would give the same
 * millisecond anyway. A synchronous stretch that blocks the event loop stamps its entries with the
 * time it began and the actor of that moment (lru-cache's TTL clock works the same way).
 */
function auditClock(): number {
  if (stamp === 0) {
    stamp = Date.now();
    stampActor = currentActor();
    setTimeout(() => {
      stamp = 0;
    }, 1).unref();
  }
  return stamp;
}

/** A fixed-size ring buffer of audit entries. */
export class AuditLog {
  private readonly entries: (AuditEntry | undefined)[];
  private next = 0;
  private size = 0;
  private readonly sinks = new Set<AuditSink>();
  /** Where entries come from unless an entry says otherwise. */
  source: AuditSource = 'api';

  constructor(readonly capacity = 1000) {
    this.entries = new Array(capacity);
  }

  record(input: AuditInput): void {
    const entry = input as AuditEntry;
    entry.time = auditClock();
    entry.actor = stampActor;
    entry.pid = process.pid;
    entry.source ??= this.source;
    this.entries[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    // Most logs have no sink: no iterator on the warm read path then.
    if (this.sinks.size === 0) return;
    for (const sink of this.sinks) {
      try {
        sink(entry);
      } catch {
        // A broken sink must not break resolution.
      }
    }
  }

  /** Entries oldest first, filtered. */
  query(filter: AuditFilter = {}): AuditEntry[] {
    const out: AuditEntry[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    const actions =
      filter.action && (Array.isArray(filter.action) ? filter.action : [filter.action]);
    const since = filter.since === undefined ? undefined : +filter.since;
    const until = filter.until === undefined ? undefined : +filter.until;
    for (let i = 0; i < this.size; i++) {
      const e = this.entries[(start + i) % this.capacity]!;
      if (actions && !actions.includes(e.action)) continue;
      if (filter.provider && e.provider !== filter.provider) continue;
      if (filter.outcome && e.outcome !== filter.outcome) continue;
      if (filter.key !== undefined) {
        if (typeof filter.key === 'string' ? e.key !== filter.key : !filter.key.test(e.key ?? ''))
          continue;
      }
      if (since !== undefined && e.time < since) continue;
      if (until !== undefined && e.time > until) continue;
      out.push(e);
    }
    return out;
  }

  clear(): void {
    this.entries.fill(undefined);
    this.next = 0;
    this.size = 0;
  }

  /** Add a sink; returns a function that removes it. */
  addSink(sink: AuditSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }
}

/**
 * Open `path` for appending audit lines (created 0600). A writer killed by SIGKILL in the middle of
 * a write can leave a torn last line: Linux stops copying a write at a page boundary once a fatal
 * signal is pending. Such a line is ended here with a newline, so the next entry starts a line of
 * its own instead of being glued to the fragment. Readers skip the fragment (and count it).
 */
export function openAuditFile(path: string): number {
  const fd = openSync(path, 'a+', 0o600);
  const { size } = fstatSync(fd);
  if (size > 0) {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeSync(fd, '\n');
  }
  return fd;
}

/** A sink appending JSON lines to `path` (created 0600), one synchronous write per entry. */
export function jsonLinesSink(path: string): AuditSink {
  closeSync(openAuditFile(path));
  return (entry) => appendFileSync(path, `${JSON.stringify(entry)}\n`);
}

const GLOBAL = Symbol.for('envmux.audit');

/** The process-wide audit log (one even when both the ESM and CJS builds are loaded). */
export function processAuditLog(): AuditLog {
  const g = globalThis as { [GLOBAL]?: AuditLog };
  g[GLOBAL] ??= new AuditLog();
  return g[GLOBAL];
}
