// `envmux check`'s lint pass over raw env file text and config keys: what dotenv silently drops.

import { describe, expect, it } from 'vitest';
import { lintConfigKeys, lintEnvText } from '../../src/cli/lint.js';

const lint = (text: string) =>
  lintEnvText(text, '.env').map((f) => [f.severity, f.problem.line, f.problem.message] as const);

describe('lintEnvText', () => {
  it('accepts what dotenv reads as meant', () => {
    const text = [
      '# comment',
      '',
      'export A=1',
      'B = spaced',
      'C: yaml-style',
      'D="quoted # not a comment"',
      "E='single'",
      'F="escaped \\" quote"',
      'PEM="-----BEGIN KEY-----',
      'MIIBOgIBAAJBAKj34GkxFhD9',
      '-----END KEY-----"',
      'G=',
      '  H=indented',
    ].join('\n');
    expect(lint(text)).toEqual([]);
  });

  it('flags malformed lines and unclosed quotes as errors, without quoting values', () => {
    const found = lint('BAD LINE\nK EY=3\n=novalue\nT="zzvalue\n');
    expect(found.map(([s, l]) => [s, l])).toEqual([
      ['error', 1],
      ['error', 2],
      ['error', 3],
      ['error', 4],
    ]);
    for (const [, , message] of found) expect(message).not.toMatch(/novalue|zzvalue|LINE/);
  });

  it('warns about duplicates and a quote that runs over assignments', () => {
    expect(lint('A=1\nA=2\n')).toEqual([
      ['warning', 2, 'A is set twice in this file (lines 1 and 2); the last one wins'],
    ]);
    const found = lint('T="open\nNEXT=1\nOTHER="x"\n');
    expect(found).toHaveLength(1);
    expect(found[0]![0]).toBe('warning');
    expect(found[0]![2]).toContain('runs to line 3, over 2 lines that look like assignments');
  });
});

describe('lintConfigKeys', () => {
  it('a typo of a known key is an error, an unknown key a warning', () => {
    const found = lintConfigKeys({ provders: [], providers: [], colour: 1 }, 'envmux.config.json');
    expect(found.map((f) => [f.severity, f.problem.message, f.problem.hint])).toEqual([
      ['error', 'unknown config key "provders" (it is ignored)', 'did you mean "providers"?'],
      [
        'warning',
        'unknown config key "colour" (it is ignored)',
        expect.stringContaining('known keys'),
      ],
    ]);
  });
});
