// Durations as users write them in env vars and options: `500ms`, `30s`, `5m`, `24h`, `7d`, or ms.

import { EnvmuxError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds for `value`; `fallback` when it is undefined or empty. Throws CONFIG when malformed. */
export function parseDuration(value: string | number | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) {
    throw new EnvmuxError('CONFIG', `"${value}" is not a duration`, {
      hint: 'write 500ms, 30s, 5m, 24h or 7d',
    });
  }
  return Number(m[1]) * UNITS[m[2] ?? 'ms']!;
}
