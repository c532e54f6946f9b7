// The `bw` provider against a stand-in `bw` on PATH (./fake-bw.cjs: the Bitwarden CLI's documented
// output, exit codes and states). Conformance, items by name or id, #field on password/notes/custom
// fields, locked / logged out / missing / several matches, sync on demand, the server check.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type EnvmuxError, toEnvmuxError } from '../../../src/errors.js';
import { bw } from '../../../src/providers/bw/index.js';
import { buildProvider, detectChain } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { providerConformance } from '../../../src/testing/index.js';
import { type FakeCli, installFakeCli } from '../fake-cli.js';

interface BwState {
  loggedIn: boolean;
  session: string;
  server: string;
  fault?: string;
  syncs?: number;
  items: Array<Record<string, unknown> & { id: string; name: string }>;
  remote?: BwState['items'];
}

const SESSION = 'bw-session-canary-55e1';
const script = fileURLToPath(new URL('./fake-bw.cjs', import.meta.url));
const fakes: FakeCli<BwState>[] = [];
afterAll(() => {
  for (const f of fakes) f.close();
});

const login = (name: string, password: string, extra: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  name,
  type: 1,
  notes: null,
  login: {
    username: 'octo',
    password,
    totp: null,
    uris: [{ match: null, uri: 'https://github.com' }],
  },
  fields: [
    { name: 'api key', value: 'api-key-value', type: 1 },
    { name: 'linked', value: null, type: 3, linkedId: 100 },
  ],
  ...extra,
});
const note = (name: string, notes: string) => ({
  id: randomUUID(),
  name,
  type: 2,
  notes,
  secureNote: { type: 0 },
});

function fakeBw(state: Partial<BwState> = {}) {
  const fake = installFakeCli<BwState>('bw', script, {
    loggedIn: true,
    session: SESSION,
    server: 'https://vault.bitwarden.com',
    items: [
      login('github', 'gh-pass-1'),
      login('github-work', 'gh-pass-2'),
      note('deploy-key', 'a\nb'),
    ],
    ...state,
  });
  fakes.push(fake);
  const env = { PATH: fake.path, FAKE_BW_STATE: fake.stateFile, BW_SESSION: SESSION };
  const reload = () => {
    fake.state = JSON.parse(readFileSync(fake.stateFile, 'utf8'));
  };
  return { fake, env, reload, make: (o: Parameters<typeof bw>[0] = {}) => bw({ env, ...o }) };
}

const errorOf = async (p: Promise<unknown>): Promise<EnvmuxError | undefined> => {
  try {
    await p;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error);
  }
};

providerConformance(
  { describe, it, expect },
  {
    name: 'bw (stand-in CLI)',
    testTimeout: 60_000,
    // The stand-in is a Node script, like the real bw (~0.3-1 s to start on a busy machine).
    timeout: 8_000,
    async create() {
      const { fake, make } = fakeBw({ items: [] });
      return {
        provider: make(),
        // A secure note holding the value, as `bw create item` of a note would store it.
        seed: async (name, value) => {
          fake.state.items.push(note(name, value));
          fake.save();
        },
        inject: (fault) => {
          fake.state.fault = fault;
          fake.save();
        },
        heal: () => {
          delete fake.state.fault;
          fake.save();
        },
      };
    },
  },
);

