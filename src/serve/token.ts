// Bearer tokens of `envmux serve`: read from a file or the environment, or generated and written
// 0600; compared in constant time. A token never appears in a log line or an audit entry.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EnvmuxError } from '../errors.js';
import { writeFileAtomicSync } from '../files/atomic-write.js';

/** Shortest token accepted from a file or the environment. */
export const MIN_TOKEN_LENGTH = 16;

/** A fresh random token (256 bits, base64url). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The token in `file` when it exists, else a generated one written there (0600, directory 0700).
 * Returns the token and whether it was generated.
 */
export function tokenFromFile(file: string): { token: string; generated: boolean } {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    checkToken(token, file);
    return { token, generated: false };
  }
  const token = generateToken();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, `${token}\n`, 0o600);
  return { token, generated: true };
}

/** Reject a token too short to be one. */
export function checkToken(token: string, where: string): void {
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new EnvmuxError('CONFIG', `the token from ${where} is too short or has spaces`, {
      hint: `use at least ${MIN_TOKEN_LENGTH} characters without spaces, or let envmux generate one`,
    });
  }
}

/**
 * A test of `Authorization: Bearer …` headers against `token`, built once per server: the token's
 * bytes are kept, and each request costs one constant-time comparison (no hashing). Only the
 * token's length can be learnt from timing, and tokens are at least 16 characters of random text.
 */
export function bearerMatcher(token: string): (header: string | undefined) => boolean {
  const expected = Buffer.from(token, 'utf8');
  return (header) => {
    if (!header) return false;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return false;
    const presented = Buffer.from(match[1]!, 'utf8');
    if (presented.length !== expected.length) {
      // The same work as a comparison, so a wrong length takes as long as a wrong token.
      timingSafeEqual(expected, expected);
      return false;
    }
    return timingSafeEqual(presented, expected);
  };
}

/** Whether the request's `Authorization: Bearer …` header carries `token`, in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  return bearerMatcher(token)(header);
}
