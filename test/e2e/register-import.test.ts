// `node --import envmux/register` awaits asynchronous stores on the main thread (Node waits for a
// --import module's top-level await before the entry point): no worker thread. `-r` and a static
// first `import` keep the worker bridge. From the packed package in a consumer project.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCase, runNode } from './consumer.js';

const config = `import { defineProvider } from 'envmux';
export default {
  providers: [
    defineProvider({
      id: 'slow',
      async get(name) {
        await new Promise((r) => setTimeout(r, 30));
        return name === 'missing' ? undefined : 'v-' + name;
      },
    }),
  ],
};
`;
// Preloaded first (-r runs before --import): records every Worker the process starts.
const trap = `const wt = require('node:worker_threads');
const fs = require('node:fs');
const Original = wt.Worker;
wt.Worker = class extends Original {
  constructor(file, options) {
    fs.appendFileSync(__dirname + '/workers.log', String(file) + '\\n');
    super(file, options);
  }
};
`;
const app = 'console.log(JSON.stringify({ A: process.env.A, B: process.env.B }));\n';
const files = {
  'envmux.config.mjs': config,
  '.env': 'A=$<secret:alpha>\nB=$<slow:$<env:A>>\n',
  'trap.cjs': trap,
  'app.cjs': app,
  'app.mjs': app,
  'static.mjs': "import 'envmux/register';\nimport './app.mjs';\n",
};
const expected = { A: 'v-alpha', B: 'v-v-alpha' };
const workers = (dir: string) => {
  try {
    return readFileSync(join(dir, 'workers.log'), 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};

describe('the --import path', () => {
  it.each([
    ['an ESM app', ['-r', './trap.cjs', '--import', 'envmux/register', 'app.mjs'], {}],
    ['a CJS app', ['-r', './trap.cjs', '--import', 'envmux/register', 'app.cjs'], {}],
    ['--import=', ['-r', './trap.cjs', '--import=envmux/register', 'app.mjs'], {}],
    ['NODE_OPTIONS', ['-r', './trap.cjs', 'app.cjs'], { NODE_OPTIONS: '--import envmux/register' }],
    // Named by its path (resolved against the working directory, as Node does), not the package.
    [
      'a path to the file',
      ['-r', './trap.cjs', '--import', '../node_modules/envmux/dist/register.mjs', 'app.mjs'],
      {},
    ],
  ])('resolves an async store on the main thread, with no worker (%s)', (_, args, env) => {
    const dir = makeCase(files);
    const r = runNode(args, dir, env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
    expect(workers(dir)).toEqual([]);
  });

  it('keeps the worker for -r and for a static first import (which Node does not wait for)', () => {
    for (const args of [
      ['-r', './trap.cjs', '-r', 'envmux/register', 'app.cjs'],
      ['-r', './trap.cjs', 'static.mjs'],
    ]) {
      const dir = makeCase(files);
      const r = runNode(args, dir);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual(expected);
      expect(workers(dir)).toHaveLength(1);
      expect(workers(dir)[0]).toContain('register-worker');
    }
  });

  it('fails closed before the entry point: exit 1, every problem on stderr, nothing on stdout', () => {
    const dir = makeCase({ ...files, '.env': 'A=$<secret:alpha>\nD=$<secret:missing>\n' });
    const r = runNode(['--import', 'envmux/register', 'app.mjs'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('.env:2 D $<secret:missing>: NOT_FOUND');
  });

  it('names the files, keys and serving providers with ENVMUX_DEBUG, on stderr only', () => {
    const dir = makeCase(files);
    const r = runNode(['--import', 'envmux/register', 'app.mjs'], dir, { ENVMUX_DEBUG: '1' });
    expect(JSON.parse(r.stdout)).toEqual(expected);
    expect(r.stderr).toContain('awaiting the load on the main thread');
    expect(r.stderr).toContain('B ← .env:2 via slow');
    expect(r.stderr).not.toContain('v-alpha');
  });

  it('is a no-op in a worker thread of the app and with ENVMUX_DISABLE', () => {
    const dir = makeCase({
      ...files,
      'threads.mjs': `import { Worker } from 'node:worker_threads';
const w = new Worker("require('node:worker_threads').parentPort.postMessage(process.env.B ?? 'unset')", { eval: true });
w.on('message', (m) => console.log(process.env.B, m));
`,
    });
    const r = runNode(['--import', 'envmux/register', 'threads.mjs'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('v-v-alpha v-v-alpha');
    const off = runNode(['--import', 'envmux/register', 'app.mjs'], dir, { ENVMUX_DISABLE: '1' });
    expect(JSON.parse(off.stdout)).toEqual({});
  });
});
