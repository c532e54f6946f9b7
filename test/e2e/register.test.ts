// The three register forms and loadConfig, from the packed package in a consumer project.

import { describe, expect, it } from 'vitest';
import { makeCase, runNode } from './consumer.js';

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
