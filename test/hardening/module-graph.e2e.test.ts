// What each entry path loads, from the installed package: the files of every thread, read by a
// module hook (ES modules) and each thread's CommonJS cache. Libraries load when a load needs them:
// lru-cache with the first store read of a resolver that outlives one load, p-retry after a first
// failed attempt, never CLI code.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeCase, runNode } from '../e2e/consumer.js';

// `-r` first: records the main thread's and (through the worker's execArgv) each worker's files.
const TRACER = `const { appendFileSync } = require('node:fs');
const { register } = require('node:module');
const { pathToFileURL } = require('node:url');
const threads = require('node:worker_threads');
const out = process.env.MODULE_TRACE;
const thread = threads.isMainThread ? 'main' : 'worker';
register(pathToFileURL(__dirname + '/trace-hooks.mjs'), { data: { out, thread } });
process.on('exit', () => {
  appendFileSync(out, Object.keys(require.cache).map((f) => thread + ' ' + f + '\\n').join(''));
});
if (threads.isMainThread) {
  const { Worker } = threads;
  threads.Worker = class extends Worker {
    constructor(file, options = {}) {
      super(file, { ...options, execArgv: [...(options.execArgv ?? []), '-r', __filename] });
    }
  };
}
`;
const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
let thread;
export function initialize(data) { ({ out, thread } = data); }
export async function load(url, context, next) {
  const result = await next(url, context);
  if (url.startsWith('file:')) appendFileSync(out, thread + ' ' + url + '\\n');
  return result;
}
`;

type Graph = { main: string[]; worker: string[] };
/** p-retry's code, wherever the bundler put it. */
const P_RETRY = 'Retry attempts exhausted';

/** Package files (`envmux/dist/client.mjs`, hash left out; `dotenv/dist/index.cjs`) per thread. */
function trace(
  files: Record<string, string>,
  args: string[],
): Graph & { stdout: string; pRetry: boolean } {
  const dir = makeCase({ ...files, 'trace/tracer.cjs': TRACER, 'trace/trace-hooks.mjs': HOOKS });
  const out = join(dir, 'trace/modules.txt');
  const r = runNode(['-r', './trace/tracer.cjs', ...args], dir, { MODULE_TRACE: out });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const graph: Graph = { main: [], worker: [] };
  let pRetry = false;
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (!line) continue;
    const thread = line.slice(0, line.indexOf(' ')) as keyof Graph;
    const file = line.slice(line.indexOf(' ') + 1);
    const path = file.startsWith('file:') ? fileURLToPath(file) : file;
    const at = path.lastIndexOf('node_modules/');
    if (at < 0) continue;
    pRetry ||= readFileSync(path, 'utf8').includes(P_RETRY);
    const name = path.slice(at + 'node_modules/'.length).replace(/-[\w-]{8}\.(c|m)js$/, '.$1js');
    if (!graph[thread].includes(name)) graph[thread].push(name);
  }
  graph.main.sort();
  graph.worker.sort();
  return { ...graph, stdout: r.stdout, pRetry };
}

const packages = (files: string[]) => [...new Set(files.map((f) => f.split('/')[0]))].sort();
const envmux = (files: string[]) =>
  files.filter((f) => f.startsWith('envmux/')).map((f) => f.slice('envmux/dist/'.length));
/** Chunks no resolution path may load: retries (until a failure), CLI, SDK adapters, test kit. */
const NEVER = /^(p-retry|cli|aws|gcp|azure|vault|k8s|testing|providers)\b/;

const asyncStore = `export default {
  providers: [{ id: 'slow', async get(name) { await new Promise((r) => setTimeout(r, 5)); return 'v-' + name; } }],
};
`;
const asyncEnv = 'A=$<slow:a>\nB=$<secret:b>\nPLAIN=1\n';
const printA = 'console.log(process.env.A);\n';

describe('module graph of each entry path', () => {
  it('the reference-free preload loads itself and dotenv, in one thread', () => {
    const g = trace({ '.env': 'A=1\nB=two\n', 'app.cjs': printA }, [
      '-r',
      'envmux/register',
      'app.cjs',
    ]);
    expect(g.stdout).toBe('1\n');
    expect(g.main).toEqual(['dotenv/dist/index.cjs', 'envmux/dist/register.cjs']);
    expect(g.worker).toEqual([]);
  });

  it("import('envmux') loads neither lru-cache nor p-retry, nor CLI or SDK code", () => {
    const esm = trace({ 'app.mjs': "await import('envmux');\n" }, ['app.mjs']);
    // Two files through the ES module loader (each costs its resolve, read and link); dotenv is
    // required at the first parse.
    expect(esm.main).toEqual(['envmux/dist/core.mjs', 'envmux/dist/index.mjs']);
    expect(esm.pRetry).toBe(false);
    const cjs = trace({ 'app.cjs': "require('envmux');\n" }, ['app.cjs']);
    // dotenv is taken at the first parse, in both builds.
    expect(packages(cjs.main)).toEqual(['envmux']);
    expect(envmux(cjs.main).filter((f) => NEVER.test(f) || f.startsWith('register'))).toEqual([]);
    expect(cjs.pRetry).toBe(false);
  });

  it("import('envmux') loads no crypto and no streams among Node's builtins", () => {
    // An `import` of a builtin builds its ES module facade, which reads every export: `node:fs`
    // then loads the streams stack, `node:crypto` the ciphers. The library takes them lazily.
    const app = `const before = new Set(process.moduleLoadList);
