// Copies kept before a destructive command replaces or deletes data (`vault init --force`, `rm`,
// `cleanup`, `rotate-key`): `<file>.bak-<UTC timestamp>`, 0600, beside the original, never
// overwritten. A key's backup is as secret as the key (the vault's .gitignore covers `*.bak-*`).

import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from './atomic-write.js';

/** `20261129T075500Z`: sortable, and valid in file names on every OS. */
export function backupStamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Copy `path` to `<path>.bak-<stamp>` (0600) and return the copy's path; `undefined` when `path`
 * does not exist. A second backup within the same second gets a `-2`, `-3`, … suffix.
 */
export function backupFile(path: string, stamp = backupStamp()): string | undefined {
  if (!existsSync(path)) return undefined;
  let target = `${path}.bak-${stamp}`;
  for (let n = 2; existsSync(target); n++) target = `${path}.bak-${stamp}-${n}`;
  writeFileAtomicSync(target, readFileSync(path), 0o600);
  return target;
}
