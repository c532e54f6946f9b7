// The `op` provider against a stand-in `op` on PATH (./fake-op.cjs: the 1Password CLI's documented
// output, exit codes and states). Conformance, states (locked, signed out, missing, several matches),
// the service-account token kept off argv, and `op inject` batching measured against one `op read` each.

import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { type EnvmuxError, toEnvmuxError } from '../../../src/errors.js';
import { cliStats } from '../../../src/providers/cli-process.js';
import { op } from '../../../src/providers/op/index.js';
import { buildProvider, detectChain } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { providerConformance } from '../../../src/testing/index.js';
import { type FakeCli, installFakeCli } from '../fake-cli.js';

interface OpState {
  signedIn: boolean;
  locked?: boolean;
  token?: string;
  fault?: string;
  vaults: Record<string, Record<string, Record<string, string | boolean>>>;
}

const script = fileURLToPath(new URL('./fake-op.cjs', import.meta.url));
const fakes: FakeCli<OpState>[] = [];
afterAll(() => {
  for (const f of fakes) f.close();
});

function fakeOp(state: Partial<OpState> = {}) {
  const fake = installFakeCli<OpState>('op', script, {
    signedIn: true,
    vaults: { Private: { github: { password: 'gh-pass-1', username: 'octo' } } },
    ...state,
  });
  fakes.push(fake);
  const env = { PATH: fake.path, FAKE_OP_STATE: fake.stateFile };
  return { fake, env, make: (o: Parameters<typeof op>[0] = {}) => op({ env, ...o }) };
}

const errorOf = async (p: Promise<unknown>): Promise<EnvmuxError | undefined> => {
  try {
    await p;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error);
  }
};
const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return undefined;
  } catch (error) {
    return toEnvmuxError(error).code;
  }
};

