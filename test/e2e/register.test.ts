// The three register forms and loadConfig, from the packed package in a consumer project.

import { describe, expect, it } from 'vitest';
import { makeCase, runCli, runNode } from './consumer.js';

const slowProvider = `import { defineProvider } from 'envmux';
export default {
  providers: [
    defineProvider({
      id: 'slow',
      async get(name) {
        await new Promise((r) => setTimeout(r, 50));
        return name === 'missing' ? undefined : 'v-' + name;
      },
    }),
  ],
};
`;
const app =
  'console.log(JSON.stringify({ A: process.env.A, B: process.env.B, C: process.env.C }));\n';
const expected = { A: 'v-alpha', B: 'v-beta', C: 'x-v-v-alpha' };

describe('register preload with an async custom provider', () => {
  const files = {
    'envmux.config.mjs': slowProvider,
    '.env': 'A=$<secret:alpha>\nB=$<slow:beta>\nC=x-$<secret:$<env:A>>\n',
    'app.cjs': app,
    'app.mjs': app,
    'main.mjs': "import 'envmux/register';\nimport './app.mjs';\n",
  };

  it.each([
    ['node -r envmux/register', ['-r', 'envmux/register', 'app.cjs']],
    ['node --import envmux/register', ['--import', 'envmux/register', 'app.mjs']],
    ["import 'envmux/register' first", ['main.mjs']],
  ])('%s fills process.env before the app runs', (_, args) => {
    const dir = makeCase(files);
    const r = runNode(args, dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it.each([
    ['node -r envmux/register', ['-r', 'envmux/register', 'app.cjs']],
    ['node --import envmux/register', ['--import', 'envmux/register', 'app.mjs']],
    ["import 'envmux/register' first", ['main.mjs']],
  ])('%s exits non-zero listing file:line when a reference fails', (_, args) => {
    const dir = makeCase({
      ...files,
      '.env': 'A=$<secret:alpha>\n\nD=$<secret:missing>\nE=$<nosuch:x>\n',
    });
    const r = runNode(args, dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('.env:3 D $<secret:missing>: NOT_FOUND');
    expect(r.stderr).toContain('.env:4 E $<nosuch:x>: INVALID_REFERENCE');
  });
});

describe('loadConfig from the installed package', () => {
  const env = 'PORT=8080\nDB=$<secret:db#password>\nDEBUG=true\n';
  const provider = `defineProvider({ id: 'slow', async get(n) { await new Promise((r) => setTimeout(r, 20)); return n === 'db' ? '{"password":"s3cret-pw"}' : undefined; } })`;

  it('works from ESM with a zod schema', () => {
    const dir = makeCase({
      '.env': env,
      'load.mjs': `import { loadConfig, defineProvider } from 'envmux';
import { z } from 'zod';
const config = await loadConfig({ providers: [${provider}], schema: z.object({ PORT: z.coerce.number(), DB: z.string(), DEBUG: z.stringbool() }) });
console.log(JSON.stringify({ ...config, frozen: Object.isFrozen(config) }));
`,
    });
    const r = runNode(['load.mjs'], dir);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      PORT: 8080,
      DB: 's3cret-pw',
      DEBUG: true,
      frozen: true,
    });
  });

  it('works from CJS', () => {
    const dir = makeCase({
      '.env': env,
      'load.cjs': `const { loadConfig, defineProvider } = require('envmux');
loadConfig({ providers: [${provider}] }).then((c) => console.log(JSON.stringify(c)));
`,
    });
    const r = runNode(['load.cjs'], dir);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ PORT: '8080', DB: 's3cret-pw', DEBUG: 'true' });
  });
});

