// The reference grammar (docs/architecture.md, "Reference grammar"), table-driven: source value → template shape or error.

import { describe, expect, it } from 'vitest';
import { type Reference, ScanError, scan, type Template } from '../../src/resolver/scan.js';

const schemes = new Set(['secret', 'env', 'aws', 'vault', 'file']);
const options = { isScheme: (w: string) => schemes.has(w) };

/** A compact, comparable form: text stays text, references become {s, n, f?, v?, d?}. */
function shape(t: Template): unknown[] {
  return t.map((p) => (typeof p === 'string' ? p : refShape(p)));
}
function refShape(r: Reference): Record<string, unknown> {
  const out: Record<string, unknown> = { s: r.scheme, n: shape(r.name) };
  if (r.field) out.f = shape(r.field);
  if (r.version) out.v = shape(r.version);
  if (r.fallback) out.d = shape(r.fallback);
  return out;
}

describe('scan: valid forms', () => {
  it.each<[string, string, unknown[]]>([
    ['plain text', 'hello world', ['hello world']],
    ['empty', '', []],
    ['a lone $', 'pa$$word$', ['pa$$word$']],
    ['chain lookup', '$<secret:db>', [{ s: 'secret', n: ['db'] }]],
    ['pinned provider', '$<aws:prod/db>', [{ s: 'aws', n: ['prod/db'] }]],
    ['env', '$<env:HOME>', [{ s: 'env', n: ['HOME'] }]],
    ['JSON field', '$<secret:db#password>', [{ s: 'secret', n: ['db'], f: ['password'] }]],
    ['field path', '$<secret:db#a.b.0>', [{ s: 'secret', n: ['db'], f: ['a.b.0'] }]],
    ['version', '$<secret:db?version=3>', [{ s: 'secret', n: ['db'], v: ['3'] }]],
    ['previous', '$<aws:db?version=previous>', [{ s: 'aws', n: ['db'], v: ['previous'] }]],
    [
      'field then version',
      '$<secret:db#pw?version=2>',
      [{ s: 'secret', n: ['db'], f: ['pw'], v: ['2'] }],
    ],
    [
      'version then field',
      '$<secret:db?version=2#pw>',
      [{ s: 'secret', n: ['db'], f: ['pw'], v: ['2'] }],
    ],
    ['default', '$<secret:db:-fallback>', [{ s: 'secret', n: ['db'], d: ['fallback'] }]],
    ['default with # and ?', '$<secret:db:-a#b?c>', [{ s: 'secret', n: ['db'], d: ['a#b?c'] }]],
    ['empty default', '$<env:X:->', [{ s: 'env', n: ['X'], d: [] }]],
    [
      'colon in name (ARN)',
      '$<aws:arn:aws:sm:1:secret:x>',
      [{ s: 'aws', n: ['arn:aws:sm:1:secret:x'] }],
    ],
    ['${} form', '${secret:db#pw}', [{ s: 'secret', n: ['db'], f: ['pw'] }]],
    ['${} env form', '${env:HOME}', [{ s: 'env', n: ['HOME'] }]],
    ['${} unknown scheme stays text', '${foo:bar}', ['${foo:bar}']],
    ['${NAME} stays text without expand', '${HOME}', ['${HOME}']],
    ['$NAME stays text without expand', '$HOME/x', ['$HOME/x']],
    [
      'several references with text',
      'postgres://$<secret:db#user>:$<secret:db#pass>@host/db',
      [
        'postgres://',
        { s: 'secret', n: ['db'], f: ['user'] },
        ':',
        { s: 'secret', n: ['db'], f: ['pass'] },
        '@host/db',
      ],
    ],
    [
      'nested name',
      '$<secret:$<env:APP_ENV>/db>',
      [{ s: 'secret', n: [{ s: 'env', n: ['APP_ENV'] }, '/db'] }],
    ],
    [
      'nested default',
      '$<secret:a:-$<secret:b>>',
      [{ s: 'secret', n: ['a'], d: [{ s: 'secret', n: ['b'] }] }],
    ],
    ['nested ${} inside $<>', '$<secret:${env:X}>', [{ s: 'secret', n: [{ s: 'env', n: ['X'] }] }]],
    ['escaped $<', '\\$<secret:db>', ['$<secret:db>']],
    ['escaped ${', '\\${secret:db}', ['${secret:db}']],
    ['escaped > inside', '$<secret:a:-x\\>y>', [{ s: 'secret', n: ['a'], d: ['x>y'] }]],
    ['backslash elsewhere kept', 'a\\b', ['a\\b']],
    ['unknown $< scheme is still a reference', '$<nosuch:x>', [{ s: 'nosuch', n: ['x'] }]],
  ])('%s: %s', (_, value, expected) => {
    expect(shape(scan(value, options))).toEqual(expected);
  });
});

