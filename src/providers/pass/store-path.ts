// Where a password-store name lives on disk, and which names exist: names are checked so that
// `../`, absolute paths and symlinks cannot leave the store. Reads directories only, never an entry.

import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { EnvmuxError } from '../../errors.js';

const SEGMENT = /^[^\s\-./\\][^/\\]*$/;

/**
 * Throws `INVALID_REFERENCE` unless `name` is a relative path of plain segments: no empty, `.`
 * or `..` segment, no leading `-` (read as an option) or `/`, no backslash or control character.
 */
export function checkEntryName(provider: string, name: string): void {
  const why =
    name.length === 0
      ? 'it is empty'
      : name.length > 1024
        ? 'it is longer than 1024 characters'
        : /[\u0000-\u001f\u007f]/.test(name)
          ? 'it holds a control character'
          : name.split('/').some((s) => s === '.' || s === '..')
            ? 'it holds a "." or ".." segment'
            : name.split('/').some((s) => !SEGMENT.test(s))
              ? 'a segment is empty, starts with "-", "." or a space, or holds "\\"'
              : undefined;
  if (why) {
    throw new EnvmuxError('INVALID_REFERENCE', `"${name}" is not a pass entry name: ${why}`, {
      provider,
      hint: 'a path inside the store such as web/github (no ../, no leading /)',
    });
  }
}

/**
 * The real path the entry `name` resolves to, when every existing part of it stays inside the
 * store (`root`, itself resolved); throws `ACCESS_DENIED` when a symlink leads out.
 */
export function entryFile(provider: string, root: string, name: string): string {
  const file = join(root, `${name}.gpg`);
  let probe = file;
  // The deepest part that exists decides: a symlinked directory or file resolves out of the store.
  for (;;) {
    let real: string | undefined;
    try {
      real = realpathSync(probe);
    } catch {
      real = undefined;
    }
    if (real !== undefined) {
      const rest = file.slice(probe.length);
      if (real !== root && !real.startsWith(root + sep)) {
        throw new EnvmuxError('ACCESS_DENIED', `"${name}" leads out of the password store`, {
          provider,
          hint: 'a symlink in the store points outside it; envmux does not follow it',
        });
      }
      return real + rest;
    }
    const parent = dirname(probe);
    if (parent === probe) return file;
    probe = parent;
  }
}

/**
 * Every entry name under `root` (files ending `.gpg`), without following symlinks and without the
 * store's own hidden folders (`.git`, `.extensions`).
 */
export function walkEntries(root: string, dir = root, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of names.sort()) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) walkEntries(root, path, out);
    else if (stat.isFile() && entry.endsWith('.gpg'))
      out.push(
        path
          .slice(root.length + 1, -4)
          .split(sep)
          .join('/'),
      );
  }
  return out;
}

/** A glob over entry names: `*` and `?` within one segment, `**` across segments. */
export function globMatcher(pattern: string): (name: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`);
  return (name) => regex.test(name);
}
