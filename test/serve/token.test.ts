// Tokens of `envmux serve`: generated 0600 when the file is missing, read back after, refused when
// too short; the bearer header compared exactly.

import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bearerMatcher, bearerMatches, tokenFromFile } from '../../src/serve/token.js';

describe('serve tokens', () => {
  it('generates a token 0600 in a 0700 folder, then reads the same one back', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'envmux-token-')), 'sub', 'serve.token');
    const first = tokenFromFile(file);
    expect(first.generated).toBe(true);
    expect(first.token.length).toBeGreaterThanOrEqual(40);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.token);
    expect(tokenFromFile(file)).toEqual({ token: first.token, generated: false });
  });

  it('refuses a short token file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'envmux-token-')), 'serve.token');
    writeFileSync(file, 'short\n');
    expect(() => tokenFromFile(file)).toThrow(/too short/);
  });

  it('matches only the exact bearer token', () => {
    const token = 'abcdefghijklmnopqrstuvwxyz012345';
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token.slice(1)}`, token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches('Bearer ', token)).toBe(false);
  });

  it('a matcher built once answers like bearerMatches, for any length presented', () => {
    const token = 'abcdefghijklmnopqrstuvwxyz012345';
    const matches = bearerMatcher(token);
    expect(matches(`Bearer ${token}`)).toBe(true);
    expect(matches(`BEARER   ${token}  `)).toBe(true);
    for (const other of [
      '',
      'a',
      token.slice(0, -1),
      `${token}5`,
      token.toUpperCase(),
      'é'.repeat(16),
    ]) {
      expect(matches(`Bearer ${other}`)).toBe(false);
    }
    expect(matches(`Basic ${token}`)).toBe(false);
    expect(bearerMatcher('ünïcödé-token-0123456789')('Bearer ünïcödé-token-0123456789')).toBe(true);
  });
});
