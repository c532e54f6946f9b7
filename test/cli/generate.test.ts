// `envmux generate`: tokens of the asked length from the asked set, every character equally likely.

import { describe, expect, it } from 'vitest';
import { CHARSETS, generateToken } from '../../src/cli/generate.js';
import { toEnvmuxError } from '../../src/errors.js';

describe('generateToken', () => {
  it.each(Object.entries(CHARSETS))(
    'draws %s tokens of the asked length from the set',
    (_, set) => {
      for (const length of [1, 16, 32, 100]) {
        const token = generateToken(length, set);
        expect(token).toHaveLength(length);
        for (const ch of token) expect(set).toContain(ch);
      }
    },
  );

  it('draws every character of a set whose size does not divide 256 about equally often', () => {
    const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (let i = 0; i < 10; i++) for (const ch of generateToken(3000, 'abc')) counts[ch]!++;
    // 10,000 expected each; the standard deviation is ~82, so ±600 fails only on a broken sampler.
    for (const n of Object.values(counts)) expect(Math.abs(n - 10_000)).toBeLessThan(600);
  });

  it.each([
    ['a charset of one character', 1, 'a'],
    ['length 0', 0, 'ab'],
    ['length beyond 4096', 5000, 'ab'],
  ])('refuses %s', (_, length, set) => {
    let code: string | undefined;
    try {
      generateToken(length, set);
    } catch (error) {
      code = toEnvmuxError(error).code;
    }
    expect(code).toBe('CONFIG');
  });
});
