// `#field` picking: JSON paths in general, and the entry rule for stores whose entries are maps of
// keys (Provider.isEntry): one key → its value, several → an error naming the keys, never a value.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createResolver, defineProvider, loadConfig } from '../../src/index.js';

const entries: Record<string, Record<string, string>> = {
  'app/db': { user: 'app', password: 'Entry-Secret-Password' },
  'app/token': { token: 'Entry-Single-Token' },
  'app/plain': { value: 'plain-value' },
};
const kv = defineProvider({
  id: 'kv',
  isEntry: () => true,
  async get(name) {
    const data = entries[name];
    if (!data) return undefined;
    const keys = Object.keys(data);
    return keys.length === 1 && keys[0] === 'value' ? data.value : JSON.stringify(data);
  },
});

function envFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-fields-'));
  writeFileSync(join(dir, '.env'), content);
  return dir;
}

describe('the entry rule through loadConfig and get', () => {
  it('picks #key, answers the only key, and answers a plain value as is', async () => {
    const config = await loadConfig({
      cwd: envFile(
        'PW=$<kv:app/db#password>\nTOKEN=$<kv:app/token>\nPLAIN=$<kv:app/plain>\nMISSING=$<kv:app/db#nope:-dflt>\n',
      ),
      providers: [kv],
      processEnv: {},
      configFile: false,
      audit: false,
    });
    expect(config).toEqual({
      PW: 'Entry-Secret-Password',
      TOKEN: 'Entry-Single-Token',
      PLAIN: 'plain-value',
      MISSING: 'dflt',
    });
  });

  it('an entry with several keys and no #key is an error that names the keys, not the values', async () => {
    const error = await loadConfig({
      cwd: envFile('A=ok\nDB=$<kv:app/db>\n'),
      providers: [kv],
      processEnv: {},
      configFile: false,
      audit: false,
    }).catch((e) => e);
    expect(error.errors).toMatchObject([{ code: 'INVALID_REFERENCE', key: 'DB', line: 2 }]);
    expect(error.errors[0].message).toContain('user, password');
    expect(JSON.stringify(error)).not.toContain('Entry-Secret-Password');
    const resolver = createResolver({ providers: [kv], audit: false });
    await expect(resolver.get('app/db', { provider: 'kv' })).rejects.toMatchObject({
      code: 'INVALID_REFERENCE',
    });
    expect(await resolver.get('app/db', { provider: 'kv', field: 'user' })).toBe('app');
    // From the cache too.
    expect(await resolver.get('app/token', { provider: 'kv' })).toBe('Entry-Single-Token');
    expect(await resolver.get('app/token', { provider: 'kv' })).toBe('Entry-Single-Token');
  });
});
