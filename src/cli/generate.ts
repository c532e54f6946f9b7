// `envmux generate`: a random token for a new secret (uniform over the charset, by rejection
// sampling from the OS CSPRNG). Prints the token to stdout; keeps nothing.

import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { EnvmuxError, isEnvmuxError, toEnvmuxError } from '../errors.js';

/** The named character sets of `--charset`. */
export const CHARSETS: Record<string, string> = {
  alnum: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  alpha: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  lower: 'abcdefghijklmnopqrstuvwxyz0123456789',
  numeric: '0123456789',
  hex: '0123456789abcdef',
  base64url: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  // Printable ASCII without space, quotes, backslash and `$` (safe unquoted in .env files and shells).
  symbols:
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%&()*+,-./:;<=>?@[]^_{|}~',
};

/** `length` characters drawn uniformly from `chars` (distinct characters, 2 to 256 of them). */
export function generateToken(length: number, chars: string): string {
  const set = [...new Set([...chars])];
  if (set.length < 2 || set.length > 256) {
    throw new EnvmuxError('CONFIG', 'a charset needs 2 to 256 distinct characters');
  }
  if (!Number.isInteger(length) || length < 1 || length > 4096) {
    throw new EnvmuxError('CONFIG', '--length must be an integer from 1 to 4096');
  }
  // Reject bytes at or above the largest multiple of the set size: every character equally likely.
  const limit = 256 - (256 % set.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(Math.max(16, (length - out.length) * 2))) {
      if (byte < limit) out += set[byte % set.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * The characters a token is drawn from, by the options given: `--chars` or `--charset` (default
 * alnum), never both. `explicitCharset` says whether `--charset` was given on the command line.
 */
export function charsFor(options: {
  charset: string;
  chars?: string;
  explicitCharset: boolean;
}): string {
  if (options.chars !== undefined) {
    if (options.explicitCharset) {
      throw new EnvmuxError('CONFIG', '--chars and --charset cannot be used together', {
        hint: 'give one: --charset NAME for a named set, or --chars CHARACTERS',
      });
    }
    if (new Set([...options.chars]).size < 2) {
      throw new EnvmuxError('CONFIG', '--chars needs 2 to 256 distinct characters', {
        hint: 'e.g. --chars abcdef0123456789, or --charset hex',
      });
    }
    return options.chars;
  }
  const chars = Object.hasOwn(CHARSETS, options.charset) ? CHARSETS[options.charset] : undefined;
  if (!chars) {
    throw new EnvmuxError('CONFIG', `unknown charset "${options.charset}"`, {
      hint: `use ${Object.keys(CHARSETS).join(', ')}, or --chars`,
    });
  }
  return chars;
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('print a random token (for a new secret: envmux generate | envmux vault set NAME)')
    .option('-l, --length <n>', 'characters', '32')
    .option(
      '--charset <name>',
      `one of ${Object.keys(CHARSETS).join(', ')} (not with --chars)`,
      'alnum',
    )
    .option('--chars <characters>', 'draw from exactly these characters instead of a named set')
    .option('-n, --no-newline', 'no newline after the token')
    .action(function (
      this: Command,
      options: { length: string; charset: string; chars?: string; newline: boolean },
    ) {
      try {
        const explicitCharset = this.getOptionValueSource('charset') === 'cli';
        const chars = charsFor({ ...options, explicitCharset });
        const token = generateToken(Number(options.length), chars);
        process.stdout.write(options.newline ? `${token}\n` : token);
      } catch (error) {
        const e = isEnvmuxError(error) ? error : toEnvmuxError(error);
        process.stderr.write(
          `envmux: ${e.code}: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`,
        );
        process.exitCode = 1;
      }
    });
}
