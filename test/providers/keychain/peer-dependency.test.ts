// The keychain binding is an optional peer with a wide range, and the source loads only that package.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEYCHAIN_PACKAGES } from '../../../src/providers/keychain/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
const source = readFileSync(
  new URL('../../../src/providers/keychain/keychain.ts', import.meta.url),
  'utf8',
);

describe('keychain package', () => {
  it('declares @napi-rs/keyring an optional peer (>=, not a caret pin) and imports nothing else', () => {
    for (const name of KEYCHAIN_PACKAGES) {
      expect(pkg.peerDependencies[name]).toMatch(/^>=/);
      expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
      expect(pkg.dependencies?.[name]).toBeUndefined();
    }
    const imported = [...source.matchAll(/import\('([^']+)'\)/g)].map((m) => m[1]);
    expect(imported).toEqual([...KEYCHAIN_PACKAGES]);
  });
});
