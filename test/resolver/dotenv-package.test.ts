import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dotenvEntry } from '../../src/resolver/dotenv-package.js';

const here = join(process.cwd(), 'src/resolver/parse.ts');

describe('dotenvEntry: the file Node would load for require("dotenv")', () => {
  it('is the installed dotenv, as Node resolves it', () => {
    expect(dotenvEntry(here)).toBe(createRequire(here).resolve('dotenv'));
  });

  const root = mkdtempSync(join(tmpdir(), 'envmux-dotenv-entry-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  /** A project whose node_modules/dotenv has `manifest`; returns the module asking for it. */
  const project = (name: string, manifest: object, files: string[]) => {
    const pkg = join(root, name, 'node_modules', 'dotenv');
    mkdirSync(join(pkg, 'lib'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest));
    for (const f of files) writeFileSync(join(pkg, f), 'module.exports = { parse: () => ({}) };');
    mkdirSync(join(root, name, 'src'), { recursive: true });
    return join(root, name, 'src', 'app.js');
  };

  it.each([
    ['exports string', { exports: './lib/a.js' }, ['lib/a.js']],
    [
      'exports "." conditions',
      { exports: { '.': { require: './lib/a.js', import: './lib/b.mjs' } } },
      ['lib/a.js', 'lib/b.mjs'],
    ],
    ['exports conditions without "."', { exports: { default: './lib/a.js' } }, ['lib/a.js']],
    ['main only', { main: 'lib/a.js' }, ['lib/a.js']],
    ['neither', {}, ['index.js']],
  ])('agrees with Node for %s', (name, manifest, files) => {
    const from = project(name.replace(/\W+/g, '-'), manifest, files);
    expect(dotenvEntry(from)).toBe(createRequire(from).resolve('dotenv'));
  });

  it('leaves nested conditions to Node (undefined)', () => {
    const from = project('nested', { exports: { '.': { require: { default: './lib/a.js' } } } }, [
      'lib/a.js',
    ]);
    expect(dotenvEntry(from)).toBeUndefined();
  });

  it('leaves an unreadable package.json to Node, never a dotenv further up (undefined)', () => {
    const outer = join(root, 'node_modules', 'dotenv');
    mkdirSync(outer, { recursive: true });
    writeFileSync(join(outer, 'package.json'), JSON.stringify({ main: 'index.js' }));
    writeFileSync(join(outer, 'index.js'), 'module.exports = { parse: () => ({}) };');
    const from = project('broken', { main: 'lib/a.js' }, ['lib/a.js']);
    writeFileSync(join(root, 'broken', 'node_modules', 'dotenv', 'package.json'), '{ not json');
    expect(dotenvEntry(from)).toBeUndefined();
  });
});
