// Leak scan of the developer stores (pass, op, bw, keychain) through the packed package: for each
// store's success and error paths (locked, signed out, not found, several matches, a CLI that prints
// the value on its stderr), the preload's stdout and stderr (with ENVMUX_DEBUG), loadConfig's error
// (message, stack, cause, JSON, inspect) and audit file, check, check --json and run are searched
// for every value in raw, base64, base64url and URL-encoded form. pass runs the real pass and gpg,
// op and bw the stand-in CLIs of test/providers, keychain gnome-keyring on a private D-Bus.

import { spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { keychain } from '../../src/providers/keychain/index.js';
import { cleanEnv, makeCase, nodeBin, writeCase } from '../e2e/consumer.js';
import { installFakeCli } from '../providers/fake-cli.js';
import { startSecretService } from '../providers/keychain/secret-service.js';
import { makeGpgStore, passMissing } from '../providers/pass/gpg-store.js';
import { expectNoLeak } from './leak-forms.js';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The Node under test, without blocking (the entry points of one case run side by side). */
function run(args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBin, args, { cwd, env: cleanEnv(env), timeout: 180_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Where the entry points come from: the shared consumer, or a project of its own (keychain). */
interface Project {
  caseDir(files: Record<string, string>): string;
  cli: string;
}
const consumer = (): Project => ({
  caseDir: makeCase,
  cli: join(inject('consumerDir'), 'node_modules/envmux/dist/cli.cjs'),
});

const LOAD = `import { loadConfig } from 'envmux';
import { inspect } from 'node:util';
const dump = (e) => [e.message, e.stack, String(e.cause), e.cause?.stack, JSON.stringify(e),
  inspect(e, { depth: 20, showHidden: true }),
  ...(e.errors ?? []).map((x) => inspect(x, { depth: 20, showHidden: true }) + JSON.stringify(x) + String(x.cause?.stack))].join('\\n');
// loadConfig reads its deadline from the option only (the stand-in CLIs are slow on a loaded machine).
try { await loadConfig({ deadline: '150s', audit: { file: 'audit.jsonl' } }); console.log('loaded'); }
catch (e) { console.log(dump(e)); }
`;

interface Case {
  label: string;
  env: Record<string, string>;
  dotenv: string;
  /** The code the failing load reports; undefined when the load succeeds. */
  code?: string;
}

/** Every entry point on one case; each output scanned for `values`. */
async function scan(project: Project, c: Case, values: string[]): Promise<void> {
  const dir = project.caseDir({
    // check and run take the load deadline from the config (default 15 s; the stand-ins are slow).
    'envmux.config.json': '{ "deadline": "150s" }\n',
    '.env': c.dotenv,
    'app.cjs': 'process.stdout.write("ran\\n");\n',
    'load.mjs': LOAD,
  });
  const env = { ENVMUX_TIMEOUT: '90000', ENVMUX_DEADLINE: '150000', ...c.env };
  const [preload, load, check, checkJson, runCmd] = await Promise.all([
    run(['-r', 'envmux/register', 'app.cjs'], dir, { ...env, ENVMUX_DEBUG: '1' }),
    run(['load.mjs'], dir, env),
    run([project.cli, 'check'], dir, env),
    run([project.cli, 'check', '--json'], dir, env),
    run([project.cli, 'run', '--', nodeBin, 'app.cjs'], dir, env),
  ]);
  const label = (what: string) => `${c.label}: ${what}`;
  expectNoLeak(label('preload stdout'), preload.stdout, values);
  expectNoLeak(label('preload stderr'), preload.stderr, values);
  expectNoLeak(label('loadConfig'), load.stdout + load.stderr, values);
  const audit = join(dir, 'audit.jsonl');
  if (existsSync(audit)) expectNoLeak(label('audit file'), readFileSync(audit, 'utf8'), values);
  expectNoLeak(label('check'), check.stdout + check.stderr, values);
  expectNoLeak(label('check --json'), checkJson.stdout + checkJson.stderr, values);
  expectNoLeak(label('run'), runCmd.stdout + runCmd.stderr, values);
  // The path under test was taken: success everywhere, or the expected code everywhere.
  if (c.code === undefined) {
    expect(preload.stdout, label(`preload ${preload.stderr}`)).toBe('ran\n');
    expect(load.stdout, label('loadConfig')).toBe('loaded\n');
    expect(check.status, label(`check ${check.stderr}`)).toBe(0);
    expect(runCmd.stdout, label(`run ${runCmd.stderr}`)).toBe('ran\n');
  } else {
    expect(preload.status, label('preload status')).toBe(1);
    expect(preload.stdout).toBe('');
    expect(preload.stderr, label('preload')).toContain(c.code);
    expect(load.stdout, label('loadConfig')).toContain(c.code);
    expect(check.stderr, label('check')).toContain(c.code);
    expect(JSON.parse(checkJson.stdout).ok, label('check --json')).toBe(false);
    expect(runCmd.status, label('run status')).not.toBe(0);
  }
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const closers: Array<() => void> = [];
afterAll(() => {
  for (const close of closers) close();
});

describe('leak scan: the developer stores (pass, op, bw, keychain)', () => {
  it('op: success, not found, several matches, locked, signed out, a CLI echoing the value', async () => {
    const values = ['LeakCanary/op+Pass=1&?', 'LeakCanary-op-user-5c1'];
    const fake = installFakeCli('op', here('../providers/op/fake-op.cjs'), {
      signedIn: true,
      locked: false,
      fault: undefined as string | undefined,
      vaults: {
        prod: { db: { password: values[0], username: values[1] }, dup: { __duplicates: true } },
      },
    });
    closers.push(() => fake.close());
    const env = { PATH: fake.path, FAKE_OP_STATE: fake.stateFile, ENVMUX_PROVIDERS: 'op,env' };
    const good = 'A=op://prod/db/password\nB=$<op:prod/db/username>\n';
    const cases: Array<[Case, () => void]> = [
      [{ label: 'op ok', env, dotenv: good }, () => {}],
      [
        {
          label: 'op not found',
          env,
          dotenv: `${good}C=op://prod/missing/password\n`,
          code: 'NOT_FOUND',
        },
        () => {},
      ],
      [
        {
          label: 'op several',
          env,
          dotenv: `${good}C=op://prod/dup/password\n`,
          code: 'INVALID_REFERENCE',
        },
        () => {},
      ],
      [{ label: 'op locked', env, dotenv: good, code: 'LOCKED' }, () => (fake.state.locked = true)],
      [
        { label: 'op signed out', env, dotenv: good, code: 'AUTH_FAILED' },
        () => {
          fake.state.locked = false;
          fake.state.signedIn = false;
        },
      ],
      [
        { label: 'op echoes', env, dotenv: good, code: 'UNAVAILABLE' },
        () => {
          fake.state.signedIn = true;
          fake.state.fault = 'ECHO';
        },
      ],
    ];
    for (const [c, setUp] of cases) {
      setUp();
      fake.save();
      await scan(consumer(), c, values);
    }
  }, 900_000);

  it('bw: success, not found, several matches, locked, logged out, a CLI echoing the item', async () => {
    const values = ['LeakCanary/bw+Pass=2&?', 'LeakCanary-bw-note-8d0'];
    const session = 'bw-leak-session-4a1';
    const item = (name: string, extra: Record<string, unknown>) => ({
      id: `${name}-${Math.random().toString(16).slice(2)}`,
      name,
      deletedDate: null,
      ...extra,
    });
    const fake = installFakeCli('bw', here('../providers/bw/fake-bw.cjs'), {
      loggedIn: true,
      session,
      server: 'https://vault.bitwarden.com',
      fault: undefined as string | undefined,
      items: [
        item('db', { type: 1, login: { username: 'app', password: values[0] } }),
        item('deploy-note', { type: 2, notes: values[1], secureNote: { type: 0 } }),
        item('dup', { type: 2, notes: 'dup-one', secureNote: { type: 0 } }),
        item('dup', { type: 2, notes: 'dup-two', secureNote: { type: 0 } }),
      ],
    });
    closers.push(() => fake.close());
    const env = {
      PATH: fake.path,
      FAKE_BW_STATE: fake.stateFile,
      BW_SESSION: session,
      ENVMUX_PROVIDERS: 'bw,env',
    };
    const good = 'A=$<bw:db#password>\nB=$<bw:deploy-note>\n';
    const cases: Array<[Case, () => void]> = [
      [{ label: 'bw ok', env, dotenv: good }, () => {}],
      [
        { label: 'bw not found', env, dotenv: `${good}C=$<bw:missing>\n`, code: 'NOT_FOUND' },
        () => {},
      ],
      [
        { label: 'bw several', env, dotenv: `${good}C=$<bw:dup>\n`, code: 'INVALID_REFERENCE' },
        () => {},
      ],
      [
        { label: 'bw locked', env: { ...env, BW_SESSION: 'stale' }, dotenv: good, code: 'LOCKED' },
        () => {},
      ],
      [
        { label: 'bw logged out', env, dotenv: good, code: 'AUTH_FAILED' },
        () => (fake.state.loggedIn = false),
      ],
      [
        { label: 'bw echoes', env, dotenv: good, code: 'UNAVAILABLE' },
        () => {
          fake.state.loggedIn = true;
          fake.state.fault = 'ECHO';
        },
      ],
    ];
    for (const [c, setUp] of cases) {
      setUp();
      fake.save();
      await scan(consumer(), c, values);
    }
  }, 900_000);

  const passWhyNot = passMissing();
  if (passWhyNot && process.env.ENVMUX_REQUIRE_SERVERS === '1') {
    throw new Error(`pass leak scan needs pass and gpg (ENVMUX_REQUIRE_SERVERS=1): ${passWhyNot}`);
  }
  if (passWhyNot) console.warn(`SKIPPED pass leak scan: ${passWhyNot}`);

  it.skipIf(!!passWhyNot)(
    'pass (real gpg): success, not found, no key to decrypt, a CLI echoing the entry',
    async () => {
      const values = ['LeakCanary/pass+Pw=3&?', 'LeakCanary-pass-login-2b7'];
      const store = makeGpgStore();
      closers.push(() => store.close());
      store.insert('app/db', `${values[0]}\nlogin: ${values[1]}\n`);
      // A pass that prints the entry on stderr and fails (a wrapper around the real one).
      const bin = mkdtempSync(join(tmpdir(), 'envmux-leak-pass-'));
      closers.push(() => rmSync(bin, { recursive: true, force: true }));
      const realPass = realpathSync(
        (process.env.PATH ?? '')
          .split(delimiter)
          .map((d) => join(d, 'pass'))
          .find((p) => existsSync(p))!,
      );
      writeFileSync(
        join(bin, 'pass'),
        `#!/bin/sh\nout=$('${realPass}' "$@")\nprintf 'gpg: weird answer %s\\n' "$out" >&2\nexit 1\n`,
      );
      chmodSync(join(bin, 'pass'), 0o755);
      const noKey = mkdtempSync(join(tmpdir(), 'envmux-leak-nokey-'));
      closers.push(() => rmSync(noKey, { recursive: true, force: true }));
      mkdirSync(join(noKey, 'g'), { mode: 0o700 });
      const env = {
        GNUPGHOME: store.gnupgHome,
        PASSWORD_STORE_DIR: store.dir,
        ENVMUX_PROVIDERS: 'pass,env',
      };
      const good = 'A=$<pass:app/db>\nB=$<pass:app/db#login>\n';
      const cases: Case[] = [
        { label: 'pass ok', env, dotenv: good },
        {
          label: 'pass not found',
          env,
          dotenv: `${good}C=$<pass:app/missing>\n`,
          code: 'NOT_FOUND',
        },
        {
          label: 'pass no key',
          env: { ...env, GNUPGHOME: join(noKey, 'g') },
          dotenv: good,
          code: 'ACCESS_DENIED',
        },
        {
          label: 'pass echoes',
          env: { ...env, PATH: `${bin}${delimiter}${process.env.PATH}` },
          dotenv: good,
          code: 'UNAVAILABLE',
        },
      ];
      for (const c of cases) await scan(consumer(), c, values);
    },
    900_000,
  );

  it('keychain (Secret Service): success, not found, no Secret Service on the bus', async (context) => {
    const started = await startSecretService();
    if ('missing' in started) {
      if (process.env.ENVMUX_REQUIRE_SERVERS === '1')
        throw new Error(`keychain leak scan needs a Secret Service: ${started.missing}`);
      console.warn(`SKIPPED keychain leak scan: ${started.missing}`);
      context.skip();
      return;
    }
    closers.push(() => started.close());
    const values = ['LeakCanary/kc+Pw=4&?'];
    const service = `envmux-leak-${process.pid}`;
    const previous = process.env.DBUS_SESSION_BUS_ADDRESS;
    process.env.DBUS_SESSION_BUS_ADDRESS = started.address;
    try {
      await keychain({ service }).set!('db', values[0]!, {});
    } finally {
      if (previous === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
      else process.env.DBUS_SESSION_BUS_ADDRESS = previous;
    }
    const project = keychainProject();
    const env = {
      DBUS_SESSION_BUS_ADDRESS: started.address,
      ENVMUX_KEYCHAIN_SERVICE: service,
      ENVMUX_PROVIDERS: 'keychain,env',
    };
    const good = 'A=$<keychain:db>\n';
    const cases: Case[] = [
      { label: 'keychain ok', env, dotenv: good },
      {
        label: 'keychain not found',
        env,
        dotenv: `${good}C=$<keychain:missing>\n`,
        code: 'NOT_FOUND',
      },
      {
        label: 'keychain no service',
        env: { ...env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/envmux-bus' },
        dotenv: good,
        code: 'UNAVAILABLE',
      },
    ];
    for (const c of cases) await scan(project, c, values);
  }, 900_000);
});

/**
 * A project beside the shared consumer whose envmux can load the optional peer @napi-rs/keyring:
 * the consumer's packages linked, envmux copied (Node resolves a package from its real path), and
 * the repository's @napi-rs packages linked.
 */
function keychainProject(): Project {
  const from = join(inject('consumerDir'), 'node_modules');
  const dir = join(dirname(inject('consumerDir')), `leak-keychain-${process.pid}`);
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) {
    mkdirSync(join(modules, '@napi-rs'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"name":"leak-keychain","private":true}');
    for (const name of readdirSync(from)) {
      if (name.startsWith('.') || name === 'envmux' || name === '@napi-rs') continue;
      symlinkSync(join(from, name), join(modules, name));
    }
    cpSync(realpathSync(join(from, 'envmux')), join(modules, 'envmux'), { recursive: true });
    const napi = realpathSync(join(process.cwd(), 'node_modules', '@napi-rs'));
    for (const name of readdirSync(napi)) {
      symlinkSync(join(napi, name), join(modules, '@napi-rs', name));
    }
  }
  let n = 0;
  return {
    caseDir: (files) => writeCase(dir, `case-${n++}`, files),
    cli: join(modules, 'envmux/dist/cli.cjs'),
  };
}
