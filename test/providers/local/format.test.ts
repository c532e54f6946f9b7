// The vault file format: canonical layout, structural validation, and the property the layout
// exists for — two branches adding different secrets merge cleanly with git's line merge.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import {
  type DamagedRecord,
  parseVault,
  serializeVault,
} from '../../../src/providers/local/format.js';
import { argon2BoundsProblem, DEFAULT_ARGON2 } from '../../../src/providers/local/kdf.js';
import { local } from '../../../src/providers/local/local.js';
import { detectLocalVault } from '../../../src/providers/local/paths.js';
import { detectChain } from '../../../src/providers/registry.js';
import { makeVault } from './vault-fixture.js';

const hasGit = spawnSync('git', ['--version']).status === 0;

describe('format', () => {
  it('serializes canonically: parse ∘ serialize is the identity on a written vault', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('b', 'x', { metadata: { z: '1', a: '2' }, actor: 'ci' });
    await p.set('a', 'y', { description: 'd', expiresAt: new Date('2030-01-01T00:00:00Z') });
    const text = readFileSync(v.path, 'utf8');
    expect(serializeVault(parseVault(text, v.path))).toBe(text);
    expect(text).toContain('"metadata":{"a":"2","envmux.actor":"ci","z":"1"}');
  });

  it.each([
    ['empty file', ''],
    ['not an array', '{}'],
    ['empty array', '[]'],
    ['no header', '[{"name":"a"}]'],
    ['record not an object', null],
  ])('rejects a damaged file: %s', async (_, replacement) => {
    const v = await makeVault();
    const text =
      replacement ?? readFileSync(v.path, 'utf8').replace('\n]', '\n,"just a string"\n]');
    let code: string | undefined;
    try {
      parseVault(text, v.path);
    } catch (error) {
      code = toEnvmuxError(error).code;
    }
    expect(code).toBe('DECRYPTION_FAILED');
  });

  it.each([
    ['1 GiB × 1000 iterations', { memory: 1024 * 1024, iterations: 1000 }, /iterations 1000/],
    ['4 GiB', { memory: 4 * 1024 * 1024, iterations: 1 }, /memory 4194304 KiB/],
    ['512 MiB × 3', { memory: 512 * 1024, iterations: 3 }, /exceeds 1024 MiB/],
    ['64 lanes', { parallelism: 64 }, /parallelism 64/],
  ])(
    'refuses a header with absurd Argon2id costs (%s) as CONFIG naming the vault, before any derivation',
    async (_, edit, detail) => {
      const v = await makeVault({ passphrase: 'pw' });
      const text = readFileSync(v.path, 'utf8');
      const header = JSON.parse(text.split('\n')[0]!.slice(1));
      Object.assign(header.kdf, edit);
      const edited = `[${JSON.stringify(header)}${text.slice(text.indexOf('\n'))}`;
      let error: ReturnType<typeof toEnvmuxError> | undefined;
      try {
        parseVault(edited, v.path);
      } catch (e) {
        error = toEnvmuxError(e);
      }
      expect(error?.code).toBe('CONFIG');
      expect(error?.message).toContain(`vault ${v.path} asks for`);
      expect(error?.message).toMatch(detail);
    },
  );

  it('collects damaged records with their line when asked (for vault list), and still fails a read', async () => {
    const v = await makeVault();
    const p = v.open();
    await p.set('a', '1');
    await p.set('b', '2');
    const lines = readFileSync(v.path, 'utf8').split('\n');
    lines[2] = lines[2]!.replace(/"nonce":"[^"]+"/, '"nonce":"x"');
    const text = lines.join('\n');
    const damagedRecords: DamagedRecord[] = [];
    const doc = parseVault(text, v.path, undefined, damagedRecords);
    expect(doc.records.map((r) => r.name)).toEqual(['a']);
    expect(damagedRecords).toEqual([
      { record: 2, line: 3, problem: 'nonce is not 12 bytes of base64' },
    ]);
    expect(() => parseVault(text, v.path)).toThrow(/record 2: nonce/);
  });

  it('accepts the default and the cheapest Argon2id costs', () => {
    expect(argon2BoundsProblem(DEFAULT_ARGON2)).toBeUndefined();
    expect(argon2BoundsProblem({ memory: 8, iterations: 1, parallelism: 1 })).toBeUndefined();
    expect(
      argon2BoundsProblem({ memory: 64 * 1024, iterations: 16, parallelism: 4 }),
    ).toBeUndefined();
  });

  /** Three-way merge of the vault file as git does it (`--union` = the driver init configures). */
  async function mergeBranches(
    ours: (p: ReturnType<Awaited<ReturnType<typeof makeVault>>['open']>) => Promise<void>,
    theirs: (p: ReturnType<Awaited<ReturnType<typeof makeVault>>['open']>) => Promise<void>,
    union: boolean,
  ) {
    const v = await makeVault();
    const p = v.open();
    for (const name of ['a', 'm', 'z']) await p.set(name, '1');
    const base = readFileSync(v.path, 'utf8');
    await ours(v.open());
    const oursText = readFileSync(v.path, 'utf8');
    writeFileSync(v.path, base);
    await theirs(v.open());
    const theirsText = readFileSync(v.path, 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'envmux-merge-'));
    writeFileSync(join(dir, 'ours'), oursText);
    writeFileSync(join(dir, 'base'), base);
    writeFileSync(join(dir, 'theirs'), theirsText);
    const merge = spawnSync(
      'git',
      ['merge-file', '-p', ...(union ? ['--union'] : []), 'ours', 'base', 'theirs'],
      { cwd: dir, encoding: 'utf8' },
    );
    writeFileSync(v.path, merge.stdout);
    return { status: merge.status, vault: v.open() };
  }

  it.runIf(hasGit)('branches adding secrets at different places merge cleanly', async () => {
    const { status, vault } = await mergeBranches(
      async (p) => {
        await p.set('b', 'ours');
      },
      async (p) => {
        await p.set('y', 'theirs');
      },
      false,
    );
    expect(status).toBe(0);
    expect(vault.getSync!('b')).toBe('ours');
    expect(vault.getSync!('y')).toBe('theirs');
  });

  it.runIf(hasGit)('adjacent additions merge with the union driver init sets up', async () => {
    const { status, vault } = await mergeBranches(
      async (p) => {
        await p.set('m', 'ours-2');
        await p.set('b', 'ours');
      },
      async (p) => {
        await p.set('n', 'theirs');
        await p.set('zz', 'theirs');
      },
      true,
    );
    expect(status).toBe(0);
    expect(vault.getSync!('m')).toBe('ours-2');
    expect(vault.getSync!('n')).toBe('theirs');
    expect(vault.getSync!('zz')).toBe('theirs');
    expect(vault.getSync!('b')).toBe('ours');
  });

  it.runIf(hasGit)(
    'both branches setting one secret: union keeps both, and the vault names it',
    async () => {
      const { vault } = await mergeBranches(
        async (p) => {
          await p.set('m', 'ours-2');
        },
        async (p) => {
          await p.set('m', 'theirs-2');
        },
        true,
      );
      let error: unknown;
      try {
        vault.getSync!('a');
      } catch (e) {
        error = e;
      }
      const e = toEnvmuxError(error);
      expect(e.code).toBe('CONFIG');
      expect(e.message).toMatch(/m@2 twice/);
      expect(e.hint).toMatch(/envmux vault set m/);
    },
  );

  it('init marks the vault for union merges', async () => {
    const v = await makeVault();
    expect(readFileSync(join(v.dir, '.envmux/.gitattributes'), 'utf8')).toBe(
      'vault.json merge=union\n',
    );
  });
});

