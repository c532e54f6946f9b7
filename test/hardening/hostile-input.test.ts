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

  it('a 1 MB line of references is refused before it is scanned', async () => {
    const refs = '$<secret:a>'.repeat(90_000);
    const error = (await load(`R=${refs}\n`)) as EnvmuxAggregateError;
    expect(error.errors).toMatchObject([
      {
        code: 'INVALID_REFERENCE',
        key: 'R',
        line: 1,
        message: expect.stringMatching(/more than 1000 references/),
      },
    ]);
  });

  it('a reference to a name with # inside a quoted value', async () => {
    expect(await load('A="$<secret:b\\#c>"\n')).toMatchObject({ A: 'x' });
  });
});

describe('the limits of docs/architecture.md, "Limits", before the work', () => {
  /** loadConfig's problems for a .env of `content`. */
  async function problems(content: string | Uint8Array, options: object = {}) {
    const cwd = join(dir, String(n++));
    mkdirSync(cwd);
    writeFileSync(join(cwd, '.env'), content);
    const error = await loadConfig({
      cwd,
      processEnv: {},
      providers: [memory({ values: { a: 'A' } })],
      configFile: false,
      audit: false,
      ...options,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(EnvmuxAggregateError);
    return (error as EnvmuxAggregateError).errors;
  }

  it('a file over 4 MiB is refused before it is read (a 5 MB value of `$`)', async () => {
    const errors = await problems(`K=${'$'.repeat(5 * 2 ** 20)}\n`);
    expect(errors).toMatchObject([
      {
        code: 'CONFIG',
        file: '.env',
        message: expect.stringMatching(/over the limit of 4\.0 MiB/),
      },
    ]);
  });

  it('a value over 1 MiB is refused, naming the key and line (a literal, no reference)', async () => {
    const errors = await problems(`A=1\nBIG=${'v'.repeat(2 ** 20 + 1)}\n`);
    expect(errors).toMatchObject([
      {
        code: 'CONFIG',
        key: 'BIG',
        file: '.env',
        line: 2,
        message: expect.stringMatching(/limit of 1048576/),
      },
    ]);
  });

  it('more than 1,000 references in one value', async () => {
    const errors = await problems(`OK=$<secret:a>\nR=${'$<secret:a>'.repeat(1001)}\n`);
    expect(errors).toMatchObject([{ code: 'INVALID_REFERENCE', key: 'R', line: 2 }]);
  });

  it('more than 10,000 references in one file (600,000 before: 21 s in check)', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `K${i}=${'$<secret:a>'.repeat(600)}`);
    const errors = await problems(`${lines.join('\n')}\n`);
    expect(errors).toMatchObject([
      {
        code: 'INVALID_REFERENCE',
        key: 'K16',
        line: 17,
        message: expect.stringMatching(/more than 10000 references/),
      },
    ]);
  });

  it('exactly at the limits loads', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `K${i}=${'$<secret:a>'.repeat(1000)}`);
    const config = (await loadConfig({
      cwd: (() => {
        const cwd = join(dir, String(n++));
        mkdirSync(cwd);
        writeFileSync(join(cwd, '.env'), `${lines.join('\n')}\nBIG=${'v'.repeat(2 ** 20)}\n`);
        return cwd;
      })(),
      processEnv: {},
      providers: [memory({ values: { a: 'A' } })],
      configFile: false,
      audit: false,
    })) as Record<string, string>;
    expect(config.K9).toBe('A'.repeat(1000));
    expect(config.BIG).toHaveLength(2 ** 20);
  });

  it("a pile of blank lines dotenv's parser would take minutes over", async () => {
    const errors = await problems(`A=1\n${'\n'.repeat(80_000)}B=2\n`);
    expect(errors).toMatchObject([{ code: 'CONFIG', file: '.env', line: 2 }]);
    expect(errors[0]!.message).toMatch(/blank lines/);
  });

  it('a few blank lines anywhere are fine', async () => {
    const cwd = join(dir, String(n++));
    mkdirSync(cwd);
    writeFileSync(join(cwd, '.env'), `${'A=1\n\n\n  \n'.repeat(5000)}B="x\n\n\ny"\n`);
    const config = await loadConfig({ cwd, processEnv: {}, configFile: false, audit: false });
    expect(config).toEqual({ A: '1', B: 'x\n\n\ny' });
  });

  it('the same limits hold for every file of a load, with expansion on', async () => {
    const errors = await problems(`E=${'$a'.repeat(1001)}\n`, { expand: true });
    expect(errors).toMatchObject([{ code: 'INVALID_REFERENCE', key: 'E', line: 1 }]);
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
    ['quote storm across lines', `K="${'\\"\n'.repeat(big / 3)}`],
    ['escaped single quotes with blanks', `K='${"\\' ".repeat(big / 3)}x`],
  ])('parse: %s', (_, source) => {
    const started = performance.now();
    for (const entry of parseEnvSource(source, '.env')) expect(entry.line).toBeGreaterThan(0);
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
