// The limits on what an env file may hold (docs/architecture.md, "Limits"): one table, checked by
// every entry point before the work it bounds (reading, parsing, scanning, resolving).

import { EnvmuxError } from '../errors.js';

/** Every limit, in one place. Documented in docs/architecture.md, "Limits". */
export const LIMITS = {
  /** Bytes of one env file, checked before it is read. */
  fileBytes: 4 * 2 ** 20,
  /** Characters of one value as written in the file. */
  valueChars: 2 ** 20,
  /** Possible references (`$` before `<`, `{`, a letter or `_`) in one value. */
  referencesPerValue: 1000,
  /** Possible references in one file. */
  referencesPerFile: 10_000,
  /** References nested inside references (`$<secret:$<env:X>/db>` is 2). */
  nesting: 8,
  /** Keys referring to keys, one behind the other. */
  keyChain: 32,
  /** Characters a key may resolve to (a value that repeats other keys grows fast). */
  resolvedChars: 16 * 2 ** 20,
  /** Work dotenv's line expression may spend on runs of blank lines: Σ lines × characters per run. */
  blankRunCost: 2 ** 22,
} as const;

/** The error for a file over {@link LIMITS}.fileBytes (raised before the file is read). */
export function fileTooLarge(file: string, bytes: number): EnvmuxError {
  return new EnvmuxError(
    'CONFIG',
    `env file is ${mib(bytes)}, over the limit of ${mib(LIMITS.fileBytes)}`,
    {
      file,
      hint: 'an env file holds settings and references, not data: keep large values in a store',
    },
  );
}

/**
 * Count the possible references of `value`, up to one past `max` (so a huge value costs no
 * more than the limit). A `$` followed by `<`, `{`, a letter or `_` counts; escapes are not
 * subtracted, so the count is an upper bound.
 */
export function countReferences(value: string, max: number): number {
  let count = 0;
  for (let i = value.indexOf('$'); i !== -1 && count <= max; i = value.indexOf('$', i + 1)) {
    const c = value.charCodeAt(i + 1);
    // < { A-Z a-z _
    if (c === 60 || c === 123 || c === 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) count++;
  }
  return count;
}

/**
 * The limit problems of one file's values (value size, references per value and per file), each
 * naming the key and its line. `entries` are the file's, in order.
 */
export function checkValueLimits(
  entries: Iterable<{ key: string; value: string; file: string; line: number }>,
): EnvmuxError[] {
  const problems: EnvmuxError[] = [];
  let total = 0;
  for (const entry of entries) {
    const { value } = entry;
    if (value.length > LIMITS.valueChars) {
      problems.push(
        located(
          new EnvmuxError(
            'CONFIG',
            `the value has ${value.length} characters, over the limit of ${LIMITS.valueChars} (${mib(LIMITS.valueChars)})`,
            { hint: 'keep large values in a store and reference them' },
          ),
          entry,
        ),
      );
      continue;
    }
    if (!value.includes('$')) continue;
    const n = countReferences(value, LIMITS.referencesPerValue);
    if (n > LIMITS.referencesPerValue) {
      problems.push(
        located(
          new EnvmuxError(
            'INVALID_REFERENCE',
            `the value holds more than ${LIMITS.referencesPerValue} references`,
            { hint: 'split it, or escape literal dollar signs as \\$' },
          ),
          entry,
        ),
      );
      continue;
    }
    total += n;
    if (total > LIMITS.referencesPerFile) {
      problems.push(
        located(
          new EnvmuxError(
            'INVALID_REFERENCE',
            `the file holds more than ${LIMITS.referencesPerFile} references (reached at this key)`,
            {
              hint: 'split the configuration, or reference one JSON secret and pick fields with #',
            },
          ),
          entry,
        ),
      );
      break;
    }
  }
  return problems;
}

function located(
  error: EnvmuxError,
  entry: { key: string; file: string; line: number },
): EnvmuxError {
  error.key = entry.key;
  error.file = entry.file;
  error.line = entry.line || undefined;
  return error;
}

function mib(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

const LINE_END = /[\n\u2028\u2029]/;
/** Two line ends (as dotenv's `^` sees them) with only blanks between. */
const BLANK_RUN = /[\n\u2028\u2029]\s*[\n\u2028\u2029]/g;

/**
 * The 1-based line where blank lines pile up past what dotenv's parser handles in bounded time
 * (its cost grows with the square of a run of blank lines: 80,000 empty lines take ~40 s), or 0.
 * Linear: one search over the text.
 */
export function blankRunOverLimit(text: string): number {
  let cost = 0;
  BLANK_RUN.lastIndex = 0;
  for (let m = BLANK_RUN.exec(text); m; m = BLANK_RUN.exec(text)) {
    const run = m[0];
    cost += (run.split(LINE_END).length - 1) * run.length;
    if (cost > LIMITS.blankRunCost) {
      let line = 1;
      for (let i = text.indexOf('\n'); i !== -1 && i <= m.index; i = text.indexOf('\n', i + 1))
        line++;
      return line;
    }
  }
  return 0;
}
