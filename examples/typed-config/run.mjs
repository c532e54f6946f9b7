// typed-config: loadConfig with a zod schema on the local vault, in a temp project. First a good
// load (numbers and booleans coerced), then a bad secret value: one redacted error, app not started.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkg = require.resolve('envmux/package.json');
const cli = join(dirname(pkg), require(pkg).bin.envmux);
const project = mkdtempSync(join(here, '.run-'));
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_')),
);

function run(title, args, input, { mayFail = false } = {}) {
  console.log(`\n$ ${title}`);
  const r = spawnSync(process.execPath, args, { cwd: project, env, input, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stdout.write(r.stderr);
  if (r.status !== 0 && !mayFail) throw new Error(`${title} failed (exit ${r.status})`);
  if (mayFail) console.log(`(exit ${r.status})`);
}

try {
  for (const f of ['.env', 'config.mjs', 'app.mjs']) copyFileSync(join(here, f), join(project, f));
  run('envmux vault init', [cli, 'vault', 'init']);
  run(
    'envmux generate | envmux vault set db/password',
    [cli, 'vault', 'set', 'db/password'],
    spawnSync(process.execPath, [cli, 'generate'], { encoding: 'utf8' }).stdout,
  );
  run('echo 20 | envmux vault set db/pool-size', [cli, 'vault', 'set', 'db/pool-size'], '20\n');
  run('node app.mjs', ['app.mjs']);

  // A wrong value in the store: the schema rejects it, the message names the key, never the value.
  run(
    "echo 'twenty-five' | envmux vault set db/pool-size",
    [cli, 'vault', 'set', 'db/pool-size'],
    'twenty-five\n',
  );
  run('node app.mjs', ['app.mjs'], undefined, { mayFail: true });
} finally {
  rmSync(project, { recursive: true, force: true });
}
