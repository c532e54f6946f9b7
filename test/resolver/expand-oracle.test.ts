// dotenv-expand as a differential oracle for `expand: true`: its own test fixture (vendored from
// motdotla/dotenv-expand 1000.0.0 with its LICENSE in test/fixtures/dotenv-expand) and generated
// files go through both `dotenv.parse` + `dotenv-expand` and `loadConfig({ expand: true })`; plain
// variables must come out identical. Deliberate differences: docs/architecture.md, "Reference grammar".

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { expand } from 'dotenv-expand';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/index.js';

const FIXTURE = readFileSync(
  new URL('../fixtures/dotenv-expand/.env.test', import.meta.url),
  'utf8',
);

/** What dotenv-expand makes of `text` over `processEnv` (neither input is modified). */
function oracle(text: string, processEnv: Record<string, string>): Record<string, string> {
  const parsed = dotenv.parse(text) as Record<string, string>;
  return expand({ parsed, processEnv: { ...processEnv } }).parsed as Record<string, string>;
}

/** What `loadConfig({ expand: true })` makes of `text` as `.env`: the file's keys only. */
async function envmux(
  text: string,
  processEnv: Record<string, string>,
): Promise<Record<string, string>> {
  const cwd = mkdtempSync(join(tmpdir(), 'envmux-expand-oracle-'));
  writeFileSync(join(cwd, '.env'), text);
  const config = await loadConfig({
    cwd,
    processEnv: { ...processEnv },
    expand: true,
    configFile: false,
    audit: false,
    providers: [],
  }).finally(() => rmSync(cwd, { recursive: true, force: true }));
  const keys = Object.keys(dotenv.parse(text));
  return Object.fromEntries(keys.map((k) => [k, config[k] as string]));
}

/** dotenv-expand's values, except single-quoted lines: literal in envmux (their parsed text). */
function oracleOutsideSingleQuotes(text: string, processEnv: Record<string, string>) {
  const expected = oracle(text, processEnv);
  const parsed = dotenv.parse(text) as Record<string, string>;
  for (const m of text.matchAll(/^\s*(?:export\s+)?([\w.-]+)\s*=\s*'/gm)) {
    const key = m[1]!;
    if (!Object.hasOwn(processEnv, key)) expected[key] = parsed[key]!;
  }
  return expected;
}

describe("dotenv-expand's own fixture through loadConfig({ expand: true })", () => {
  it('gives every key the value dotenv-expand gives it (machine MACHINE set, as its tests do)', async () => {
    const processEnv = { MACHINE: 'machine' };
    expect(await envmux(FIXTURE, processEnv)).toEqual(
      oracleOutsideSingleQuotes(FIXTURE, processEnv),
    );
  });

  it('and with an empty environment', async () => {
    expect(await envmux(FIXTURE, {})).toEqual(oracleOutsideSingleQuotes(FIXTURE, {}));
  });

  it('single-quoted lines are literal: the only keys of the fixture that differ', async () => {
    const ours = await envmux(FIXTURE, {});
    const theirs = oracle(FIXTURE, {});
    const differ = Object.keys(theirs).filter((k) => ours[k] !== theirs[k]);
    expect(differ).toEqual(['DONT_CHOKE2', 'DONT_CHOKE6', 'DONT_CHOKE7']);
    expect(ours.DONT_CHOKE2).toContain('\\$B@0K');
  });

  it("pins a few of dotenv-expand's published assertions (the oracle is the package itself)", async () => {
    const config = await envmux(FIXTURE, { MACHINE: 'machine' });
    expect(config).toMatchObject({
      BASIC_EXPAND: 'basic',
      MACHINE_EXPAND: 'machine',
      ESCAPED_EXPAND: '$ESCAPED',
      UNDEFINED_EXPAND: '',
      EXPAND_SELF: '',
      ALTERNATE: 'alternate',
      'POSTGRESQL.MAIN.USER': 'postgres',
      MONGOLAB_URI_RECURSIVELY: 'mongodb://username:password@abcd1234.mongolab.com:12345/heroku_db',
      TWO_DOLLAR_SIGNS: 'abcd$$1234',
    });
  });
});

// Generated files: keys from a small set (so values refer to each other, forward and back, and to
// themselves), values built from literal text and every expansion form dotenv-expand reads. Never
// `$(…)`: dotenv-expand runs that as a shell command; envmux never does.
const NAMES = ['A', 'B', 'C', 'D_1', 'E.F'];
const name = fc.constantFrom(...NAMES, 'UNSET');
const literal = fc.constantFrom('x', 'y-z', '/p:q', ' ', '', '1', '@', '-', ':', '+');
// An operand holds literals and braced expansions only: dotenv-expand inserts an operand's text and
// scans the whole value again, so a bare `$A` in an operand joins the text after it (`${X:-$A}x`
// reads `$Ax`); envmux evaluates the operand on its own (see the deliberate differences below).
const operand: fc.Arbitrary<string> = fc.letrec<{ operand: string }>((tie) => ({
  operand: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literal,
    name.map((n) => `\${${n}}`),
    fc
      .tuple(
        name,
        fc.constantFrom(':-', '-', ':+', '+'),
        fc.array(tie('operand'), { maxLength: 2 }),
      )
      .map(([n, op, alt]) => `\${${n}${op}${alt.join('')}}`),
  ),
})).operand;
const piece = fc.oneof(
  operand,
  name.map((n) => `$${n}`),
);
const value = fc.array(piece, { maxLength: 4 }).map((parts) => parts.join(''));
const quote = fc.constantFrom('', '"');
const line = fc
  .tuple(fc.constantFrom(...NAMES), value, quote)
  .filter(([, v, q]) => !v.includes(q || '\n') && !v.includes('#') && !v.includes('\n'));
