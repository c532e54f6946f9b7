// `envmux check`'s lint pass over the raw text of env files and the config file's keys: what the
// dotenv grammar silently drops or misreads (malformed lines, unclosed quotes, duplicates, typos).

import { readFileSync } from 'node:fs';
import { EnvmuxError } from '../errors.js';

/** A lint finding: an error cannot be meant; a warning may be (`--strict` fails on it too). */
export interface Finding {
  severity: 'error' | 'warning';
  problem: EnvmuxError;
}

/** `KEY=` or `export KEY=` (dotenv also reads `KEY: value`). Keys as dotenv reads them. */
const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)/;
/** What a line that continues a quoted value looks like when it is really the next assignment. */
const LOOKS_ASSIGNED = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=\S/;

/** Lint every file that exists among `paths` (shown as `shown[i]`). Unreadable files are skipped. */
export function lintEnvFiles(paths: string[], shown: string[]): Finding[] {
  const findings: Finding[] = [];
  paths.forEach((path, i) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return; // the load reports missing or unreadable files
    }
    findings.push(...lintEnvText(text, shown[i] ?? path));
  });
  return findings;
}

/**
 * Lint one env file's text, line by line. Errors: a line that is not an assignment (`BAD LINE`,
 * `K EY=3`, `=novalue`), a quote that never closes. Warnings: a quoted value that runs over lines
 * that look like assignments (an unclosed quote swallowing them), a key set twice in one file.
 * Never puts a value in a finding.
 */
export function lintEnvText(source: string, file: string): Finding[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const findings: Finding[] = [];
  const seen = new Map<string, number>();
  const at = (line: number, message: string, hint: string, key?: string) =>
    new EnvmuxError('CONFIG', message, { file, line, key, hint });
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const trimmed = text.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const m = ASSIGNMENT.exec(text);
    if (!m) {
      findings.push({ severity: 'error', problem: at(i + 1, malformed(trimmed), LINE_HINT) });
      continue;
    }
    const key = m[1]!;
    const previous = seen.get(key);
    if (previous !== undefined) {
      findings.push({
        severity: 'warning',
        problem: at(
          i + 1,
          `${key} is set twice in this file (lines ${previous} and ${i + 1}); the last one wins`,
          'remove one of them',
          key,
        ),
      });
    }
    seen.set(key, i + 1);
    const value = text.slice(m[0].length).trimStart();
    const quote = value[0];
    if (quote !== '"' && quote !== "'" && quote !== '`') continue;
    const close = closing(value, 1, quote);
    if (close !== -1) continue;
    // The quote runs on: find where (dotenv reads a quoted value across lines up to its closing quote).
    let end = -1;
    for (let j = i + 1; j < lines.length; j++) {
      if (closing(lines[j]!, 0, quote) !== -1) {
        end = j;
        break;
      }
    }
    if (end === -1) {
      findings.push({
        severity: 'error',
        problem: at(
          i + 1,
          `the value of ${key} opens a ${quote} quote that never closes (it would keep the quote character in the value)`,
          `close the quote: ${key}=${quote}...${quote}`,
          key,
        ),
      });
      continue;
    }
    const swallowed = lines.slice(i + 1, end + 1).filter((l) => LOOKS_ASSIGNED.test(l));
    if (swallowed.length) {
      findings.push({
        severity: 'warning',
        problem: at(
          i + 1,
          `the ${quote}-quoted value of ${key} runs to line ${end + 1}, over ${swallowed.length} line${swallowed.length === 1 ? '' : 's'} that look like assignments (an unclosed quote?)`,
          `close the quote on line ${i + 1}, or ignore this warning if the value really spans those lines`,
          key,
        ),
      });
    }
    i = end;
  }
  return findings;
}

const LINE_HINT = 'write KEY=value (a letter or _ first, no spaces in the key), or # for a comment';

/** Why a line is not an assignment, without quoting it (it may hold a value). */
function malformed(line: string): string {
  if (line.startsWith('=')) return 'malformed line: a value without a key';
  const eq = line.indexOf('=');
  if (eq === -1) return 'malformed line: not KEY=value (no "=")';
  if (/\s/.test(line.slice(0, eq).trim())) return 'malformed line: the key holds a space';
  return 'malformed line: the key holds characters a key cannot have';
}

/** Index of the closing `quote` in `text` from `from` (a `\` escapes a double quote), or -1. */
function closing(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\' && quote === '"') {
      i++;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}

/** The options a config file may hold (the library's load and resolver options). */
export const CONFIG_KEYS = [
  'providers',
  'env',
  'cache',
  'retry',
  'timeout',
  'concurrency',
  'failover',
  'breaker',
  'audit',
  'writeTo',
  'schema',
  'processEnv',
  'override',
  'expand',
  'deadline',
  'files',
  'cwd',
  'nodeEnv',
] as const;

/**
 * Unknown keys of a config file: an error when a known key is within two edits (a typo such as
 * `provders`: what the user meant is silently ignored), a warning otherwise.
 */
export function lintConfigKeys(config: Record<string, unknown>, file: string): Finding[] {
  const known = new Set<string>(CONFIG_KEYS);
  const findings: Finding[] = [];
  for (const key of Object.keys(config)) {
    if (known.has(key)) continue;
    const near = CONFIG_KEYS.find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
    findings.push({
      severity: near ? 'error' : 'warning',
      problem: new EnvmuxError('CONFIG', `unknown config key "${key}" (it is ignored)`, {
        file,
        hint: near ? `did you mean "${near}"?` : `known keys: ${CONFIG_KEYS.join(', ')}`,
      }),
    });
  }
  return findings;
}

/** Levenshtein distance (short strings only). */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}
