// dotenv, the parser, taken from the installed package at the first parse (never bundled, never
// loaded by an app that parses nothing), and found without Node's `exports` resolution, which costs
// every preload ~2 ms on Node 20. See docs/performance.md, "Start-up".

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parser's package (a runtime dependency). */
const PACKAGE: string = 'dotenv';

type Dotenv = { parse(src: string): Record<string, string> };

let dotenv: Dotenv | undefined;

/** node:module when a parse first needs it: an import of the library that parses nothing skips it. */
const nodeModule = () => process.getBuiltinModule('node:module') as typeof import('node:module');

/** `dotenv.parse(src)` of the dotenv this package depends on. */
export function dotenvParse(src: string): Record<string, string> {
  dotenv ??= loadDotenv();
  return dotenv.parse(src);
}

/**
 * The file of the dotenv package Node would resolve from `from`: the first `node_modules/dotenv`
 * on Node's lookup paths, entered through its package.json's `exports["."]` for `require` (or
 * `default`, or `main`). `undefined` when the entry is not a plain string or that package.json
 * cannot be read; the caller then lets Node resolve it (and report what is wrong).
 */
export function dotenvEntry(from: string): string | undefined {
  for (const dir of nodeModule().createRequire(from).resolve.paths(PACKAGE) ?? []) {
    const root = join(dir, PACKAGE);
    let manifest: { exports?: unknown; main?: unknown };
    try {
      manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    } catch (error) {
      // Not on this path: the next one. Anything else (unreadable, not JSON) is Node's to report.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      return undefined;
    }
    const target =
      manifest.exports === undefined ? (manifest.main ?? 'index.js') : entryOf(manifest.exports);
    return typeof target === 'string' ? join(root, target) : undefined;
  }
  return undefined;
}

/** The `require` target of `exports` for ".", when it is a plain path. */
function entryOf(exports: unknown): unknown {
  const conditions = (value: unknown) =>
    typeof value === 'object' && value !== null
      ? ((value as Record<string, unknown>).require ?? (value as Record<string, unknown>).default)
      : value;
  if (typeof exports !== 'object' || exports === null) return exports;
  const dot = Object.keys(exports).some((key) => key.startsWith('.'))
    ? (exports as Record<string, unknown>)['.']
    : exports;
  return conditions(dot);
}

function loadDotenv(): Dotenv {
  const from = typeof __filename === 'string' ? __filename : import.meta.url;
  const require = nodeModule().createRequire(from);
  const entry = dotenvEntry(from);
  return require(entry ?? PACKAGE) as Dotenv;
}
