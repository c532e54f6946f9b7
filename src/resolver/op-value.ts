// A whole value that is a 1Password secret reference (`DB_PASSWORD=op://prod/db/password`), read as
// `op run` reads it: the reference `$<op:prod/db/password>` (docs/architecture.md, "Reference grammar").

import type { Reference } from './scan.js';

/** The scheme of a 1Password secret reference, and the provider type that reads it. */
const PREFIX = 'op://';

/**
 * Whether `value` (after dotenv's unquoting; single-quoted values are literal and never asked) is
 * read as a 1Password reference: it starts with `op://`, as the values `op run` resolves do.
 */
export function isOpValue(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** Why an `op://` value cannot be read, and what to write instead. */
export interface OpValueProblem {
  message: string;
  hint: string;
}

/**
 * The reference an `op://` value stands for: scheme `op`, the name everything after `op://`
 * (`vault/item/[section/]field`, with any `?attribute=...` kept for `op read`). A value that also
 * holds `$` is a problem rather than a string that reaches the app unresolved.
 */
export function opValueReference(value: string): Reference | OpValueProblem {
  if (value.includes('$')) {
    return {
      message: 'a value starting with op:// is a whole 1Password reference and cannot hold "$"',
      hint: "compose with $<op:vault/item/field> instead, or single-quote the value to keep it literal ('op://...')",
    };
  }
  return { scheme: 'op', name: [value.slice(PREFIX.length)], fallbackWhenEmpty: true, raw: value };
}