describe('register preload behaviour', () => {
  const printEnv = 'console.log(JSON.stringify({ A: process.env.A, B: process.env.B }));\n';

  it('writes nothing to stdout and loads nothing a reference-free file does not need', () => {
    const dir = makeCase({
      '.env': 'A=1\nB=two\n',
      'app.cjs': `const loaded = Object.keys(require.cache).map((p) => p.split('node_modules/').pop());
console.log(JSON.stringify({ A: process.env.A, loaded }));`,
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.A).toBe('1');
    // Only the preload itself and dotenv (the parser): no resolver, no worker, no zod, no SDK.
    expect(out.loaded.filter((p: string) => !p.endsWith('app.cjs')).sort()).toEqual([
      'dotenv/dist/index.cjs',
      'envmux/dist/register.cjs',
    ]);
  });

  it('is quiet on stdout even with ENVMUX_DEBUG and when failing', () => {
    const dir = makeCase({ '.env': 'A=$<secret:nope>\n', 'app.cjs': printEnv });
    const failing = runNode(['-r', 'envmux/register', 'app.cjs'], dir, { ENVMUX_DEBUG: '1' });
    expect(failing.status).toBe(1);
    expect(failing.stdout).toBe('');
    const ok = runNode(['-r', 'envmux/register', '-e', ''], makeCase({ '.env': 'A=1\n' }), {
      ENVMUX_DEBUG: '1',
    });
    expect(ok.stdout).toBe('');
    expect(ok.stderr).toContain('envmux: read .env');
  });

  it('the environment wins over the file', () => {
    const dir = makeCase({ '.env': 'A=file\nB=$<env:A>\n', 'app.cjs': printEnv });
    expect(
      JSON.parse(runNode(['-r', 'envmux/register', 'app.cjs'], dir, { A: 'env' }).stdout),
    ).toEqual({ A: 'env', B: 'env' });
  });

  it('ENVMUX_STRICT=false starts the app with failed keys unset and warns on stderr', () => {
    const dir = makeCase({ '.env': 'A=ok\nB=$<secret:nope>\n', 'app.cjs': printEnv });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, { ENVMUX_STRICT: 'false' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ A: 'ok' });
    expect(r.stderr).toContain('warning: .env:2 B $<secret:nope>: NOT_FOUND');
  });

  it('never starts the app with a partial environment', () => {
    const dir = makeCase({
      '.env': 'A=ok\nB=$<secret:nope>\n',
      'app.cjs': 'console.log("app ran")',
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('app ran');
  });

  it('ENVMUX_DISABLE=1 makes it a no-op', () => {
    const dir = makeCase({ '.env': 'A=$<secret:nope>\n', 'app.cjs': printEnv });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, { ENVMUX_DISABLE: '1' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({});
  });

  it('does not run again in worker threads that inherit -r envmux/register', () => {
    const dir = makeCase({
      '.env': 'A=$<secret:counted>\n',
      'envmux.config.mjs': `import { defineProvider } from 'envmux';
import { appendFileSync } from 'node:fs';
export default { providers: [defineProvider({ id: 'c', async get() { appendFileSync('calls.log', 'x'); return 'v'; } })] };`,
      'app.cjs': `const { Worker } = require('node:worker_threads');
const w = new Worker('process.stdout.write(process.env.A)', { eval: true });
w.on('exit', () => console.log(require('fs').readFileSync('calls.log', 'utf8').length));`,
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('v1\n');
  });

  it('resolves mounted secret files without a worker (synchronous stores)', () => {
    const dir = makeCase({
      '.env': 'A=$<secret:db_password>\nB=$<file:db_password>\n',
      'secrets/db_password': 'pw\n',
      'app.cjs': `${printEnv}console.log(Object.keys(require.cache).some((p) => p.includes('register-worker')));`,
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, {
      ENVMUX_FILE_DIR: `${dir}/secrets`,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('{"A":"pw","B":"pw"}\nfalse\n');
  });

  it('is configured without code: "envmux" in package.json, and ENVMUX_PROVIDERS', () => {
    const dir = makeCase({
      'package.json': JSON.stringify({
        name: 'app',
        private: true,
        envmux: { files: ['config.env'], expand: true },
      }),
      'config.env': 'BASE=/srv\nDIR=${BASE}/app\nPW=$<secret:db_password>\n',
      '.env': 'IGNORED=1\n',
      'secrets/db_password': 'from-file\n',
      'app.cjs':
        'console.log(JSON.stringify({ DIR: process.env.DIR, PW: process.env.PW, IGNORED: process.env.IGNORED }));',
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, {
      ENVMUX_PROVIDERS: 'file',
      ENVMUX_FILE_DIR: `${dir}/secrets`,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ DIR: '/srv/app', PW: 'from-file' });
    // With only env in the chain, the file-backed secret is not found: the explicit list is the chain.
    const onlyEnv = runNode(['-r', 'envmux/register', 'app.cjs'], dir, {
      ENVMUX_PROVIDERS: 'env',
      ENVMUX_FILE_DIR: `${dir}/secrets`,
    });
    expect(onlyEnv.status).toBe(1);
    expect(onlyEnv.stderr).toContain('config.env:3 PW $<secret:db_password>: NOT_FOUND');
  });

  it('a config file that throws is reported with its own reason, and the app does not start', () => {
    const dir = makeCase({
      'envmux.config.mjs': "throw new Error('bad config: no region');\n",
      '.env': 'A=1\n',
      'app.cjs': 'console.log("app ran")',
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('CONFIG: config file failed to load (Error: bad config: no region)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('fail closed on every entry point: schema, answers, lookups, versions', () => {
  const config = (extra: string) => `import { defineProvider } from 'envmux';
import { z } from 'zod';
const values = { port: 'not-a-port', name: 'svc', n: null, num: 42, obj: { a: 1 } };
export default {
  providers: [defineProvider({ id: 'odd', async get(name) { return values[name]; } })],
  ${extra}
};
`;
  const schema = 'schema: z.object({ PORT: z.coerce.number().int(), NAME: z.string().min(2) }),';
  const cli = (dir: string, args: string[]) => runCli(args, dir);

  it("the config file's schema stops the preload, run and check alike, with the same message", () => {
    const dir = makeCase({
      'envmux.config.mjs': config(schema),
      '.env': 'PORT=$<secret:port>\nNAME=$<secret:name>\n',
      'app.cjs': 'console.log("app ran")',
      'app.mjs': 'console.log("app ran")',
    });
    const line = '.env:1 PORT: VALIDATION_FAILED: expected number';
    for (const args of [
      ['-r', 'envmux/register', 'app.cjs'],
      ['--import', 'envmux/register', 'app.mjs'],
    ]) {
      const r = runNode(args, dir);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(line);
    }
    const run = cli(dir, ['run', '--', process.execPath, '-e', 'console.log("app ran")']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(line);
    const check = cli(dir, ['check']);
    expect(check.status).toBe(1);
    expect(check.stdout + check.stderr).toContain(line);
    expect(`${run.stderr}${check.stdout}${check.stderr}`).not.toContain('not-a-port');
    // A valid environment starts the app, the values unchanged by the schema's coercion.
    const ok = makeCase({
      'envmux.config.mjs': config(schema),
      '.env': 'PORT=8080\nNAME=$<secret:name>\n',
      'app.cjs': 'console.log(typeof process.env.PORT, process.env.NAME)',
    });
    const started = runNode(['-r', 'envmux/register', 'app.cjs'], ok);
    expect(started.stderr).toBe('');
    expect(started.stdout).toBe('string svc\n');
  });

  it('a custom provider answering null, a number or an object stops the preload and run', () => {
    const dir = makeCase({
      'envmux.config.mjs': config(''),
      '.env': 'N=$<secret:n>\nNUM=$<secret:num>\nO=$<odd:obj>\n',
      'app.cjs': 'console.log("app ran", process.env.N, process.env.O)',
    });
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    for (const line of [
      '.env:1 N $<secret:n>: INVALID_REFERENCE: provider "odd" answered null instead of a string',
      '.env:2 NUM $<secret:num>: INVALID_REFERENCE: provider "odd" answered a number instead of a string',
      '.env:3 O $<odd:obj>: INVALID_REFERENCE: provider "odd" answered an object instead of a string',
    ]) {
      expect(r.stderr).toContain(line);
    }
    const run = cli(dir, ['run', '--', process.execPath, '-e', 'console.log("app ran")']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('.env:1 N $<secret:n>: INVALID_REFERENCE: provider "odd"');
    expect(run.stderr).not.toMatch(/TypeError|\n\s+at /);
  });

  it('names reach no Object.prototype member, and a pinned version is not served by file', () => {
    const dir = makeCase({
      '.env': 'constructor=$<file:x>\nT=$<env:toString:-unset>\n',
      'secrets/x': 'from-file\n',
      'app.cjs': 'console.log(process.env.constructor, process.env.T)',
    });
    const env = { ENVMUX_FILE_DIR: `${dir}/secrets` };
    const r = runNode(['-r', 'envmux/register', 'app.cjs'], dir, env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from-file unset\n');
    const pinned = makeCase({
      '.env': 'A=$<file:x?version=3>\nB=$<secret:x?version=previous>\n',
      'secrets/x': 'from-file\n',
      'app.cjs': 'console.log("app ran", process.env.A)',
    });
    const p = runNode(['-r', 'envmux/register', 'app.cjs'], pinned, {
      ENVMUX_FILE_DIR: `${pinned}/secrets`,
      ENVMUX_PROVIDERS: 'file',
    });
    expect(p.status).toBe(1);
    expect(p.stderr).toContain(
      '.env:1 A $<file:x?version=3>: NOT_FOUND: provider "file" keeps no versions, so it cannot serve version "3" of "x"',
    );
    expect(p.stderr).toContain('.env:2 B');
    expect(p.stdout + p.stderr).not.toContain('from-file');
  });
});
