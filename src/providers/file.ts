// `file` provider: one file per secret in a directory, as Docker (`/run/secrets/NAME`) and
// Kubernetes (a mounted Secret volume) provide them. Synchronous reads; names never escape the dir.

import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { EnvmuxError, toEnvmuxError } from '../errors.js';
import { writeFileAtomicSync } from '../files/atomic-write.js';
import { type Provider, type ReadContext, type SecretInfo, unversioned } from './provider.js';

export interface FileProviderOptions {
  /** Chain id; default `file`. */
  id?: string;
  /** The directory; default `ENVMUX_FILE_DIR`, else `/run/secrets`. */
  dir?: string;
  /**
   * Strip one trailing newline (`\n` or `\r\n`) from each file, as `echo value > file` leaves one.
   * Default true; set false for byte-exact values.
   */
  trimNewline?: boolean;
}

/** The directory the `file` provider reads when none is given. */
export function defaultSecretDir(env: Record<string, string | undefined> = process.env): string {
  return env.ENVMUX_FILE_DIR || '/run/secrets';
}

/** Secrets from files in a directory. */
export function file(options: FileProviderOptions = {}): Provider {
  const id = options.id ?? 'file';
  const dir = resolve(options.dir ?? defaultSecretDir());
  const trim = options.trimNewline ?? true;

  const pathOf = (name: string): string => {
    const path = resolve(dir, name);
    if (!name || name.includes('\0') || !path.startsWith(dir + sep)) {
      throw new EnvmuxError('INVALID_REFERENCE', `secret name "${name}" leaves the directory`, {
        provider: id,
        hint: 'use a relative name without ".." segments',
      });
    }
    return path;
  };

  const getSync = (name: string, ctx: ReadContext = {}): string | undefined =>
    unversioned(id, name, readLatest(name), ctx);

  const readLatest = (name: string): string | undefined => {
    const path = pathOf(name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
      throw toEnvmuxError(error, { provider: id });
    }
    if (!trim) return text;
    if (text.endsWith('\r\n')) return text.slice(0, -2);
    return text.endsWith('\n') ? text.slice(0, -1) : text;
  };

  return {
    id,
    type: 'file',
    identity: `file|${dir}`,
    getSync,
    async get(name, ctx) {
      return getSync(name, ctx);
    },
    async set(name, value) {
      const path = pathOf(name);
      mkdirSync(resolve(path, '..'), { recursive: true, mode: 0o700 });
      writeFileAtomicSync(path, value);
      return undefined;
    },
    async delete(name) {
      rmSync(pathOf(name), { force: true });
    },
    async list(prefix) {
      const out: SecretInfo[] = [];
      const walk = (rel: string) => {
        let entries: import('node:fs').Dirent[];
        try {
          entries = readdirSync(join(dir, rel), { withFileTypes: true });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw toEnvmuxError(error, { provider: id });
        }
        for (const entry of entries) {
          // Kubernetes volumes hold `..data` and timestamped dot-folders beside the real files.
          if (entry.name.startsWith('.')) continue;
          const name = rel ? `${rel}/${entry.name}` : entry.name;
          if (entry.isDirectory()) walk(name);
          else if (name.startsWith(prefix)) out.push({ name });
        }
      };
      walk('');
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
  };
}
