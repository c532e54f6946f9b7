// Argon2id behind one function: hash-wasm reproduces vectors computed with Node's native
// crypto.argon2 (Node 24.21), native and hash-wasm agree where both exist, and a passphrase is
// stretched exactly once per process whatever the number of secrets (counted).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Argon2Params } from '../../../src/providers/local/format.js';
import {
  argon2Implementation,
  argon2id,
  canDeriveSync,
  derivationCount,
  forgetDerivedKeys,
  passphraseBytes,
} from '../../../src/providers/local/kdf.js';
import { canOpenLocalSync, local } from '../../../src/providers/local/local.js';
import { registerLocalSyncBuilder } from '../../../src/providers/local/sync-builder.js';
import { buildProvider, buildProviderSync } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { loadConfig } from '../../../src/resolver/load.js';
import { makeVault } from './vault-fixture.js';

const params = (
  salt: number,
  memory: number,
  iterations: number,
  parallelism: number,
): Argon2Params => ({
  name: 'argon2id',
  memory,
  iterations,
  parallelism,
  salt: Buffer.alloc(16, salt).toString('base64'),
});

/** Computed with `crypto.argon2Sync('argon2id', …)` on Node 24.21 (tagLength 32). */
const VECTORS: Array<[string, string, Argon2Params, string]> = [
  [
    'RFC 9106 second recommended option (64 MiB, t=3, p=4)',
    'pw',
    params(1, 65536, 3, 4),
    'fc907556f8bee653f4ef07c84459e6b4039beaa9844b45160a5fdad40ac2900e',
  ],
  [
    'cheap parameters',
    'correct horse battery staple',
    params(2, 256, 1, 1),
    '6cf11a84701a38f4bb668953fc7ebab9419c3df449b63557d451642989dddc1a',
  ],
  [
    'non-ASCII passphrase, two lanes',
    'pässwörd 🔑',
    params(3, 1024, 2, 2),
    'c9ce862f12a13f2cae8b027f724744148cbe9104476114e3556272ad21611477',
  ],
];

registerLocalSyncBuilder();

describe('Argon2id', () => {
  it.each(VECTORS)('hash-wasm matches native output: %s', async (_, password, p, hex) => {
    const key = await argon2id(passphraseBytes(password), p, 'hash-wasm');
    expect(key.toString('hex')).toBe(hex);
  });

  it.runIf(argon2Implementation() === 'native')(
    'native crypto.argon2 and hash-wasm agree on the vectors and on random inputs',
    async () => {
      for (const [, password, p, hex] of VECTORS) {
        expect((await argon2id(passphraseBytes(password), p, 'native')).toString('hex')).toBe(hex);
      }
      await fc.assert(
        fc.asyncProperty(
          fc.string({ minLength: 1, maxLength: 40 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          fc.integer({ min: 1, max: 3 }),
          async (password, salt, lanes) => {
            const p: Argon2Params = {
              name: 'argon2id',
              memory: 64 * lanes,
              iterations: 1,
              parallelism: lanes,
              salt: Buffer.from(salt).toString('base64'),
            };
            const a = await argon2id(passphraseBytes(password), p, 'native');
            const b = await argon2id(passphraseBytes(password), p, 'hash-wasm');
            expect(a.equals(b)).toBe(true);
          },
        ),
        { numRuns: 20 },
      );
    },
  );

  it('stretches the NFC form, so composed and decomposed input give one key', () => {
    expect(passphraseBytes('pa\u0308sswo\u0308rd').equals(passphraseBytes('pässwörd'))).toBe(true);
  });
});

describe('one derivation per process', () => {
  it('100 secrets through loadConfig and 100 concurrent gets cost one Argon2id run', async () => {
    const v = await makeVault({ passphrase: 'once-only' });
    const writer = v.open();
    const names = Array.from({ length: 100 }, (_, i) => `app/s${i}`);
    for (const name of names) await writer.set(name, `value-${name}`);
    forgetDerivedKeys(v.path);

    const before = derivationCount();
    writeFileSync(join(v.dir, '.env'), names.map((n, i) => `K${i}=$<secret:${n}>`).join('\n'));
    const config = await loadConfig({
      cwd: v.dir,
      providers: [local({ env: v.env, cwd: v.dir, audit: false })],
      processEnv: {},
      configFile: false,
      audit: false,
    });
    expect(config.K42).toBe('value-app/s42');
    // Concurrent reads from fresh providers on the same vault share that derivation.
    const resolver = createResolver({
      providers: [local({ env: v.env, cwd: v.dir, audit: false })],
      cache: false,
      audit: false,
    });
    const all = await Promise.all(names.map((n) => resolver.get(n)));
    expect(all[99]).toBe('value-app/s99');
    const others = Array.from({ length: 5 }, () => local({ env: v.env, audit: false }));
    await Promise.all(others.map((p) => p.get('app/s1')));
    expect(derivationCount() - before).toBe(1);
  });

  it('concurrent first reads share one in-flight derivation', async () => {
    const v = await makeVault({ passphrase: 'in-flight' });
    await v.open().set('a', 'value-a');
    forgetDerivedKeys(v.path);
    const before = derivationCount();
    const providers = Array.from({ length: 8 }, () => local({ env: v.env, audit: false }));
    const values = await Promise.all(providers.map((p) => p.get('a')));
    expect(values).toEqual(Array(8).fill('value-a'));
    expect(derivationCount() - before).toBe(1);
  });

  it('builds synchronously for the register preload only when no async derivation is needed', async () => {
    const raw = await makeVault();
    await raw.open().set('a', 'value-a');
    const rawEnv = { ...raw.env, ENVMUX_VAULT_KEY_FILE: raw.keyFile };
    expect(canOpenLocalSync({ env: rawEnv })).toBe(true);
    expect(buildProviderSync('local', rawEnv)?.getSync?.('a', {})).toBe('value-a');

    const pass = await makeVault({ passphrase: 'sync-or-not' });
    await pass.open().set('a', 'value-a');
    forgetDerivedKeys(pass.path);
    const built = buildProviderSync('local', pass.env);
    expect(built === undefined).toBe(!canDeriveSync());
    // The async builder derives once, then reads are synchronous.
    const provider = await buildProvider('local', pass.env);
    expect(provider.getSync?.('a', {})).toBe('value-a');
  });
});
