// Hostile input for the loader and the grammar: random bytes, invalid UTF-8, NULs, BOMs, CRLF
// mixes, unbalanced delimiters, deep nesting, 1 MB lines, reference bombs and adversarial inputs
// for every regular expression. The bar: no crash, no hang, and every error carries file:line.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EnvmuxAggregateError,
  loadConfig,
  parseDuration,
  parseEnvSource,
  scan,
} from '../../src/index.js';
import { memory } from '../../src/providers/index.js';
import { ScanError } from '../../src/resolver/scan.js';

const dir = mkdtempSync(join(tmpdir(), 'envmux-hostile-'));
let n = 0;
/** loadConfig over `content` (bytes or text); returns the config or the aggregate error. */
async function load(content: string | Uint8Array, options: object = {}) {
  const cwd = join(dir, String(n++));
  mkdirSync(cwd);
  writeFileSync(join(cwd, '.env'), content);
  try {
    return await loadConfig({
      cwd,
      processEnv: { HOME: '/h' },
      providers: [memory({ values: { a: 'A', 'b#c': 'x', json: '{"k":"v"}' } })],
      configFile: false,
      audit: false,
      deadline: 2000,
      ...options,
    });
  } catch (error) {
    expect(error).toBeInstanceOf(EnvmuxAggregateError);
    for (const e of (error as EnvmuxAggregateError).errors) {
      expect(e.file, e.describe()).toBe('.env');
      expect(e.line, e.describe()).toBeGreaterThan(0);
      expect(e.message).not.toMatch(/\n\s+at /); // never a stack trace as the message
    }
    return error as EnvmuxAggregateError;
  }
}

const grammarChars = fc.constantFrom(
  ...'$<>{}#?:-=\\\'"` \n\r\tabcAB_.0/\0\uFEFF'.split(''),
  '$<secret:',
  '$<env:',
  '${secret:',
  '${',
  ':-',
  '?version=',
);

describe('hostile input never crashes the loader', () => {
  it('random bytes, invalid UTF-8 included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        await load(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('random grammar soup: unbalanced delimiters, NULs, BOMs, CRLF mixes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(grammarChars, { maxLength: 120 }), async (parts) => {
        await load(parts.join(''), { expand: parts.length % 2 === 0 });
      }),
      { numRuns: 600 },
    );
  });

  it('scan throws only ScanError on any string (property)', () => {
    fc.assert(
      fc.property(fc.array(grammarChars, { maxLength: 80 }), (parts) => {
        try {
          scan(parts.join(''), { isScheme: () => true, expand: true });
        } catch (error) {
          expect(error).toBeInstanceOf(ScanError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('a BOM, NUL bytes and mixed line ends', async () => {
    const config = await load('\uFEFFA=1\r\nB=two\0three\nC=$<secret:a>\r\rD=4\n');
    expect(config).toMatchObject({ A: '1', B: 'two\0three', C: 'A', D: '4' });
  });
});

describe('limits hold with clear errors', () => {
  it('nesting beyond the limit', async () => {
    const error = (await load(
      `X=ok\nDEEP=${'$<secret:'.repeat(50)}a${'>'.repeat(50)}\n`,
    )) as EnvmuxAggregateError;
    expect(error.errors).toMatchObject([{ code: 'INVALID_REFERENCE', key: 'DEEP', line: 2 }]);
  });

  it('a reference bomb (each key doubles the previous one) stops at the size limit', async () => {
    const lines = ['K0=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'];
    for (let i = 1; i <= 40; i++) lines.push(`K${i}=$<env:K${i - 1}>$<env:K${i - 1}>`);
    const error = (await load(`${lines.join('\n')}\n`)) as EnvmuxAggregateError;
    expect(error.errors.length).toBeGreaterThan(0);
    expect(error.errors[0]!.message).toMatch(/grows past/);
  });

  it('an expansion bomb with expand on stops too', async () => {
    const lines = ['K0=xxxxxxxxxxxxxxxx'];
    for (let i = 1; i <= 40; i++) lines.push(`K${i}=\${K${i - 1}}\${K${i - 1}}`);
    const error = (await load(`${lines.join('\n')}\n`, { expand: true })) as EnvmuxAggregateError;
    expect(error.errors[0]!.message).toMatch(/grows past/);
  });

  it('a 1 MB line loads', async () => {
    const big = 'v'.repeat(2 ** 20);
    const config = await load(`BIG=${big}\nREF=$<secret:a>\n`);
    expect((config as Record<string, string>).BIG).toHaveLength(2 ** 20);
  });

  it('a 1 MB line of references loads', async () => {
    const refs = '$<secret:a>'.repeat(90_000);
    const config = await load(`R=${refs}\n`);
    expect((config as Record<string, string>).R).toHaveLength(90_000);
  });

  it('a reference to a name with # inside a quoted value', async () => {
    expect(await load('A="$<secret:b\\#c>"\n')).toMatchObject({ A: 'x' });
  });
});

describe('no catastrophic backtracking in any expression', () => {
  // Each adversarial input is ~100k characters; a super-linear expression would take minutes.
  const big = 100_000;
  it.each<[string, string]>([
    ['unclosed single quotes with escapes', `K='${"\\'".repeat(big / 2)}\nX=1`],
    ['unclosed double quotes', `K="${'a\\"'.repeat(big / 3)}`],
    ['spaces before =', `K${' '.repeat(big)}x`],
    ['spaces after =', `K=${' '.repeat(big)}#`],
    ['many = signs', `K${'='.repeat(big)}`],
    ['export export export', `${'export '.repeat(big / 7)}`],
    ['colon spaces', `K:${' '.repeat(big)}`],
    ['dots and dashes key', `${'.-'.repeat(big / 2)}`],
    ['hash storm', `K=${'# '.repeat(big / 2)}`],
  ])('parse: %s', (_, source) => {
    const started = performance.now();
    parseEnvSource(source, '.env');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it.each<[string, string]>([
    ['$< storm', '$<'.repeat(big / 2)],
    ['${ storm', '${'.repeat(big / 2)],
    ['scheme-like prefix storm', `\${${'a'.repeat(big)}`],
    ['expansion storm', '$a'.repeat(big / 2)],
    ['defaults storm', `$<secret:a${':-'.repeat(big / 2)}>`],
  ])('scan: %s', (_, value) => {
    const started = performance.now();
    try {
      scan(value, { isScheme: () => true, expand: true, maxDepth: 8 });
    } catch (error) {
      expect(error).toBeInstanceOf(ScanError);
    }
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('durations', () => {
    const started = performance.now();
    expect(() => parseDuration(`${'1'.repeat(big)}x`, 0)).toThrow();
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
