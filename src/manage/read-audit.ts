// Reading audit files (JSON lines written by the audit log's file sinks) for `envmux audit`: parse,
// filter, newest last. Entries hold names, providers and codes only; a broken line is counted, skipped.

import { readFileSync } from 'node:fs';
import type { AuditEntry, AuditFilter } from '../audit/audit-log.js';
import { EnvmuxError } from '../errors.js';

export interface AuditQuery extends AuditFilter {
  /** Only entries of this actor (OS user or CI identity). */
  actor?: string;
  /** The newest `limit` entries. */
  limit?: number;
}

export interface AuditRead {
  entries: AuditEntry[];
  /** Lines that were not audit entries (a torn last line after a crash, foreign text). */
  skipped: number;
}

/** The entries of `files` matching `query`, oldest first (the same filter as the in-process log). */
export function readAuditFiles(files: string[], query: AuditQuery = {}): AuditRead {
  const entries: AuditEntry[] = [];
  let skipped = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new EnvmuxError(
        'CONFIG',
        code === 'ENOENT' ? 'audit file not found' : `audit file cannot be read (${code})`,
        {
          file,
          hint: 'name the file, or set ENVMUX_VAULT_AUDIT=1 so the vault keeps .envmux/audit.jsonl',
        },
      );
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as AuditEntry;
        if (typeof entry.time !== 'number' || typeof entry.action !== 'string') throw new Error();
        if (matches(entry, query)) entries.push(entry);
      } catch {
        skipped++;
      }
    }
  }
  entries.sort((a, b) => a.time - b.time);
  return { entries: query.limit ? entries.slice(-query.limit) : entries, skipped };
}

function matches(e: AuditEntry, f: AuditQuery): boolean {
  const actions = f.action && (Array.isArray(f.action) ? f.action : [f.action]);
  if (actions && !actions.includes(e.action)) return false;
  if (f.provider && e.provider !== f.provider) return false;
  if (f.outcome && e.outcome !== f.outcome) return false;
  if (f.actor && e.actor !== f.actor) return false;
  if (f.key !== undefined) {
    if (typeof f.key === 'string' ? e.key !== f.key : !f.key.test(e.key ?? '')) return false;
  }
  if (f.since !== undefined && e.time < +f.since) return false;
  if (f.until !== undefined && e.time > +f.until) return false;
  return true;
}