describe('bw provider', () => {
  it('reads an item by name or id; #password, #username, #uri, #notes and custom fields', async () => {
    const { fake, make } = fakeBw();
    const resolver = createResolver({ providers: [make()], cache: false, env: {} });
    // "github" also matches "github-work" in bw's search: the exact name wins.
    expect(await resolver.get('github', { field: 'password' })).toBe('gh-pass-1');
    expect(await resolver.get('github', { field: 'username' })).toBe('octo');
    expect(await resolver.get('github', { field: 'uri' })).toBe('https://github.com');
    expect(await resolver.get('github', { field: 'api key' })).toBe('api-key-value');
    const id = fake.state.items[1]!.id;
    expect(await resolver.get(id, { field: 'password' })).toBe('gh-pass-2');
    expect(await resolver.get('deploy-key')).toBe('a\nb');
    // Several keys and no #field: the key names, never a value.
    const error = await errorOf(resolver.get('github'));
    expect(error?.code).toBe('INVALID_REFERENCE');
    expect(error?.message).toContain('username, password, uri, api key');
    expect(JSON.stringify(error)).not.toContain('gh-pass');
    await resolver.close();
  });

  it('a login holding only a password answers it with and without #password', async () => {
    const { make } = fakeBw({
      items: [{ id: randomUUID(), name: 'only', type: 1, login: { password: 'just-pw' } }],
    });
    const resolver = createResolver({ providers: [make()], cache: false, env: {} });
    expect(await resolver.get('only')).toBe('just-pw');
    expect(await resolver.get('only', { field: 'password' })).toBe('just-pw');
    await resolver.close();
  });

  it('maps the states: missing → undefined, two items of one name, locked, logged out', async () => {
    const { fake, make } = fakeBw();
    expect(await make().get('nope', {})).toBeUndefined();
    fake.state.items.push(login('github', 'gh-pass-3'));
    fake.save();
    const dup = await errorOf(make().get('github', {}));
    expect(dup?.code).toBe('INVALID_REFERENCE');
    expect(dup?.message).toContain('2 Bitwarden items are named "github"');
    expect((await errorOf(make({ session: 'wrong' }).get('github-work', {})))?.code).toBe('LOCKED');
    expect(
      (await errorOf(bw({ env: { PATH: fake.path, FAKE_BW_STATE: fake.stateFile } }).get('x', {})))
        ?.code,
    ).toBe('LOCKED');
    fake.state.loggedIn = false;
    fake.save();
    expect((await errorOf(make().get('github-work', {})))?.code).toBe('AUTH_FAILED');
    expect((await errorOf(make().get('--session', {})))?.code).toBe('INVALID_REFERENCE');
  });

  it('keeps the session off argv, and never prompts (--nointeraction)', async () => {
    const { fake, make } = fakeBw();
    await make().get('github-work', {});
    const runs = fake.runs();
    expect(JSON.stringify(runs)).not.toContain(SESSION);
    expect(runs.every((r) => r.includes('--nointeraction'))).toBe(true);
  });

  it('runs bw sync once before the first read when asked (sync option, ENVMUX_BW_SYNC=1)', async () => {
    const { fake, env, reload } = fakeBw();
    fake.state.remote = [...fake.state.items, note('added-elsewhere', 'fresh')];
    fake.save();
    expect(await bw({ env }).get('added-elsewhere', {})).toBeUndefined();
    const synced = bw({ env: { ...env, ENVMUX_BW_SYNC: '1' } });
    expect(await synced.get('added-elsewhere', {})).toBe('fresh');
    expect(await synced.get('github-work', { version: 'latest' })).toContain('gh-pass-2');
    reload();
    expect(fake.state.syncs).toBe(1);
  });

  it('reads ENVMUX_BW_SYNC as a boolean, and refuses a value it does not understand', () => {
    const { env } = fakeBw();
    expect(() => bw({ env: { ...env, ENVMUX_BW_SYNC: 'yes' } })).not.toThrow();
    expect(() => bw({ env: { ...env, ENVMUX_BW_SYNC: 'sometimes' } })).toThrow(
      /ENVMUX_BW_SYNC="sometimes" is not a boolean/,
    );
  });

  it('checks the configured server (BW_SERVER / server) instead of changing it', async () => {
    const { fake, env } = fakeBw({ server: 'https://vw.example.org' });
    expect(await bw({ env, server: 'https://vw.example.org/' }).get('deploy-key', {})).toBe('a\nb');
    const error = await errorOf(
      bw({ env: { ...env, BW_SERVER: 'https://other.example' } }).get('deploy-key', {}),
    );
    expect(error?.code).toBe('CONFIG');
    expect(error?.hint).toContain('bw config server https://other.example');
    expect(fake.runs().some((r) => r[0] === 'config' && r.length > 3)).toBe(false);
  });

  it('writes: a new name is a secure note, a login gets its password, the value only on stdin', async () => {
    const { fake, make, reload } = fakeBw();
    const p = make();
    const value = 'bw-write-canary-3e7a\nsecond line';
    await p.set!('new-note', value, {});
    expect(await p.get('new-note', {})).toBe(value);
    await p.set!('github', 'gh-rotated-canary', {});
    const resolver = createResolver({ providers: [p], cache: false, env: {} });
    expect(await resolver.get('github', { field: 'password' })).toBe('gh-rotated-canary');
    expect(await resolver.get('github', { field: 'username' })).toBe('octo');
    await resolver.close();
    const runs = JSON.stringify(fake.runs());
    expect(runs).not.toContain('canary');
    expect(fake.runs().filter((r) => r[0] === 'create' || r[0] === 'edit')).toEqual([
      ['create', 'item', '--nointeraction'],
      ['edit', 'item', expect.any(String), '--nointeraction'],
    ]);
    // Two items of one name: which one to write is not guessed.
    reload();
    const noteId = fake.state.items.find((i) => i.name === 'new-note')!.id;
    fake.state.items.push(login('github', 'other'));
    fake.save();
    expect((await errorOf(p.set!('github', 'x', {})))?.code).toBe('INVALID_REFERENCE');
    // A card is not written to.
    fake.state.items.push({ id: randomUUID(), name: 'visa', type: 3, card: { number: '4111' } });
    fake.save();
    expect((await errorOf(p.set!('visa', 'x', {})))?.code).toBe('INVALID_REFERENCE');
    // delete: to the trash (an id no longer reads it), --permanent with force.
    await p.delete!('new-note', {});
    expect(await p.get('new-note', {})).toBeUndefined();
    expect(await p.get(noteId, {})).toBeUndefined();
    reload();
    expect(fake.state.items.find((i) => i.id === noteId)?.deletedDate).toBeTruthy();
    await p.set!('gone', 'x', {});
    await p.delete!('gone', { force: true });
    reload();
    expect(fake.state.items.some((i) => i.name === 'gone')).toBe(false);
    expect(fake.runs().some((r) => r[0] === 'delete' && r.includes('--permanent'))).toBe(true);
  }, 120_000);

  it('lists item names by prefix without values, trash left out', async () => {
    const { make } = fakeBw();
    const p = make();
    expect((await p.list!('github', {})).map((s) => s.name)).toEqual(['github', 'github-work']);
    expect(JSON.stringify(await p.list!('', {}))).not.toContain('gh-pass');
    await p.delete!('github-work', {});
    expect((await p.list!('github', {})).map((s) => s.name)).toEqual(['github']);
  }, 60_000);

  it('a missing bw binary is CONFIG naming what to install', async () => {
    const error = await errorOf(bw({ env: { PATH: '/nonexistent' } }).get('x', {}));
    expect(error?.code).toBe('CONFIG');
    expect(error?.hint).toContain('@bitwarden/cli');
  });

  it('is built from env vars by type, and joins the chain only when listed', async () => {
    const { env } = fakeBw();
    expect(await (await buildProvider('bw', env)).get('deploy-key', {})).toBe('a\nb');
    expect(detectChain({ ENVMUX_PROVIDERS: 'bw,env' }).map((d) => d.type)).toEqual(['bw', 'env']);
    expect(detectChain({ BW_SESSION: 'x' }).map((d) => d.type)).not.toContain('bw');
  });
});
