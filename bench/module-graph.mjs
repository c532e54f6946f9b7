// Which files each entry path loads, and their bytes: every module loaded through the ES module
// loader (any thread, read by a module hook) plus the main thread's CommonJS cache. Run after
// `npm run build`; `npm run bench` prints it. The packages' own files only (builtins are free).

import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture, plainEnv, refEnv } from './fixtures.mjs';

const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(NODE_EXTRA_CA_CERTS|NODE_OPTIONS|DOTENV_|ENVMUX_)/.test(k),
  ),
);

// The tracer: `-r` it first. Its hook records each module the ES module loader loads, and each
// thread appends its CommonJS cache at exit. A worker gets the tracer too (the preload starts its
// worker with `execArgv: []`). Lines: `<thread> <url or path>`.
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

/** `envmux/dist/x.cjs`, `dotenv/dist/index.cjs`: a file named by its package. */
export function packagePath(file) {
  const path = file.startsWith('file:') ? fileURLToPath(file) : file;
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) return path.slice(inModules + 'node_modules/'.length);
  const dist = path.lastIndexOf('/dist/');
  return dist >= 0 ? `envmux${path.slice(dist)}` : undefined;
}

/**
 * The package files `node <args>` loads in `cwd` (the app's own files left out), per thread
 * (`main`, `worker`), sorted, each with its size in bytes. `extraEnv` is added to a clean
 * environment.
 */
export function traceModules(args, cwd, extraEnv = {}) {
  const dir = fixture('trace', { 'tracer.cjs': TRACER, 'trace-hooks.mjs': HOOKS });
  const tracer = join(dir, 'tracer.cjs');
  const out = join(dir, 'modules.txt');
  writeFileSync(out, '');
  execFileSync(process.execPath, ['-r', tracer, ...args], {
    cwd,
    env: { ...env, ...extraEnv, MODULE_TRACE: out },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const threads = { main: new Map(), worker: new Map() };
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (!line) continue;
    const [thread, file] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    const path = file.startsWith('file:') ? fileURLToPath(file) : file;
    const name = packagePath(path);
    if (name && !path.endsWith('tracer.cjs')) threads[thread].set(name, statSync(path).size);
  }
  rmSync(out);
  const list = (files) =>
    [...files].sort(([a], [b]) => a.localeCompare(b)).map(([name, bytes]) => ({ name, bytes }));
  return { main: list(threads.main), worker: list(threads.worker) };
}

const asyncConfig = `export default {
  providers: [{ id: 'slow', async get(name) { return 'v-' + name; } }],
};
`;

/** The paths, each a fixture and a command. */
export function graphCases() {
  const plain = fixture('graph-plain', { '.env': plainEnv(50), 'app.cjs': '' });
  const inThread = fixture('graph-in-thread', {
    '.env': `${plainEnv(30)}${Array.from({ length: 20 }, (_, i) => `REF_${i}=$<env:HOME>`).join('\n')}\n`,
    'app.cjs': '',
  });
  const async = fixture('graph-async', {
    '.env': refEnv(30, 20, 'slow'),
    'envmux.config.mjs': asyncConfig,
    'app.cjs': '',
    'app.mjs': '',
  });
  const library = fixture('graph-library', {
    'import.mjs': "await import('envmux');\n",
    'load.mjs': `const { defineProvider, loadConfig } = await import('envmux');
const memory = defineProvider({ id: 'memory', async get() { return 'v'; } });
const config = await loadConfig({ providers: [memory], processEnv: {}, configFile: false, audit: false });
if (config.A !== 'v') throw new Error('not loaded');
`,
    '.env': 'A=$<memory:a>\n',
  });
  return [
    [
      'reference-free preload (`-r envmux/register`, 50 lines)',
      ['-r', 'envmux/register', 'app.cjs'],
      plain,
    ],
    [
      'in-thread resolution (`-r envmux/register`, 20 `$<env:…>` references)',
      ['-r', 'envmux/register', 'app.cjs'],
      inThread,
    ],
    [
      'worker (`-r envmux/register`, 20 references to an async store in `envmux.config.mjs`)',
      ['-r', 'envmux/register', 'app.cjs'],
      async,
    ],
    [
      '`--import envmux/register`, same (awaited on the main thread)',
      ['--import', 'envmux/register', 'app.mjs'],
      async,
    ],
    ["`import('envmux')`", ['import.mjs'], library],
    [
      "`import('envmux')` + `loadConfig` of one reference answered first time",
      ['load.mjs'],
      library,
    ],
  ];
}

/** One row per path and thread: file count, bytes, and each file (chunk hashes left out). */
export function moduleGraphTable() {
  const out = ['| path | thread | files | KiB | loads (KiB) |', '|---|---|---:|---:|---|'];
  const row = (label, thread, files) => {
    const total = files.reduce((n, f) => n + f.bytes, 0);
    const list = files
      .map(
        (f) => `${f.name.replace(/-[\w-]{8}\.(c|m)js$/, '.$1js')} ${(f.bytes / 1024).toFixed(1)}`,
      )
      .join(', ');
    out.push(`| ${label} | ${thread} | ${files.length} | ${(total / 1024).toFixed(1)} | ${list} |`);
  };
  for (const [label, args, cwd] of graphCases()) {
    const { main, worker } = traceModules(args, cwd);
    row(label, 'main', main);
    if (worker.length) row(label, 'worker', worker);
  }
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(moduleGraphTable());
