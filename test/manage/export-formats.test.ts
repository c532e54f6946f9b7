// Export formats: every value survives a round trip through the tool that reads the format (bash
// `source`, dotenv and envmux's parser, JSON, base64 in a Secret, GitHub's NAME<<DELIM blocks).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { hasReference } from '../../src/cli/command-env.js';
import { dotenvQuote, formatValues, githubMasks } from '../../src/manage/export-formats.js';
import { exportValues } from '../../src/manage/export-values.js';
import { memory } from '../../src/providers/memory.js';
import { parseEnvSource } from '../../src/resolver/parse.js';

const NASTY = [
  'plain',
  '',
  "it's",
  'say "hi"',
  'dollar $HOME and $(id) and ${X}',
  'back`tick` `uname`',
  'line1\nline2\n',
  'cr\r\nlf',
  'trailing backslash\\',
  '\\n literally',
  'all \'three\' "kinds" `of` quotes $X',
  '  spaced  ',
  'tab\there',
  'émoji 🔑 ünïcode',
  '#not a comment',
  '%25 and ::add-mask:: lookalike',
  '$<secret:not-resolved>',
  "it's $HOME",
];

const tmp = mkdtempSync(join(tmpdir(), 'envmux-export-'));

describe('shell', () => {
  it.each(NASTY.map((v, i) => [i, v]))('value %i survives bash source', (_, value) => {
    const { text } = formatValues([['X', value]], 'shell');
    const file = join(tmp, 'x.sh');
    writeFileSync(file, text);
    const out = execFileSync('bash', ['-c', `source "${file}"; printf %s "$X"`], {
      encoding: 'utf8',
      env: {},
    });
    expect(out).toBe(value);
  });

  it('NUL bytes and non-identifier keys are coded errors', () => {
    expect(() => formatValues([['X', 'a\0b']], 'shell')).toThrow(/NUL/);
    expect(() => formatValues([['A.B', 'x']], 'shell')).toThrow(
      expect.objectContaining({ code: 'CONFIG', key: 'A.B' }),
    );
  });
});

describe('dotenv', () => {
  const exact = NASTY;
  it.each(exact.map((v, i) => [i, v]))(
    'value %i reads back exactly, never resolved',
    (_, value) => {
      const { text } = formatValues(
        [
          ['X', value],
          ['Y', 'after'],
        ],
        'dotenv',
      );
      const ours = parseEnvSource(text, 'x.env');
      expect(ours.find((e) => e.key === 'X')?.value).toBe(value);
      expect(dotenv.parse(text)).toEqual({ X: value, Y: 'after' });
      // envmux never resolves an exported value again (even with every word a scheme, and expand).
      const entry = ours.find((e) => e.key === 'X')!;
      expect(hasReference(entry, () => true)).toBe(false);
    },
  );

  it('a value no dotenv quoting holds exactly is a coded error, not a guess', () => {
    for (const value of [`'all' "kinds" \`of\` # quotes`, "it's `${X}`", "'q' $<x:y> \\"]) {
      expect(() => dotenvQuote('X', value)).toThrow(
        expect.objectContaining({ code: 'CONFIG', key: 'X' }),
      );
    }
  });
});

describe('other formats', () => {
  const pairs: Array<[string, string]> = [
    ['A', 'one'],
    ['B', 'two\nlines'],
  ];

  it('json', () => {
    expect(JSON.parse(formatValues(pairs, 'json').text)).toEqual({ A: 'one', B: 'two\nlines' });
  });

  it('docker-env and gitlab: KEY=value lines; multi-line values refused', () => {
    expect(formatValues([['A', 'x y "z"']], 'docker-env').text).toBe('A=x y "z"\n');
    expect(formatValues([['A', 'x']], 'gitlab').text).toBe('A=x\n');
    expect(() => formatValues(pairs, 'gitlab')).toThrow(expect.objectContaining({ key: 'B' }));
  });

  it('k8s-secret: base64 data that decodes to each value', () => {
    const { text } = formatValues(pairs, 'k8s-secret', { name: 'app', namespace: 'prod' });
    expect(text).toContain(
      'kind: Secret\nmetadata:\n  name: app\n  namespace: prod\ntype: Opaque\ndata:\n',
    );
    const b = / {2}B: (\S+)/.exec(text)![1]!;
    expect(Buffer.from(b, 'base64').toString('utf8')).toBe('two\nlines');
    expect(() => formatValues(pairs, 'k8s-secret', { name: 'Bad_Name' })).toThrow(/DNS/);
  });

  it('github: a mask per non-blank line first, then NAME<<DELIM blocks a runner reads back', () => {
    const value = 'first\n\n  second %0A\r\nthird';
    const out = formatValues(
      [
        ['K', value],
        ['L', 'x'],
      ],
      'github',
    );
    expect(out.masks).toBe(
      '::add-mask::first\n::add-mask::  second %250A\n::add-mask::third\n::add-mask::x\n',
    );
    expect(githubMasks('')).toEqual([]);
    // Read the blocks back the way the runner does.
    const lines = out.text.split('\n');
    const read: Record<string, string> = {};
    for (let i = 0; i < lines.length; i++) {
      const m = /^(\w+)<<(\S+)$/.exec(lines[i]!);
      if (!m) continue;
      const body: string[] = [];
      for (i++; lines[i] !== m[2]; i++) body.push(lines[i]!);
      read[m[1]!] = body.join('\n');
    }
    expect(read).toEqual({ K: value, L: 'x' });
  });
});

describe('exportValues', () => {
  it('exports every key of the files, resolved, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envmux-export-'));
    writeFileSync(join(dir, '.env'), 'A=$<secret:a>\nPLAIN=p\nB="$<secret:b>"\n');
    const store = memory({ values: { a: "va'l", b: 'vb' } });
    const result = await exportValues({
      cwd: dir,
      files: ['.env'],
      providers: [store],
      processEnv: {},
      format: 'json',
      configFile: false,
      audit: false,
    });
    expect(result.keys).toEqual(['A', 'PLAIN', 'B']);
    expect(JSON.parse(result.text)).toEqual({ A: "va'l", PLAIN: 'p', B: 'vb' });
  });

  it('fails closed: any unresolved reference throws and nothing is exported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'envmux-export-'));
    writeFileSync(join(dir, '.env'), 'A=$<secret:a>\nB=$<secret:missing>\n');
    await expect(
      exportValues({
        cwd: dir,
        files: ['.env'],
        providers: [memory({ values: { a: 'va' } })],
        processEnv: {},
        format: 'dotenv',
        audit: false,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