describe('auto-detection', () => {
  it('puts local first when a vault file and a key are present, and not otherwise', async () => {
    const v = await makeVault();
    const base = { ENVMUX_VAULT_PATH: v.path, ENVMUX_VAULT_SESSION_DIR: v.sessionDir };
    expect(detectChain({ ...base, AWS_REGION: 'eu-west-1' })[0]).toEqual({
      type: 'local',
      reason: 'ENVMUX_VAULT_PATH exists with its key file',
    });
    expect(detectChain({ ...base, ENVMUX_VAULT_KEY: 'x' })[0]!.reason).toMatch(/ENVMUX_VAULT_KEY/);
    // No vault file: no local.
    expect(
      detectChain({ ENVMUX_VAULT_PATH: `${v.dir}/none.json` }).map((d) => d.type),
    ).not.toContain('local');
    // An explicit list wins over detection.
    expect(detectChain({ ...base, ENVMUX_PROVIDERS: 'env' })).toEqual([
      { type: 'env', reason: 'listed in ENVMUX_PROVIDERS' },
    ]);
  });

  it('a vault without a key here (a fresh clone) ends the chain, so a miss says what the vault lacks', async () => {
    const v = await makeVault();
    rmSync(v.keyFile);
    const base = { ENVMUX_VAULT_PATH: v.path, ENVMUX_VAULT_SESSION_DIR: v.sessionDir };
    const chain = detectChain({ ...base, AWS_REGION: 'eu-west-1' });
    expect(chain.map((d) => d.type)).toEqual(['aws', 'env', 'local']);
    expect(chain.at(-1)!.reason).toBe(
      'ENVMUX_VAULT_PATH exists but no key opens it here: asked last, to say so',
    );
    let error: ReturnType<typeof toEnvmuxError> | undefined;
    try {
      local({ env: base }).getSync!('db/password');
    } catch (e) {
      error = toEnvmuxError(e);
    }
    expect(error?.code).toBe('CONFIG');
    expect(error?.message).toMatch(
      /cannot be opened: no key \(.*vault\.key does not exist and ENVMUX_VAULT_KEY is not set\)/,
    );
    expect(error?.hint).toMatch(
      /or set ENVMUX_VAULT_KEY; `envmux vault list` checks that it opens/,
    );
    // No vault file: nothing added.
    expect(detectChain({ ENVMUX_VAULT_PATH: `${v.dir}/none.json` }).map((d) => d.type)).toEqual([
      ...(existsSync('/run/secrets') ? ['file'] : []),
      'env',
    ]);
  });

  it('a passphrase vault joins with ENVMUX_VAULT_PASSPHRASE or a live session only', async () => {
    const v = await makeVault({ passphrase: 'detect-me' });
    const base = { ENVMUX_VAULT_PATH: v.path, ENVMUX_VAULT_SESSION_DIR: v.sessionDir };
    expect(detectLocalVault(base)).toBeUndefined();
    expect(detectLocalVault({ ...base, ENVMUX_VAULT_PASSPHRASE: 'detect-me' })).toMatch(
      /ENVMUX_VAULT_PASSPHRASE/,
    );
    const p = v.open();
    await p.unlock();
    p.startSession(60_000);
    expect(detectChain(base)[0]).toMatchObject({
      type: 'local',
      reason: expect.stringMatching(/unlocked/),
    });
  });
});
