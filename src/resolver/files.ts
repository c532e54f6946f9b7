// Which env files a load reads, in precedence order, and reading them into one entry per key.
// Convention (dotenv-flow / Next.js): .env.{mode}.local > .env.local > .env.{mode} > .env;
// .env.local is skipped when mode is `test`; missing convention files are fine.

import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { EnvmuxError, isEnvmuxError } from '../errors.js';
import { fileSystemProblem } from '../files/fs-problem.js';
import { checkValueLimits, fileTooLarge, LIMITS } from './limits.js';
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
 * Read the files into one entry per key (the highest-precedence file's entry wins; it keeps the
 * entry it hides in `shadows`). Problems (a missing explicit file, an unreadable one, a file over
 * a limit of docs/architecture.md, "Limits") are returned, not thrown, so a load reports all. A
 * file over a limit adds no entry: every entry point refuses it the same way, before the work.
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
    let fd: number | undefined;
    try {
      fd = openSync(file.path, 'r');
      const { size } = fstatSync(fd);
      if (size > LIMITS.fileBytes) {
        errors.push(fileTooLarge(shown, size));
        continue;
      }
      source = readFileSync(fd, 'utf8');
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
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    read.push(shown);
    let parsed: EnvEntry[];
    try {
      parsed = parseEnvSource(source, shown);
    } catch (error) {
      if (!isEnvmuxError(error)) throw error;
      errors.push(error);
      continue;
    }
    const problems = checkValueLimits(parsed);
    if (problems.length) {
      errors.push(...problems);
      continue;
    }
    for (const entry of parsed) {
      const winner = entries.get(entry.key);
      if (!winner) entries.set(entry.key, entry);
      else {
        let hidden = winner;
        while (hidden.shadows) hidden = hidden.shadows;
        hidden.shadows = entry;
      }
    }
  }
  return { entries, errors, read };
}