await import('envmux');
console.log(process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).join(','));
`;
    const g = trace({ 'app.mjs': app }, ['app.mjs']);
    const builtins = g.stdout.trim().split(',');
    expect(builtins.filter((m) => /crypto|stream/.test(m))).toEqual([]);
    expect(builtins.length).toBeLessThanOrEqual(6);
  });

  const loadOne = (
    failures: number,
  ) => `const { defineProvider, loadConfig } = await import('envmux');
let failures = ${failures};
const memory = defineProvider({
  id: 'memory',
  async get() {
    if (failures-- > 0) throw Object.assign(new Error('try again'), { code: 'UNAVAILABLE' });
    return 'v';
  },
});
const config = await loadConfig({ providers: [memory], processEnv: {}, configFile: false, retry: { minDelay: 1 } });
console.log(config.A);
`;

  it('a loadConfig answered at the first attempt loads neither lru-cache nor p-retry', () => {
    // Its resolver lives for one load: a Map caches it.
    const g = trace({ '.env': 'A=$<memory:a>\n', 'app.mjs': loadOne(0) }, ['app.mjs']);
    expect(g.stdout).toBe('v\n');
    expect(g.main).toEqual([
      'dotenv/dist/index.cjs',
      'envmux/dist/core.mjs',
      'envmux/dist/index.mjs',
    ]);
    expect(g.pRetry).toBe(false);
  });

  it("a resolver's first store read loads lru-cache, in both builds", () => {
    const app = (load: string) => `const { createResolver, defineProvider } = ${load};
const store = defineProvider({ id: 'memory', async get() { return 'v'; } });
const resolver = createResolver({ providers: [store], audit: false });
resolver.get('a').then(async (v) => { console.log(v); await resolver.close(); });
`;
    const esm = trace({ 'app.mjs': app("await import('envmux')") }, ['app.mjs']);
    expect(esm.stdout).toBe('v\n');
    expect(packages(esm.main)).toEqual(['envmux', 'lru-cache']);
    const cjs = trace({ 'app.cjs': app("require('envmux')") }, ['app.cjs']);
    expect(cjs.stdout).toBe('v\n');
    expect(packages(cjs.main)).toEqual(['envmux', 'lru-cache']);
  });

  it('a first failed attempt loads p-retry, and the retry answers', () => {
    const g = trace({ '.env': 'A=$<memory:a>\n', 'app.mjs': loadOne(1) }, ['app.mjs']);
    expect(g.stdout).toBe('v\n');
    expect(envmux(g.main)).toContain('p-retry.mjs');
    expect(g.pRetry).toBe(true);
  });

  it("the worker loads what the --import path loads on the main thread, and the preload's thread only itself", () => {
    const files = { '.env': asyncEnv, 'envmux.config.mjs': asyncStore, 'app.cjs': printA };
    const bridged = trace(files, ['-r', 'envmux/register', 'app.cjs']);
    expect(bridged.stdout).toBe('v-a\n');
    // A JS config sends the whole load to the worker: this thread parses nothing.
    expect(packages(bridged.main)).toEqual(['envmux']);
    expect(envmux(bridged.main)).toEqual(['register.cjs']);
    expect(packages(bridged.worker)).toEqual(['dotenv', 'envmux']);
    expect(envmux(bridged.worker).filter((f) => NEVER.test(f))).toEqual([]);
    expect(bridged.pRetry).toBe(false);

    const awaited = trace({ ...files, 'app.mjs': printA }, [
      '--import',
      'envmux/register',
      'app.mjs',
    ]);
    expect(awaited.stdout).toBe('v-a\n');
    expect(awaited.worker).toEqual([]);
    const worker = envmux(bridged.worker).filter((f) => f !== 'register-worker.mjs');
    const main = envmux(awaited.main).filter((f) => !f.startsWith('register.'));
    expect(worker).toEqual(main);
  });
});