// Each key once: dotenv.parse keeps only a key's last line, so dotenv-expand never sees the earlier.
const file = fc
  .uniqueArray(line, { minLength: 1, maxLength: 5, selector: ([k]) => k })
  .map((lines) => lines.map(([k, v, q]) => `${k}=${q}${v}${q}\n`).join(''));
const machine = fc.dictionary(fc.constantFrom(...NAMES, 'UNSET'), fc.constantFrom('m', 'm-m'), {
  maxKeys: 2,
});

describe('generated files through both', () => {
  it('plain-variable expansion matches dotenv-expand exactly', async () => {
    await fc.assert(
      fc.asyncProperty(file, machine, async (text, processEnv) => {
        expect(await envmux(text, processEnv)).toEqual(oracle(text, processEnv));
      }),
      { numRuns: 300 },
    );
  });
});

// Where envmux differs from dotenv-expand on purpose (docs/architecture.md, "Reference grammar").
// Each case shows both outputs, so a change on either side shows here.
describe('deliberate differences, both sides pinned', () => {
  it('a value inserted by an expansion is not expanded again (dotenv-expand rescans it)', async () => {
    const text = 'URL=db://u:$PASS@h\n';
    const processEnv = { PASS: 'pa$word' };
    expect(oracle(text, processEnv).URL).toBe('db://u:pa@h');
    expect((await envmux(text, processEnv)).URL).toBe('db://u:pa$word@h');
  });

  it('an operand is evaluated on its own, not joined to the text after it', async () => {
    const text = 'B=b\nA=${UNSET:-$B}x\n';
    expect(oracle(text, {}).A).toBe('');
    expect((await envmux(text, {})).A).toBe('bx');
  });

  it('a lone $ in an operand stays (dotenv-expand hands the operand to String.replace: $$ → $)', async () => {
    // envmux: `a`, a lone `$`, then `$b` (unset → ""). dotenv-expand: `a$b`, rescanned → `a`.
    const text = 'A=${UNSET:-a$$b}\n';
    expect(oracle(text, {}).A).toBe('a');
    expect((await envmux(text, {})).A).toBe('a$');
  });

  it('an environment variable set to "" still wins over the file, as without expand', async () => {
    expect(oracle('A=file\n', { A: '' }).A).toBe('file');
    expect((await envmux('A=file\n', { A: '' })).A).toBe('');
  });

  it('a key assigned twice can read its earlier value (dotenv.parse keeps only the last)', async () => {
    const text = 'P=first\nP=${P}-second\n';
    expect(oracle(text, {}).P).toBe('-second');
    expect((await envmux(text, {})).P).toBe('first-second');
  });
});