describe('scan: opt-in expansion (dotenv-expand semantics)', () => {
  const expand = { ...options, expand: true };
  it.each<[string, unknown[]]>([
    ['${HOME}', [{ s: 'env', n: ['HOME'] }]],
    ['$HOME/bin', [{ s: 'env', n: ['HOME'] }, '/bin']],
    ['${PORT:-3000}', [{ s: 'env', n: ['PORT'], d: ['3000'] }]],
    ['${PORT-3000}', [{ s: 'env', n: ['PORT'], d: ['3000'] }]],
    ['\\$HOME', ['$HOME']],
    ['cost: $5', ['cost: $5']],
    ['${secret:db}', [{ s: 'secret', n: ['db'] }]],
    ['${POSTGRESQL.BASE.USER}', [{ s: 'env', n: ['POSTGRESQL.BASE.USER'] }]],
    ['${A:+alt}', [{ s: 'env', n: ['A'], d: ['alt'] }]],
    ['${A+alt}', [{ s: 'env', n: ['A'], d: ['alt'] }]],
    ['${A:-/path:with/colon}', [{ s: 'env', n: ['A'], d: ['/path:with/colon'] }]],
    ['${A:-${B:-x}}', [{ s: 'env', n: ['A'], d: [{ s: 'env', n: ['B'], d: ['x'] }] }]],
    ['${A:-$<secret:db#pw>}', [{ s: 'env', n: ['A'], d: [{ s: 'secret', n: ['db'], f: ['pw'] }] }]],
    ['$A:-x', [{ s: 'env', n: ['A'] }, ':-x']],
    ['${}', ['${}']],
    ['${A', ['${A']],
    ['${A:-{x}}', ['${A:-{x}}']],
    ['\\${A}', ['${A}']],
    ['$.$+$-$$', ['$.$+$-$$']],
  ])('%s', (value, expected) => {
    expect(shape(scan(value, expand))).toEqual(expected);
  });

  it('records the operator of each expansion', () => {
    const ops = ['${A}', '$A', '${A-x}', '${A:-x}', '${A+x}', '${A:+x}'].map(
      (v) => (scan(v, expand)[0] as Reference).expansion,
    );
    expect(ops).toEqual(['', '', '-', ':-', '+', ':+']);
  });

  it('expansions nest no deeper than the limit', () => {
    const deep = `${'${A:-'.repeat(9)}x${'}'.repeat(9)}`;
    expect(() => scan(deep, expand)).toThrow(/nest deeper than 8/);
    expect(() => scan(`${'${A:-'.repeat(8)}x${'}'.repeat(8)}`, expand)).not.toThrow();
  });

  it('`${NAME-x}` defaults only when unset, `${NAME:-x}` also when empty', () => {
    expect((scan('${A-x}', expand)[0] as Reference).fallbackWhenEmpty).toBe(false);
    expect((scan('${A:-x}', expand)[0] as Reference).fallbackWhenEmpty).toBe(true);
  });
});

describe('scan: errors', () => {
  it.each<[string, RegExp]>([
    ['$<secret:db', /unterminated reference/],
    ['$<secret:db#password', /unterminated reference/],
    ['${secret:db', /unterminated reference/],
    ['$<secret:$<env:X>', /unterminated reference/],
    ['$<nocolon>', /has no scheme/],
    ['$<secret:>', /names nothing/],
    ['$<secret: >', /names nothing/],
    ['$<secret: #field>', /names nothing/],
    ['$<secret:db?ver=1>', /unknown option/],
    [`${'$<secret:'.repeat(9)}x${'>'.repeat(9)}`, /nest deeper than 8/],
  ])('%s', (value, message) => {
    let error: unknown;
    try {
      scan(value, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScanError);
    expect((error as Error).message).toMatch(message);
  });

  it('allows nesting up to the limit', () => {
    const deep = `${'$<secret:'.repeat(8)}x${'>'.repeat(8)}`;
    expect(() => scan(deep, options)).not.toThrow();
  });
});

describe('scan: the fast path for a value that is one plain reference', () => {
  it('gives what the general scanner gives (property)', async () => {
    const fc = (await import('fast-check')).default;
    const part = fc.stringMatching(/^[a-zA-Z0-9_/.-]{1,12}$/);
    fc.assert(
      fc.property(
        fc.constantFrom('secret', 'env', 'aws', 'file'),
        part,
        fc.option(part),
        (scheme, name, field) => {
          const value = `$<${scheme}:${name}${field === null ? '' : `#${field}`}>`;
          const outcome = (v: string, take: number) => {
            try {
              return scan(v, options).slice(0, take);
            } catch (error) {
              return `error: ${(error as Error).message.replace(/ "[^"]*"/, '')}`;
            }
          };
          // A trailing space defeats the fast path without changing the references.
          expect(outcome(value, 2)).toEqual(outcome(`${value} `, 1));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('declines, or agrees with the general scanner, on any `$<...>` value (property)', async () => {
    const fc = (await import('fast-check')).default;
    const char = fc.constantFrom(...'aZ09_-:#?<>${}\\/. é\n'.split(''));
    const outcome = (v: string) => {
      try {
        return scan(v, options);
      } catch (error) {
        return `error: ${(error as Error).message.replace(/ "[^"]*"/, '')}`;
      }
    };
    fc.assert(
      fc.property(fc.array(char, { maxLength: 16 }), (chars) => {
        const value = `$<${chars.join('')}>`;
        const whole = outcome(value);
        const spaced = outcome(`${value} `);
        // The trailing space is literal text after whatever the value held.
        if (typeof whole === 'string' || typeof spaced === 'string') expect(whole).toEqual(spaced);
        else expect(spaced).toEqual([...whole.slice(0, -1), ...adjoin(whole.at(-1), ' ')]);
      }),
      { numRuns: 5000 },
    );
  });
});

/** The parts `last` and a literal `text` after it make: literal text joins a literal part. */
function adjoin(last: string | Reference | undefined, text: string): Array<string | Reference> {
  if (last === undefined) return [text];
  return typeof last === 'string' ? [last + text] : [last, text];
}
