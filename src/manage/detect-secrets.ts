// Which keys of a plain .env file hold secrets (for `envmux migrate`): by the key's name, by the
// value's shape (credentials in a URL) and by its entropy. Pure; returns names and reasons, never values.

/** Why a key was picked. */
export type SecretReason = 'keys' | 'name' | 'url-credentials' | 'entropy';

/** Words of a key name that mark a secret (the key is split at `_`, `.`, `-`). */
const SECRET_WORDS = new Set([
  'PASSWORD',
  'PASSWD',
  'PWD',
  'PASS',
  'SECRET',
  'SECRETS',
  'TOKEN',
  'TOKENS',
  'KEY',
  'APIKEY',
  'CREDENTIAL',
  'CREDENTIALS',
  'PRIVATE',
  'DSN',
]);

/** Words that mark a value meant to be public (`NEXT_PUBLIC_*`, `PUBLIC_KEY`). */
const PUBLIC_WORDS = new Set(['PUBLIC', 'PUBLISHABLE']);

/** Values that are settings, not secrets, whatever the key says: numbers, booleans, durations. */
const SETTING = /^(?:-?\d+(?:\.\d+)?(?:ms|s|m|h|d|kb|mb|gb)?|true|false|yes|no|on|off|null|none)$/i;

export interface DetectOptions {
  /** Exactly these keys, instead of the heuristics. */
  keys?: string[];
  /** Shannon entropy (bits per character) from which a value counts as random; default 3.5. */
  entropyBits?: number;
  /** Shortest value the entropy test considers; default 20 characters. */
  entropyMinLength?: number;
}

/** Shannon entropy of a string, in bits per character. */
export function entropyOf(value: string): number {
  const counts = new Map<string, number>();
  const chars = [...value];
  for (const ch of chars) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / chars.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * Why `key=value` looks like a secret, or `undefined`. Empty values and references are never
 * picked; with `keys`, exactly those keys are.
 */
export function secretReason(
  key: string,
  value: string,
  options: DetectOptions = {},
): SecretReason | undefined {
  if (options.keys) return options.keys.includes(key) ? 'keys' : undefined;
  if (!value.trim() || /\$[<{]/.test(value)) return undefined;
  const words = key.toUpperCase().split(/[_.-]+/);
  if (words.some((w) => PUBLIC_WORDS.has(w))) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i.test(value)) return 'url-credentials';
  if (SETTING.test(value.trim())) return undefined;
  if (words.some((w) => SECRET_WORDS.has(w))) return 'name';
  const minLength = options.entropyMinLength ?? 20;
  if (
    value.length >= minLength &&
    !/\s/.test(value) &&
    !/^(?:[a-z][a-z0-9+.-]*:\/\/|\.{0,2}\/)/i.test(value) &&
    entropyOf(value) >= (options.entropyBits ?? 3.5)
  ) {
    return 'entropy';
  }
  return undefined;
}
