import type { Plugin } from 'rolldown';
import { defineConfig, type UserConfig } from 'tsdown';

/** Dependencies imported lazily (`import()`) that ship CommonJS: the CJS build require()s them. */
const LAZY_CJS_DEPS = ['lru-cache'];

/**
 * In the CJS build, `import('lru-cache')` would start the ES module loader in a CommonJS app to load
 * a package that has a CommonJS build: rewrite it to a deferred `require`.
 */
const requireLazyDeps: Plugin = {
  name: 'envmux:require-lazy-deps',
  renderChunk(code, _chunk, options) {
    if (options.format !== 'cjs') return requireDotenv(code);
    let out = code;
    for (const name of LAZY_CJS_DEPS) {
      out = out.replaceAll(`import("${name}")`, `Promise.resolve().then(() => require("${name}"))`);
    }
    return out === code ? null : { code: out };
  },
};

/**
 * dotenv is CommonJS only: in the ESM build, `require` it (from the installed package, as before)
 * rather than `import` it, which would start Node's CommonJS export scanner for one default export
 * (measured ≈ 5 ms CPU of `import('envmux')` on a 2-core machine).
 */
function requireDotenv(code: string): { code: string } | null {
  const line = 'import dotenv from "dotenv";';
  if (!code.includes(line)) return null;
  return {
    code: code.replace(
      line,
      'import { createRequire as __envmuxRequire } from "node:module";\nconst dotenv = __envmuxRequire(import.meta.url)("dotenv");',
    ),
  };
}

const common: UserConfig = {
  platform: 'node',
  target: 'node20.19',
  // p-retry is ESM-only: bundled so the CJS build never require()s an ES module. It is imported
  // only after a provider call fails, and so gets a chunk of its own.
  deps: { alwaysBundle: ['p-retry', 'is-network-error'], onlyBundle: false },
  plugins: [requireLazyDeps],
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
