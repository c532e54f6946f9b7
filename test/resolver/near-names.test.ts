import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memory } from '../../src/providers/index.js';
import { loadEnvironment } from '../../src/resolver/load.js';
import { editDistance, nearest } from '../../src/resolver/near-names.js';

function envFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-near-'));
  writeFileSync(join(dir, '.env'), text);
  return dir;
}

async function problems(text: string, providers = [memory({ values: { 'api/token': 't0k' } })]) {
  const loaded = await loadEnvironment({
    cwd: envFile(text),
    providers,
    processEnv: {},
    configFile: false,
    audit: false,
  });
  return loaded.errors.map((e) => ({ message: e.message, hint: e.hint }));
}

describe('near names', () => {
  it('counts edits, giving up past the bound', () => {
    expect(editDistance('tokn', 'token', 2)).toBe(1);
    expect(editDistance('secrt', 'secret', 2)).toBe(1);
    expect(editDistance('loacl', 'local', 2)).toBe(1); // a swap is one edit
    expect(editDistance('abc', 'xyzw', 2)).toBe(3);
    expect(nearest('api/tokn', ['api/token', 'db/password', 'api/tokens'])).toBe('api/token');
    expect(nearest('zzz', ['api/token'])).toBeUndefined();
  });

  it('a NOT_FOUND names the chain it walked and a near name in a store that lists', async () => {
    expect(await problems('A=$<secret:api/tokn>\n')).toEqual([
      {
        message: 'secret "api/tokn" was not found in any provider of the chain (memory)',
        hint: 'did you mean "api/token" in memory? else create it, or give a default with :-',
      },
    ]);
  });

  it('an auto-detected chain says which stores detection left out, and why', async () => {
    const loaded = await loadEnvironment({
      cwd: envFile('A=$<secret:zz/none>\n'),
      env: {},
      processEnv: {},
      configFile: false,
      audit: false,
    });
    expect(loaded.errors.map((e) => e.message)).toEqual([
      'secret "zz/none" was not found in any provider of the chain (env; left out: local: no .envmux/vault.json, file: /run/secrets does not exist)',
    ]);
  });

  it('keeps the version it asked for', async () => {
    expect(await problems('A=$<secret:api/token?version=previous>\n')).toEqual([
      {
        message: 'secret "api/token" has no previous version in any provider of the chain (memory)',
        hint: 'create it, or give a default with :-',
      },
    ]);
    expect((await problems('A=$<secret:api/token?version=7>\n'))[0]!.message).toBe(
      'secret "api/token" has no version "7" in any provider of the chain (memory)',
    );
  });

  it('never suggests for a name built from a secret', async () => {
    const store = memory({ values: { inner: 'api/tokn', 'api/token': 'x' } });
    expect(await problems('A=$<secret:$<secret:inner>>\n', [store])).toEqual([
      {
        message: 'secret "$<secret:inner>" was not found in any provider of the chain (memory)',
        hint: 'create it, or give a default with :-',
      },
    ]);
  });

  it('lists each store at most once per load', async () => {
    const store = memory({ values: { 'api/token': 'x' } });
    let lists = 0;
    const list = store.list!.bind(store);
    store.list = (prefix, ctx) => {
      lists++;
      return list(prefix, ctx);
    };
    const found = await problems('A=$<secret:api/tokn>\nB=$<secret:api/tokan>\nC=$<secret:db>\n', [
      store,
    ]);
    expect(found.map((p) => p.hint)).toEqual([
      'did you mean "api/token" in memory? else create it, or give a default with :-',
      'did you mean "api/token" in memory? else create it, or give a default with :-',
      'create it, or give a default with :-',
    ]);
    expect(lists).toBe(1);
  });

  it('offers a near scheme and a near provider id', async () => {
    expect(await problems('A=$<secrt:api/token>\nB=$<memroy:api/token>\n')).toEqual([
      {
        message: 'unknown provider "secrt"',
        hint: 'did you mean "secret"? else use secret:, env:, or the id of a configured provider',
      },
      {
        message: 'unknown provider "memroy"',
        hint: 'did you mean "memory"? else use secret:, env:, or the id of a configured provider',
      },
    ]);
  });
});

describe('how near is near', () => {
  it('counts a swap of two neighbours as one edit, and asks fewer edits of short words', async () => {
    const { editDistance, nearest } = await import('../../src/resolver/near-names.js');
    expect(editDistance('loacl', 'local', 2)).toBe(1);
    expect(nearest('loacl', ['local', 'aws'])).toBe('local');
    expect(nearest('secrt', ['secret', 'env'])).toBe('secret');
    expect(nearest('nope', ['op', 'env'])).toBeUndefined();
    expect(nearest('api/tokn', ['api/token'])).toBe('api/token');
  });
});
