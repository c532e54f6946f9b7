// `envmux generate`: tokens of the asked length from the asked set, every character equally likely.

import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { CHARSETS, generateToken, register } from '../../src/cli/generate.js';
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

describe('envmux generate options', () => {
  /** Run `envmux generate ...args` through the command's own parser; capture stdout and stderr. */
  async function generate(...args: string[]) {
    const program = new Command().exitOverride();
    register(program);
    const out: string[] = [];
    const err: string[] = [];
    const stdout = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((c) => !!out.push(String(c)));
    const stderr = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((c) => !!err.push(String(c)));
    const before = process.exitCode;
    try {
      await program.parseAsync(['node', 'envmux', 'generate', ...args]);
      return { stdout: out.join(''), stderr: err.join(''), code: process.exitCode ?? 0 };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      process.exitCode = before;
    }
  }

  it('blames --chars, not the default charset, for an empty --chars', async () => {
    const r = await generate('--chars', '');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('envmux: CONFIG: --chars needs 2 to 256 distinct characters');
    expect(r.stderr).not.toContain('charset needs');
  });

  it('refuses --charset with --chars', async () => {
    const r = await generate('--charset', 'hex', '--chars', 'ab');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('envmux: CONFIG: --chars and --charset cannot be used together');
  });

  it('accepts either one alone', async () => {
    expect((await generate('--chars', 'ab', '-l', '8')).stdout).toMatch(/^[ab]{8}\n$/);
    expect((await generate('--charset', 'hex', '-l', '8')).stdout).toMatch(/^[0-9a-f]{8}\n$/);
    expect((await generate('-l', '8')).stdout).toMatch(/^[A-Za-z0-9]{8}\n$/);
  });
});
