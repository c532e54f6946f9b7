// A whole `op://...` value read as the reference `$<op:...>` (src/resolver/op-value.ts, scan's hook):
// the op run rule (the whole value), literal single quotes, and no half-resolved string.

import { describe, expect, it } from 'vitest';
import { hasReference } from '../../src/cli/command-env.js';
import { mayHoldReference, ScanError, scan } from '../../src/resolver/scan.js';

const isScheme = (w: string) => w === 'secret' || w === 'env' || w === 'op';
const entry = (value: string, quote: '' | "'" | '"' = '') => ({
  key: 'K',
  value,
  quote,
  file: '.env',
  line: 1,
});

describe('op:// values', () => {
  it('a whole op:// value is one reference to the op scheme, query kept for op read', () => {
    expect(scan('op://prod/db/password', { isScheme })).toEqual([
      {
        scheme: 'op',
        name: ['prod/db/password'],
        fallbackWhenEmpty: true,
        raw: 'op://prod/db/password',
      },
    ]);
    const [ref] = scan('op://prod/db/one-time password?attribute=otp', { isScheme });
    expect(ref).toMatchObject({ scheme: 'op', name: ['prod/db/one-time password?attribute=otp'] });
    expect(mayHoldReference('op://a/b/c')).toBe(true);
  });

  it('a value that only contains op:// is text; single quotes keep a whole one literal', () => {
    expect(scan('see op://prod/db/password', { isScheme })).toEqual(['see op://prod/db/password']);
    expect(scan('xop://a/b/c', { isScheme })).toEqual(['xop://a/b/c']);
    expect(hasReference(entry('op://a/b/c') as never, isScheme)).toBe(true);
    expect(hasReference(entry('op://a/b/c', "'") as never, isScheme)).toBe(false);
    expect(hasReference(entry('op://a/b/c', '"') as never, isScheme)).toBe(true);
  });

  it('an op:// value holding $ is a scan error, not a half-resolved string', () => {
    expect(() => scan('op://prod/$<secret:x>/password', { isScheme })).toThrow(ScanError);
  });
});
