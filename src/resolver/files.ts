// Which env files a load reads, in precedence order, and reading them into one entry per key.
// Convention (dotenv-flow / Next.js): .env.{mode}.local > .env.local > .env.{mode} > .env;
// .env.local is skipped when mode is `test`; missing convention files are fine.

import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { EnvmuxError } from '../errors.js';
import { fileSystemProblem } from '../files/fs-problem.js';
import { type EnvEntry, parseEnvSource } from './parse.js';

export interface EnvFile {
  path: string;
  /** Named explicitly: missing is an error. Convention files are optional. */
  required: boolean;
}

export interface FileOptions {
  /** Explicit files, highest precedence first; default `ENVMUX_FILES`, else the convention. */
  files?: string[];
  /** Where relative paths and convention files are found; default `process.cwd()`. */
  cwd?: string;
  /** The mode for `.env.{mode}` files; default `NODE_ENV`. */
  nodeEnv?: string;
}

/** The files to read, highest precedence first. */
export function envFilesFor(
  options: FileOptions,
  env: Record<string, string | undefined>,
): EnvFile[] {
  const cwd = options.cwd ?? process.cwd();
  const explicit =
    options.files ??
    env.ENVMUX_FILES?.split(',')
      .map((f) => f.trim())
      .filter(Boolean);
  if (explicit) return explicit.map((f) => ({ path: resolve(cwd, f), required: true }));
  const mode = options.nodeEnv ?? env.NODE_ENV;
  const names = mode
    ? [`.env.${mode}.local`, ...(mode === 'test' ? [] : ['.env.local']), `.env.${mode}`, '.env']
    : ['.env.local', '.env'];
  return names.map((name) => ({ path: resolve(cwd, name), required: false }));
}

/** How a file is named in messages: relative to cwd when inside it. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Read the files into one entry per key (the highest-precedence file's entry wins). Problems
 * (a missing explicit file, an unreadable one) are returned, not thrown, so a load reports all.
 */
export function readEnvFiles(
  files: EnvFile[],
  cwd = process.cwd(),
): { entries: Map<string, EnvEntry>; errors: EnvmuxError[]; read: string[] } {
  const entries = new Map<string, EnvEntry>();
  const errors: EnvmuxError[] = [];
  const read: string[] = [];
  for (const file of files) {
    const shown = displayPath(file.path, cwd);
    let source: string;
    try {
      source = readFileSync(file.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !file.required) continue;
      errors.push(
        code === 'ENOENT'
          ? new EnvmuxError('CONFIG', 'env file not found', {
              file: shown,
              hint: 'check the path in files / ENVMUX_FILES',
            })
          : fileSystemProblem(error, 'env file', shown),
      );
      continue;
    }
    read.push(shown);
    for (const entry of parseEnvSource(source, shown)) {
      if (!entries.has(entry.key)) entries.set(entry.key, entry);
    }
  }
  return { entries, errors, read };
}
