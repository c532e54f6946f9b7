// `envmux vault` helpers: glob patterns for list and the masked value column.

import { describe, expect, it } from 'vitest';
import { globToRegExp, maskValue } from '../../src/cli/vault.js';

describe('list patterns', () => {
  it.each([
    ['db/*', 'db/password', true],
    ['db/*', 'db/replica/password', false],
    ['db/**', 'db/replica/password', true],
    ['*/password', 'db/password', true],
    ['api/key?', 'api/key1', true],
    ['api/key?', 'api/key12', false],
    ['a.b', 'axb', false],
    ['prod/(x)', 'prod/(x)', true],
  ])('%s matches %s: %s', (glob, name, expected) => {
    expect(globToRegExp(glob).test(name)).toBe(expected);
  });
});

describe('masked values', () => {
  it.each([
    ['', '***'],
    ['short', '***'],
    ['eleven-char', '***'],
    ['twelve-chars', '***ars'],
    ['a-long-token-🔑🔑🔑', '***🔑🔑🔑'],
  ])('%s → %s', (value, masked) => {
    expect(maskValue(value)).toBe(masked);
  });
});
