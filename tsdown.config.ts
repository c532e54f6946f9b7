import { defineConfig, type UserConfig } from 'tsdown';

const common: UserConfig = {
  platform: 'node',
  target: 'node20.19',
  // p-retry is ESM-only: bundled so the CJS build never require()s an ES module.
  deps: { alwaysBundle: ['p-retry', 'is-network-error'], onlyBundle: false },
};

export default defineConfig([
  {
    ...common,
    // The library: ESM + CJS with declarations. The preload's worker is built here too, so that
    // as ESM it shares its chunks with an `envmux.config.mjs` that imports 'envmux' (one copy of
    // the library in the worker, not two).
    entry: {
      index: 'src/index.ts',
      providers: 'src/providers/index.ts',
      testing: 'src/testing/index.ts',
      'register-worker': 'src/register/worker.ts',
      // The asynchronous load that `node --import envmux/register` awaits on the main thread.
      'register-load': 'src/register/load-async.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
  },
  {
    ...common,
    // The preload alone, CJS (fastest start; `import 'envmux/register'` loads it too), so that it
    // shares no chunk with code it does not run.
    entry: { register: 'src/register/register.ts' },
    format: ['cjs'],
    clean: false,
    // Required at run time, only when a value holds a reference: never inlined.
    deps: { ...common.deps, neverBundle: ['./register-resolve.cjs'] },
  },
  {
    ...common,
    // The preload's ESM entry: requires register.cjs, and under `node --import` awaits the
    // asynchronous load instead of starting a worker.
    entry: { register: 'src/register/register-import.ts' },
    format: ['esm'],
    clean: false,
    deps: { ...common.deps, neverBundle: ['./register.cjs', './register-load.mjs'] },
  },
  {
    ...common,
    // What the preload requires only when a value holds a reference.
    entry: { 'register-resolve': 'src/register/resolve-in-thread.ts' },
    format: ['cjs'],
    clean: false,
    // On the start-up path of every app with references: parsing 90 KB of source costs ~2 ms.
    minify: true,
  },
  {
    ...common,
    // The CLI: CJS.
    entry: { cli: 'src/cli/main.ts' },
    format: ['cjs'],
    clean: false,
  },
]);
