// The `pass` provider against the real `pass` and `gpg`: a throwaway key in the test's own GNUPGHOME
// and a temp PASSWORD_STORE_DIR. Conformance, the entry convention (first line + `key: value` lines),
// names that try to leave the store, glob listing, argv never holding a value, and the registry.

import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { type EnvmuxError, toEnvmuxError } from '../../../src/errors.js';
import { pass } from '../../../src/providers/pass/index.js';
import { buildProvider, detectChain } from '../../../src/providers/registry.js';
import { createResolver } from '../../../src/resolver/client.js';
import { providerConformance } from '../../../src/testing/index.js';
import { type GpgStore, makeGpgStore, passMissing } from './gpg-store.js';

const missing = passMissing();
if (missing && process.env.ENVMUX_REQUIRE_SERVERS === '1') {
  throw new Error(`pass tests need pass and gpg (ENVMUX_REQUIRE_SERVERS=1): ${missing}`);
}
if (missing) console.warn(`SKIPPED pass provider tests: ${missing}`);

let store: GpgStore;
beforeAll(() => {
  if (!missing) store = makeGpgStore();
}, 60_000);
afterAll(() => store?.close());

const make = (extra: Parameters<typeof pass>[0] = {}) => pass({ env: store.env, ...extra });
const resolverFor = (provider: ReturnType<typeof pass>, log = new AuditLog(100)) =>
  createResolver({ providers: [provider], cache: false, env: {}, audit: { log } });
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

