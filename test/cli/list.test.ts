// `envmux list` / `copy` patterns: a glob asks the store for its literal prefix and filters the
// rest; `--rename` rules map names with `*` captures, first match wins.

import { describe, expect, it } from 'vitest';
import { listPattern } from '../../src/cli/list.js';
import { createRenamer, parseRenameRule } from '../../src/manage/name-mapping.js';

describe('list patterns', () => {
  it.each([
    ['', '', 'anything', true],
    ['prod/', 'prod/', 'prod/db', true],
    ['db/*', 'db/', 'db/password', true],
    ['db/*', 'db/', 'db/replica/password', false],
    ['db/**', 'db/', 'db/replica/password', true],
    ['S00?_KEY', 'S00', 'S001_KEY', true],
  ])('%s asks for %s; %s matches: %s', (pattern, prefix, name, matches) => {
    const p = listPattern(pattern);
    expect(p.prefix).toBe(prefix);
    expect(p.matches(name)).toBe(matches);
  });
});

describe('rename rules', () => {
  it('maps * captures in order; unmatched names keep their name; first rule wins', () => {
    const rename = createRenamer(['dev/*/db/*=prod/*/database/*', 'dev/*=prod/*', 'x=y']);
    expect(rename('dev/eu/db/password')).toBe('prod/eu/database/password');
    expect(rename('dev/api/token')).toBe('prod/api/token');
    expect(rename('x')).toBe('y');
    expect(rename('other')).toBe('other');
    expect(createRenamer(['a.b*=c'])('axb1')).toBe('axb1');
  });

  it.each(['nodelimiter', '=x', 'x=', 'a=*'])('%s is a CONFIG error', (text) => {
    expect(() => parseRenameRule(text)).toThrow(expect.objectContaining({ code: 'CONFIG' }));
  });
});
