import type { Plugin } from 'rolldown';
import { defineConfig, type UserConfig } from 'tsdown';

/** Dependencies imported lazily (`import()`) that ship CommonJS: the CJS build require()s them. */
const LAZY_CJS_DEPS = ['lru-cache'];

/**
 * What Node pays to load the chunks, cut at the source: every chunk is ASCII, and builtins and lazy
 * dependencies are taken the cheapest way for the chunk's format.
 */
const loadCost: Plugin = {
  name: 'envmux:load-cost',
  // On the final code: a later pass that prints the chunk again would undo the escapes.
  generateBundle(options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk') continue;
      const ascii = asciiOnly(chunk.code);
      chunk.code = options.format === 'cjs' ? requireLazyDeps(ascii) : builtinsWithoutFacade(ascii);
    }
  },
};

/**
 * Non-ASCII characters as `\u` escapes. One `…` in a message makes V8 hold the whole chunk as a
 * two-byte string: Node's UTF-8 decode of the 180 KB core took 3 ms, and the compile is slower on it.
 * An escape means the same in a string, a template, a regular expression, an identifier or a
 * comment; the source has no `String.raw` over such a character.
 */
function asciiOnly(code: string): string {
  // `\…` (an identity escape) would become `\\u2026`, a backslash and text: refuse to guess.
  if (/\\[^\0-\x7f]/.test(code)) throw new Error('a backslash before a non-ASCII character');
  return code.replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * In the CJS build, `import('lru-cache')` would start the ES module loader in a CommonJS app to load
 * a package that has a CommonJS build: rewrite it to a deferred `require`.
 */
function requireLazyDeps(code: string): string {
  let out = code;
  for (const name of LAZY_CJS_DEPS) {
    out = out.replaceAll(`import("${name}")`, `Promise.resolve().then(() => require("${name}"))`);
  }
  return out;
}

/** `import { a, b as c } from "node:fs";`, `import path from "node:path";`, `import * as os from "node:os";` */
const BUILTIN_IMPORT = /^import (?:\{([^}]*)\}|([\w$]+)|\* as ([\w$]+)) from "(node:[\w/]+)";$/gm;

/**
 * In the ESM build, take Node's builtins from `process.getBuiltinModule` instead of `import`: an
 * `import` of a builtin builds its ES module facade, which reads every export and so runs the
 * lazy getters behind them (`node:fs` loads the whole streams stack for `ReadStream` and
 * `promises`; 6 of the 10 ms CPU that `import('envmux')` spent in builtins on a 2-core machine).
 * A builtin's exports are never reassigned, so a destructured constant reads the same binding.
 */
function builtinsWithoutFacade(code: string): string {
  return code.replace(BUILTIN_IMPORT, (_line, names, only, star, id) => {
    const module = `process.getBuiltinModule(${JSON.stringify(id)})`;
    if (only ?? star) return `const ${only ?? star} = ${module};`;
    const bindings = (names as string)
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean)
      .map((name) => name.replace(/^([\w$]+) as ([\w$]+)$/, '$1: $2'));
    return `const { ${bindings.join(', ')} } = ${module};`;
  });
}

/** The modules `src/index.ts` imports statically (itself left out), filled when the build ends. */
const indexGraph = new Set<string>();

/** Records the static module graph of `src/index.ts` in `indexGraph`. */
const staticGraph: Plugin = {
  name: 'envmux:static-graph',
  buildEnd() {
    indexGraph.clear();
    const entry = [...this.getModuleIds()].find((id) => /[\\/]src[\\/]index\.ts$/.test(id));
    const stack = [...(entry ? (this.getModuleInfo(entry)?.importedIds ?? []) : [])];
    while (stack.length) {
      const id = stack.pop()!;
      if (indexGraph.has(id)) continue;
      indexGraph.add(id);
      stack.push(...(this.getModuleInfo(id)?.importedIds ?? []));
    }
  },
};

const common: UserConfig = {
  platform: 'node',
  target: 'node20.19',
  // p-retry is ESM-only: bundled so the CJS build never require()s an ES module. It is imported
  // only after a provider call fails, and so gets a chunk of its own.
  deps: { alwaysBundle: ['p-retry', 'is-network-error'], onlyBundle: false },
  plugins: [loadCost],
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
    plugins: [...(common.plugins as Plugin[]), staticGraph],
    // Everything `import('envmux')` loads, in one chunk: each file through Node's ES module loader
    // costs about as much as compiling 20 KB (resolve, open, read, link).
    outputOptions: {
      codeSplitting: { groups: [{ name: 'core', test: (id) => indexGraph.has(id) }] },
      // Every byte of the core is read, decoded and scanned by each `import('envmux')`: the JSDoc
      // stays in the declarations (.d.mts/.d.cts), not in the code (−40 KB of 218). Licences stay.
      comments: { legal: true, annotation: true, jsdoc: false },
    },
  },
  {
    ...common,
    // The preload alone, CJS (fastest start; `import 'envmux/register'` loads it too), so that it
    // shares no chunk with code it does not run.
    entry: { register: 'src/register/register.ts' },
    format: ['cjs'],
    clean: false,
    // Compiled by every process that preloads it, references or not: 32 KB of source → 13 KB.
    minify: true,
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