providerConformance(
  { describe, it, expect },
  {
    name: 'op (stand-in CLI)',
    testTimeout: 60_000,
    // The stand-in is a Node script (~0.3-1 s to start on a busy machine; the real op is a Go binary).
    timeout: 8_000,
    secretName: (slug) => `Conformance/items/${slug}`,
    async create() {
      const { fake, make } = fakeOp({ vaults: { Conformance: { items: {} } } });
      return {
        provider: make({ batchSize: 3 }),
        seed: async (name, value) => {
          fake.state.vaults.Conformance!.items![name.split('/')[2]!] = value;
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

describe('op provider', () => {
  it('reads $<op:vault/item/field> and op://vault/item/field names, value byte for byte', async () => {
    const { make } = fakeOp();
    const resolver = createResolver({ providers: [make()], cache: false, env: {} });
    expect(await resolver.get('Private/github/password', { provider: 'op' })).toBe('gh-pass-1');
    expect(await resolver.get('op://Private/github/username', { provider: 'op' })).toBe('octo');
    await resolver.close();
  });

  it('maps the states: missing → undefined, several matches, locked, signed out', async () => {
    const { fake, make } = fakeOp();
    const p = make();
    expect(await p.get('Private/nope/password', {})).toBeUndefined();
    expect(await p.get('Nope/github/password', {})).toBeUndefined();
    expect(await p.get('Private/github/nope', {})).toBeUndefined();
    fake.state.vaults.Private!.dup = { __duplicates: true };
    fake.save();
    const dup = await errorOf(p.get('Private/dup/password', {}));
    expect(dup?.code).toBe('INVALID_REFERENCE');
    expect(dup?.message).toContain('several items');
    fake.state.locked = true;
    fake.save();
    expect(await codeOf(p.get('Private/github/password', {}))).toBe('LOCKED');
    fake.state.locked = false;
    fake.state.signedIn = false;
    fake.save();
    expect(await codeOf(p.get('Private/github/password', {}))).toBe('AUTH_FAILED');
    expect(await codeOf(p.get('no-slashes', {}))).toBe('INVALID_REFERENCE');
    expect(await codeOf(p.get('a/{{ op://x/y/z }}/c', {}))).toBe('INVALID_REFERENCE');
  });

  it('hands a service-account token through the environment, never argv', async () => {
    const token = 'ops_token-canary-1b2c';
    const { fake, make } = fakeOp({ token });
    expect(await codeOf(make().get('Private/github/password', {}))).toBe('AUTH_FAILED');
    expect(await make({ token }).get('Private/github/password', {})).toBe('gh-pass-1');
    const fromEnv = op({
      env: { PATH: fake.path, FAKE_OP_STATE: fake.stateFile, OP_SERVICE_ACCOUNT_TOKEN: token },
    });
    expect(
      await fromEnv.getMany!(['Private/github/password', 'Private/github/username'], {}),
    ).toEqual(
      new Map([
        ['Private/github/password', 'gh-pass-1'],
        ['Private/github/username', 'octo'],
      ]),
    );
    expect(JSON.stringify(fake.runs())).not.toContain(token);
    expect(JSON.stringify(fake.runs())).not.toContain('gh-pass-1');
  });

  it('reads 20 references with one op inject process instead of 20 op read (measured)', async () => {
    const items: Record<string, string> = {};
    for (let i = 0; i < 20; i++) items[`f${i}`] = `value-${i}\nline two {{ not a ref }}`;
    const { fake, make } = fakeOp({ vaults: { Bulk: { app: items } } });
    const names = Object.keys(items).map((f) => `Bulk/app/${f}`);
    const measure = async (inject: boolean) => {
      const before = fake.runs().length;
      const spawned = cliStats.spawned;
      const started = performance.now();
      const resolver = createResolver({
        providers: [make({ inject })],
        cache: false,
        env: {},
        timeout: 60_000,
        audit: { log: new AuditLog(100) },
      });
      const got = await resolver.getMany(names, { provider: 'op' });
      const ms = performance.now() - started;
      await resolver.close();
      for (const [i, name] of names.entries()) expect(got[name]).toBe(items[`f${i}`]);
      return { processes: fake.runs().length - before, spawned: cliStats.spawned - spawned, ms };
    };
    const batched = await measure(true);
    const single = await measure(false);
    console.log(
      `op, 20 references: op inject ${batched.processes} process(es) ${batched.ms.toFixed(0)} ms; op read ${single.processes} processes ${single.ms.toFixed(0)} ms`,
    );
    expect(batched.processes).toBe(1);
    expect(batched.spawned).toBe(1);
    expect(single.processes).toBe(20);
  }, 120_000);

  it('a missing name in a batch falls back to one read each: found names answered, missing absent', async () => {
    const { fake, make } = fakeOp();
    const got = await make().getMany!(
      ['Private/github/password', 'Private/missing/password', 'Private/github/username'],
      {},
    );
    expect(got).toEqual(
      new Map([
        ['Private/github/password', 'gh-pass-1'],
        ['Private/github/username', 'octo'],
      ]),
    );
    expect(
      fake
        .runs()
        .map((r) => r[0])
        .sort(),
    ).toEqual(['inject', 'read', 'read', 'read']);
  });

  it('a locked app fails the batch with LOCKED, without a read per name', async () => {
    const { fake, make } = fakeOp({ locked: true });
    expect(
      await codeOf(make().getMany!(['Private/github/password', 'Private/github/username'], {})),
    ).toBe('LOCKED');
    expect(fake.runs()).toHaveLength(1);
  });

  it('writes one field through item JSON on stdin, never a value in argv; delete keeps the other fields', async () => {
    const { fake, make } = fakeOp();
    const p = make({ inject: false });
    const value = 'op-write-canary-8b2d\nline two';
    await p.set!('Private/github/password', value, {});
    expect(await p.get('Private/github/password', {})).toBe(value);
    expect(await p.get('Private/github/username', {})).toBe('octo');
    await p.set!('op://Private/new-item/api key', 'second-canary', {});
    expect(await p.get('Private/new-item/api key', {})).toBe('second-canary');
    expect(JSON.stringify(fake.runs())).not.toContain('canary');
    const writes = fake.runs().filter((r) => r[1] === 'create' || r[1] === 'edit');
    expect(writes).toEqual([
      ['item', 'edit', expect.any(String), '--vault', 'Private', '--format', 'json'],
      ['item', 'create', '--vault', 'Private', '--format', 'json', '-'],
    ]);
    // Deleting one field keeps the item and its other fields; the last field takes the item.
    await p.delete!('Private/github/password', {});
    expect(await p.get('Private/github/password', {})).toBeUndefined();
    expect(await p.get('Private/github/username', {})).toBe('octo');
    await p.delete!('Private/new-item/api key', {});
    expect(fake.runs().at(-1)).toEqual([
      'item',
      'delete',
      expect.any(String),
      '--vault',
      'Private',
      '--archive',
    ]);
    expect((await p.list!('Private/', {})).map((s) => s.name)).toEqual(['Private/github/username']);
    expect(JSON.stringify(await p.list!('', {}))).not.toContain('octo');
  }, 120_000);

  it('refuses writes it cannot do exactly: an attribute, a missing vault, several items of one title', async () => {
    const { fake, make } = fakeOp();
    const p = make();
    expect(await codeOf(p.set!('Private/github/password?attribute=otp', 'x', {}))).toBe(
      'INVALID_REFERENCE',
    );
    expect(await codeOf(p.set!('Nope/github/password', 'x', {}))).toBe('NOT_FOUND');
    fake.state.vaults.Private!.dup = { __duplicates: true };
    fake.save();
    expect(await codeOf(p.set!('Private/dup/password', 'x', {}))).toBe('INVALID_REFERENCE');
    fake.state.locked = true;
    fake.save();
    expect(await codeOf(p.set!('Private/github/password', 'x', {}))).toBe('LOCKED');
  }, 60_000);

  it('a missing op binary is CONFIG naming what to install', async () => {
    const error = await errorOf(op({ env: { PATH: '/nonexistent' } }).get('a/b/c', {}));
    expect(error?.code).toBe('CONFIG');
    expect(error?.hint).toContain('1Password CLI');
  });

  it('is built from env vars by type, and joins the chain only when listed', async () => {
    const { env } = fakeOp();
    const built = await buildProvider('op', env);
    expect(await built.get('Private/github/password', {})).toBe('gh-pass-1');
    expect(detectChain({ ENVMUX_PROVIDERS: 'op' }).map((d) => d.type)).toEqual(['op']);
    expect(detectChain({ OP_SERVICE_ACCOUNT_TOKEN: 'x' }).map((d) => d.type)).not.toContain('op');
  });
});
