// The preload's ESM entry (`node --import envmux/register`, `import 'envmux/register'`). Under
// `--import`, Node waits for this module's top-level await before the app's entry point, so async
// stores are awaited on the main thread with no worker; a static first `import` does not block its
// sibling imports, so there the preload keeps its worker bridge. See docs/architecture.md, "The preload".

import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PendingLoad } from './register.js';

/** Whether `node --import` (in argv or NODE_OPTIONS) named this module. */
function loadedByImportFlag(): boolean {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value =
      arg === '--import' ? args[i + 1] : arg.startsWith('--import=') ? arg.slice(9) : undefined;
    if (value && namesThisModule(value)) return true;
  }
  return false;
}

/**
 * Whether an `--import` specifier names this module. The package's own `envmux/register` is taken
 * as it reads: asking Node to resolve it costs milliseconds of every start. Another bare specifier
 * ending in `/register` (an npm alias of the package) is resolved; any other is not this module.
 */
function namesThisModule(specifier: string): boolean {
  const unquoted = specifier.replace(/^["']|["']$/g, '');
  if (unquoted === 'envmux/register') return true;
  const relative = unquoted.startsWith('.') || path.isAbsolute(unquoted);
  if (!relative && !unquoted.startsWith('file:') && !unquoted.endsWith('/register')) return false;
  try {
    const url = relative
      ? pathToFileURL(path.resolve(unquoted)).href
      : import.meta.resolve(unquoted);
    return url === import.meta.url;
  } catch {
    return false;
  }
}

const require = createRequire(import.meta.url);
if (loadedByImportFlag()) {
  (globalThis as Record<symbol, unknown>)[Symbol.for('envmux.register.await')] = true;
}
const preload = require('./register.cjs') as { takePendingLoad(): PendingLoad | undefined };
const pending = preload.takePendingLoad();
if (pending) {
  // A variable specifier: the library's chunk is loaded at run time, never bundled here.
  const library = './register-load.mjs';
  const { loadForRegister } = (await import(library)) as typeof import('./load-async.js');
  pending.settle(await loadForRegister(pending.cwd, pending.deadline));
}
