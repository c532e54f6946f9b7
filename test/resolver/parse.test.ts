// The loader's parse stage: values are dotenv's, plus line numbers, quoting, and references kept
// whole across `#`. Differential tests against dotenv.parse itself.

import { readFileSync } from 'node:fs';
import dotenv from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { earlierEntry, locateAssignments, parseEnvSource } from '../../src/resolver/parse.js';

const asRecord = (source: string) =>
  Object.fromEntries(parseEnvSource(source, '.env').map((e) => [e.key, e.value]));

describe('parseEnvSource matches dotenv.parse on reference-free files', () => {
  it("on dotenv's documented edge cases (quotes, multi-line, export, comments, CRLF, BOM)", () => {
    const source = readFileSync(new URL('../fixtures/edge-cases.env', import.meta.url), 'utf8');
    const ours = asRecord(source);
    expect(ours).toEqual(dotenv.parse(source));
    // Spot checks, so a dotenv change shows up here as well.
    expect(ours.BOM_FIRST).toBe('yes');
    expect(ours.CRLF).toBe('crlf');
    expect(ours.EXPORTED).toBe('exp');
    expect(ours.INLINE).toBe('value');
    expect(ours.HASH_IN_DQ).toBe('a#b');
    expect(ours.DOUBLE).toBe('line1\nline2');
    expect(ours.MULTI).toBe('first\nsecond\nthird');
    expect(ours.DUP).toBe('second');
    expect(ours.PEM).toBe('-----BEGIN KEY-----\nabc\n-----END KEY-----');
  });

  it("on dotenv's documented cases (test/fixtures/dotenv/well-known.env)", () => {
    const source = readFileSync(
      new URL('../fixtures/dotenv/well-known.env', import.meta.url),
      'utf8',
    );
    const theirs = dotenv.parse(source);
    expect(Object.keys(theirs).length).toBeGreaterThan(40);
    expect(asRecord(source)).toEqual(theirs);
    const entries = parseEnvSource(source, '.env');
    const lines = source.split('\n');
    for (const entry of entries) expect(lines[entry.line - 1], entry.key).toContain(entry.key);
  });

  const envChar = fc.constantFrom(...'abcXYZ_09 =#"\'`\\\n\r\t.-:$<>{}'.split(''));
  it('on random files (property)', () => {
    fc.assert(
      fc.property(
        fc.array(envChar, { maxLength: 200 }).map((a) => a.join('')),
        (source) => {
          const withoutRefs = source.replaceAll('$', 'S');
          expect(asRecord(withoutRefs)).toEqual(dotenv.parse(withoutRefs));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('on random files holding `$` but no `#` (property)', () => {
    fc.assert(
      fc.property(
        fc.array(envChar, { maxLength: 200 }).map((a) => a.join('')),
        (source) => {
          const withoutHash = source.replaceAll('#', 'H');
          expect(asRecord(withoutHash)).toEqual(dotenv.parse(withoutHash));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('differs from dotenv only by keeping a cut reference whole (property)', () => {
    fc.assert(
      fc.property(
        fc.array(envChar, { maxLength: 200 }).map((a) => a.join('')),
        (source) => {
          const ours = asRecord(source);
          const theirs = dotenv.parse(source);
          expect(Object.keys(ours)).toEqual(Object.keys(theirs));
          for (const key of Object.keys(theirs)) {
            if (ours[key] !== theirs[key]) {
              expect(ours[key]!.startsWith(theirs[key]!)).toBe(true);
              expect(theirs[key]).toContain('$');
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('on random line-structured files (property)', () => {
    const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/);
    const value = fc.oneof(
      fc.stringMatching(/^[^\n$]{0,20}$/),
      fc.stringMatching(/^[^\n"$]{0,20}$/).map((v) => `"${v}"`),
      fc.stringMatching(/^[^\n'$]{0,20}$/).map((v) => `'${v}'`),
    );
    const line = fc.tuple(
      fc.constantFrom('', 'export ', '  '),
      key,
      fc.constantFrom('=', ' = ', ': '),
      value,
      fc.constantFrom('', ' # c'),
    );
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 20 }),
        fc.constantFrom('\n', '\r\n'),
        (lines, eol) => {
          const source = lines.map((l) => l.join('')).join(eol);
          expect(asRecord(source)).toEqual(dotenv.parse(source));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('the places of assignments agree with dotenv', () => {
  // Lines and quoting come from envmux's own pass over the text; dotenv gives the values. For every
  // key, dotenv's parse of just the assignment found for it must give the value of the whole file.
  const placeChar = fc.constantFrom(
    ...'abXY_9 =#"\'`\\\n\t.-:$<>{}'.split(''),
    '\u2028',
    '\u00a0',
    'export ',
    '\n\n',
    'K=',
    "='",
    '="',
  );
  it('on random files (property)', () => {
    fc.assert(
      fc.property(
        fc.array(placeChar, { maxLength: 160 }).map((a) => a.join('')),
        (text) => {
          const theirs = dotenv.parse(text);
          const places = locateAssignments(text);
          for (const key of Object.keys(theirs)) {
            const all = places.get(key);
            expect(all, `${key} in ${JSON.stringify(text)}`).toBeDefined();
            const last = all![all!.length - 1]!;
            const alone = dotenv.parse(text.slice(last.keyAt, last.end));
            expect(alone[key], `${key} in ${JSON.stringify(text)}`).toBe(theirs[key]);
            expect(last.line).toBe(text.slice(0, last.keyAt).split('\n').length);
          }
        },
      ),
      { numRuns: 4000 },
    );
  });

  it("gives each entry its last assignment's line and quoting, by position or by key (property)", () => {
    // Keys assigned once each, in dotenv's order, are placed by position; repeats and
    // integer-like keys (which dotenv's result lists first) by key.
    const line = fc.tuple(
      fc.constantFrom('A', 'B', 'C', 'D', '1', '20', 'export E'),
      fc.constantFrom('=v', "='q'", '="d"', '=`b`', ': v', '=$<secret:x#y> # c', '="m\nn"'),
      fc.constantFrom('\n', '\n\n', '\n# note\n'),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const text = lines.map(([k, v, end]) => `${k}${v}${end}`).join('');
        const places = locateAssignments(text);
        for (const entry of parseEnvSource(text, '.env')) {
          const last = places.get(entry.key)!.at(-1)!;
          expect([entry.line, entry.quote], `${entry.key} in ${JSON.stringify(text)}`).toEqual([
            last.line,
            last.quote,
          ]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('single quotes are found where dotenv strips them (property)', () => {
    const value = fc.stringMatching(/^[^\n'$]{0,12}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('A', 'B', 'C'), value), { maxLength: 8 }),
        (kv) => {
          const text = kv.map(([k, v], i) => (i % 2 ? `${k}='${v}'` : `${k}=${v}`)).join('\n');
          const entries = parseEnvSource(text, '.env');
          for (const entry of entries) {
            const line = text.split('\n')[entry.line - 1]!;
            expect(entry.quote === "'").toBe(
              line.startsWith(`${entry.key}='`) && line.endsWith("'"),
            );
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a key names its earlier assignment in the same file', () => {
    const [entry] = parseEnvSource("P='first'\nP=${P}-second\n", '.env');
    expect(entry).toMatchObject({ key: 'P', value: '${P}-second', line: 2 });
    expect(earlierEntry(entry!)).toMatchObject({ value: 'first', line: 1, quote: "'" });
  });

  it('costs no second pass for a file without references until a line is asked', () => {
    const entries = parseEnvSource('A=1\nB=2\n', '.env');
    expect(entries.map((e) => e.value)).toEqual(['1', '2']);
    expect(entries[1]!.line).toBe(2);
    expect(JSON.parse(JSON.stringify(entries[1]))).toEqual({
      key: 'B',
      value: '2',
      file: '.env',
      line: 2,
      quote: '',
    });
  });
});

describe('parseEnvSource with references', () => {
  it('keeps an unquoted reference whole across # (dotenv would cut it)', () => {
    const source =
      'A=$<secret:db#password>\nB=$<secret:db#password> # a comment\nC=x#y\nD="$<secret:db#password>"\n';
    expect(dotenv.parse(source).A).toBe('$<secret:db');
    expect(asRecord(source)).toEqual({
      A: '$<secret:db#password>',
      B: '$<secret:db#password>',
      C: 'x',
      D: '$<secret:db#password>',
    });
  });

  it('keeps nested references whole', () => {
    expect(asRecord('A=$<secret:$<env:E>/db#pw:-x#y> # c\n').A).toBe(
      '$<secret:$<env:E>/db#pw:-x#y>',
    );
  });

  it('records the line of each key (last occurrence wins) and its quoting', () => {
    const source =
      '# header\n\nA=$<env:X>\nexport B="$<env:Y>"\nMULTI="a\nb"\nC=\'$<env:Z>\'\nA=$<env:W>\r\n';
    const entries = parseEnvSource(source, 'f.env');
    const byKey = Object.fromEntries(entries.map((e) => [e.key, e]));
    expect(byKey.A).toMatchObject({ line: 8, quote: '', value: '$<env:W>', file: 'f.env' });
    expect(byKey.B).toMatchObject({ line: 4, quote: '"' });
    expect(byKey.C).toMatchObject({ line: 7, quote: "'" });
    expect(byKey.MULTI?.line).toBe(5);
  });

  it('places a key whose `$` sits only on a continuation line', () => {
    const entries = parseEnvSource(
      'A=1\nPEM="-----BEGIN\n$<secret:x>\n-----END"\nB=$<env:Y>\n',
      '.env',
    );
    expect(entries.map((e) => [e.key, e.line, e.quote])).toEqual([
      ['A', 1, ''],
      ['PEM', 2, '"'],
      ['B', 5, ''],
    ]);
  });

  it('locates keys after a BOM and CRLF line ends', () => {
    const entries = parseEnvSource('\uFEFFA=1\r\nB=2\r\n\r\nC=$<env:X>\r\n', '.env');
    expect(entries.map((e) => [e.key, e.line])).toEqual([
      ['A', 1],
      ['B', 2],
      ['C', 4],
    ]);
  });
});
