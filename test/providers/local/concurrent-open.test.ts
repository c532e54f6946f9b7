// A vault provider handed to a load (`providers: [local()]`) is opened by many reads at once: they
// share one opening of the key, and none of them sees its key wiped by another's.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/resolver/load.js';
import { makeVault } from './vault-fixture.js';

describe('concurrent first reads of a vault', () => {
  it.each([
    ['a key file', {}],
    ['a passphrase', { passphrase: 'correct horse battery staple' }],
  ])('200 references resolve on the first load (%s)', async (_, kind) => {
    const vault = await makeVault(kind);
    const writer = vault.open();
    for (let i = 0; i < 200; i++) await writer.set!(`app/s${i}`, `value-${i}`, {});
    const lines = Array.from({ length: 200 }, (_, i) => `K${i}=$<secret:app/s${i}>`);
    writeFileSync(join(vault.dir, '.env'), `${lines.join('\n')}\n`);
    // A fresh provider object, as a config file hands in: its key is not open yet.
    const config = await loadConfig({
      cwd: vault.dir,
      providers: [vault.open()],
      processEnv: {},
      configFile: false,
      audit: false,
    });
    for (let i = 0; i < 200; i++) expect(config[`K${i}`]).toBe(`value-${i}`);
  });
});
