// Digests for comparing secret values across stores without holding or showing them: SHA-256 hex.
// A digest is never printed beside a name in user output; reports carry only equal/unequal.

import { createHash } from 'node:crypto';

/** SHA-256 of a value's UTF-8 bytes, hex. */
export function digestOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
