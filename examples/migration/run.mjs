// migration: a plain .env moved into a store with `envmux migrate`, then copied to a new store with
// `envmux copy` while the app dual-reads (new first, old as fallback), then cut over to the new
// store alone. The app runs after every step; `envmux explain` says which store served a key.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkg = require.resolve('envmux/package.json');
const cli = join(dirname(pkg), require(pkg).bin.envmux);
const register = require.resolve('envmux/register');
// Inside this folder, so the config file's `import 'envmux/providers'` finds the package.
const project = mkdtempSync(join(here, '.run-'));
const base = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_')),
);
let stage = 'old';

/** Run a step, echoing it and its output; stop when it fails. */
function step(title, args, { quiet = false } = {}) {
  console.log(`\n$ ${title}`);
  const r = spawnSync(process.execPath, args, {
    cwd: project,
    env: { ...base, MIGRATION_STAGE: stage },
    encoding: 'utf8',
  });
  if (!quiet || r.status !== 0) process.stdout.write(r.stdout + r.stderr);
  if (r.status !== 0) throw new Error(`${title} failed (exit ${r.status})`);
  return r.stdout;
}
const envmux = (args, options) => step(`envmux ${args.join(' ')}`, [cli, ...args], options);

/** The app, and which store served two of its keys. */
function app() {
  step('node -r envmux/register app.cjs', ['-r', register, 'app.cjs']);
  for (const key of ['DB_PASSWORD', 'STRIPE_SECRET_KEY']) {
    const r = spawnSync(process.execPath, [cli, 'explain', key], {
      cwd: project,
      env: { ...base, MIGRATION_STAGE: stage },
      encoding: 'utf8',
    });
    console.log(`  ${key} served by ${r.stdout.match(/served by\s+(\S+)/)?.[1] ?? '?'}`);
  }
}

try {
  copyFileSync(join(here, '.env.plain'), join(project, '.env'));
  for (const f of ['envmux.config.mjs', 'app.cjs']) copyFileSync(join(here, f), join(project, f));
  envmux(['vault', 'init', '--vault', 'old/vault.json'], { quiet: true });
  envmux(['vault', 'init', '--vault', 'new/vault.json'], { quiet: true });

  console.log('\n=== 1. the plain .env into the `old` store ===');
  envmux(['migrate', '.env', '--to', 'old', '--dry-run']);
  envmux(['migrate', '.env', '--to', 'old', '--validate']);
  console.log('\n$ cat .env');
  process.stdout.write(readFileSync(join(project, '.env'), 'utf8'));
  app();

  console.log(
    '\n=== 2. copy to the `new` store while the app reads new first, old as fallback ===',
  );
  stage = 'dual';
  console.log('(MIGRATION_STAGE=dual: chain new, old)');
  envmux(['copy', 'DB_*', '--from', 'old', '--to', 'new', '--verify']);
  app();
  envmux(['copy', '--from', 'old', '--to', 'new', '--verify']);
  app();

  console.log('\n=== 3. cut over: the chain is `new` alone ===');
  stage = 'cutover';
  console.log('(MIGRATION_STAGE=cutover: chain new)');
  envmux(['check']);
  app();
} finally {
  rmSync(project, { recursive: true, force: true });
}