describe.skipIf(!!missing)('pass (real pass + gpg)', () => {
  providerConformance(
    { describe, it, expect },
    {
      name: 'pass (real gpg)',
      testTimeout: 60_000,
      async create() {
        return {
          provider: make(),
          seed: async (name, value) => store.insert(name, `${value}\n`),
        };
      },
    },
  );

  it('reads the first line by default, key: value lines by #key, the whole entry by #*', async () => {
    store.insert('web/github', 'hunter2-line-one\nlogin: octo\nurl: https://github.com\n');
    const resolver = resolverFor(make());
    // As `pass show -c` and every pass tool: the first line is the password.
    expect(await resolver.get('web/github')).toBe('hunter2-line-one');
    expect(await resolver.get('web/github', { field: 'password' })).toBe('hunter2-line-one');
    expect(await resolver.get('web/github', { field: 'login' })).toBe('octo');
    expect(await resolver.get('web/github', { field: 'url' })).toBe('https://github.com');
    expect(await resolver.get('web/github', { field: '*' })).toBe(
      'hunter2-line-one\nlogin: octo\nurl: https://github.com',
    );
    let caught: unknown;
    try {
      await resolver.get('web/github', { field: 'nope' });
    } catch (error) {
      caught = error;
    }
    expect(toEnvmuxError(caught).code).toBe('NOT_FOUND');
    expect(JSON.stringify(toEnvmuxError(caught))).not.toContain('hunter2');
    await resolver.close();
  }, 30_000);

  it('every entry: first line by default, #* whole; free-form lines are not fields; JSON is a document', async () => {
    store.insert('plain/one', 'only-line\n');
    store.insert('plain/notes', 'first\nsecond line without a colon\nuser: me\n');
    store.insert('plain/pem', '-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----\n');
    store.insert('plain/json', '{"user":"u","pw":"p"}\n');
    const p = make();
    // The provider answers the entry as `pass show` prints it (one trailing newline removed).
    expect(await p.get('plain/one', {})).toBe('only-line');
    expect(await p.get('plain/notes', {})).toBe('first\nsecond line without a colon\nuser: me');
    const resolver = resolverFor(p);
    expect(await resolver.get('plain/one')).toBe('only-line');
    expect(await resolver.get('plain/one', { field: '*' })).toBe('only-line');
    expect(await resolver.get('plain/notes')).toBe('first');
    expect(await resolver.get('plain/notes', { field: 'user' })).toBe('me');
    expect(await resolver.get('plain/pem')).toBe('-----BEGIN KEY-----');
    expect(await resolver.get('plain/pem', { field: '*' })).toBe(
      '-----BEGIN KEY-----\nAAAA\nBBBB\n-----END KEY-----',
    );
    // An entry with no key: value line has no fields: a clear error, not the first line.
    expect(await codeOf(resolver.get('plain/one', { field: 'password' }))).toBe(
      'INVALID_REFERENCE',
    );
    expect(await codeOf(resolver.get('plain/pem', { field: 'user' }))).toBe('INVALID_REFERENCE');
    expect(await resolver.get('plain/json', { field: 'pw' })).toBe('p');
    expect(await resolver.get('plain/json')).toBe('{"user":"u","pw":"p"}');
    await resolver.close();
  }, 30_000);

  it('reads through the prefix option and ENVMUX_PASS_PREFIX', async () => {
    store.insert('myapp/db', 'prefixed-value\n');
    expect(await make({ prefix: 'myapp/' }).get('db', {})).toBe('prefixed-value');
    const fromEnv = pass({ env: { ...store.env, ENVMUX_PASS_PREFIX: 'myapp/' } });
    expect(await fromEnv.get('db', {})).toBe('prefixed-value');
    expect((await fromEnv.list!('', {})).map((s) => s.name)).toEqual(['db']);
  }, 30_000);

  it('refuses names that leave the store: ../, absolute, option-like, and symlinks out', async () => {
    const p = make();
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', '-x', 'a//b', 'a\\b', 'x\n']) {
      expect(await codeOf(p.get(bad, {}))).toBe('INVALID_REFERENCE');
      expect(await codeOf(p.set!(bad, 'v', {}))).toBe('INVALID_REFERENCE');
    }
    const outside = mkdtempSync(join(tmpdir(), 'envmux-pass-outside-'));
    store.insert('tmp-target', 'outside-value\n');
    writeFileSync(join(outside, 'stolen.gpg'), readFileSync(join(store.dir, 'tmp-target.gpg')));
    symlinkSync(outside, join(store.dir, 'linked'));
    symlinkSync(join(outside, 'stolen.gpg'), join(store.dir, 'file-link.gpg'));
    expect(await codeOf(p.get('linked/stolen', {}))).toBe('ACCESS_DENIED');
    expect(await codeOf(p.get('file-link', {}))).toBe('ACCESS_DENIED');
    expect(await codeOf(p.set!('linked/new', 'v', {}))).toBe('ACCESS_DENIED');
    // The walk does not follow them either.
    const names = (await p.list!('', {})).map((s) => s.name);
    expect(names).not.toContain('linked/stolen');
    expect(names).not.toContain('file-link');
  }, 30_000);

  it('lists by prefix and by glob, without values', async () => {
    store.insert('glob/a/one', 'g1\n');
    store.insert('glob/a/two', 'g2\n');
    store.insert('glob/b/deep/three', 'g3\n');
    const p = make();
    expect((await p.list!('glob/a/', {})).map((s) => s.name)).toEqual(['glob/a/one', 'glob/a/two']);
    expect((await p.list!('glob/*/one', {})).map((s) => s.name)).toEqual(['glob/a/one']);
    expect((await p.list!('glob/**', {})).map((s) => s.name)).toEqual([
      'glob/a/one',
      'glob/a/two',
      'glob/b/deep/three',
    ]);
  }, 30_000);

  it('never puts a value on the command line (argv recorded by a wrapper)', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'envmux-pass-wrap-'));
    const log = join(bin, 'argv.log');
    const wrapper = join(bin, 'pass');
    writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> '${log}'\nexec pass "$@"\n`);
    chmodSync(wrapper, 0o755);
    const p = make({ command: wrapper });
    const secret = 'argv-canary-\n-multi-line 9d3f';
    await p.set!('argv/check', secret, {});
    expect(await p.get('argv/check', {})).toBe(secret);
    await p.delete!('argv/check', {});
    const argv = readFileSync(log, 'utf8');
    expect(argv).toContain('insert --multiline --force -- argv/check');
    expect(argv).not.toContain('argv-canary');
  }, 30_000);

  it('a missing pass binary is CONFIG naming what to install; a missing store is CONFIG', async () => {
    const error = await errorOf(make({ command: 'envmux-no-such-pass' }).set!('x', 'v', {}));
    expect(error?.code).toBe('CONFIG');
    expect(error?.hint).toContain('apt-get install pass gnupg');
    expect(await codeOf(make({ dir: join(tmpdir(), 'envmux-no-store-here') }).get('x', {}))).toBe(
      'CONFIG',
    );
  });

  it('an entry gpg cannot decrypt is ACCESS_DENIED, not a value or a stack', async () => {
    const other = mkdtempSync(join(tmpdir(), 'envmux-pass-nokey-'));
    mkdirSync(join(other, 'g'), { mode: 0o700 });
    const p = pass({ env: { ...store.env, GNUPGHOME: join(other, 'g') } });
    store.insert('nokey/entry', 'undecryptable-value\n');
    const error = await errorOf(p.get('nokey/entry', {}));
    expect(error?.code).toBe('ACCESS_DENIED');
  }, 30_000);

  it('is built from env vars by type, and joins the chain only when listed', async () => {
    const built = await buildProvider('pass', { ...store.env });
    store.insert('registry/x', 'built\n');
    expect(await built.get('registry/x', {})).toBe('built');
    expect(detectChain({ ENVMUX_PROVIDERS: 'pass,env' }).map((d) => d.type)).toEqual([
      'pass',
      'env',
    ]);
    expect(detectChain({ PASSWORD_STORE_DIR: store.dir }).map((d) => d.type)).not.toContain('pass');
  }, 30_000);
});
