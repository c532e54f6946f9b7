// The README's main command (`npm run example`): a fresh project on the local encrypted vault, end
// to end, in a temp folder (the vault key must never land in the repository). Uses `envmux` by its
// package name: `envmux vault init`, secrets set from stdin, then `node -r envmux/register`.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
// The installed package's bin and preload (the temp project has no node_modules of its own).
const pkg = require.resolve('envmux/package.json');
const cli = join(dirname(pkg), require(pkg).bin.envmux);
const register = require.resolve('envmux/register');
const project = mkdtempSync(join(tmpdir(), 'envmux-example-'));
// The user's own ENVMUX_* settings must not change what the example shows.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_')),
);

/** Run a step, echoing it; stop the example if it fails. */
function step(title, args, input) {
  console.log(`\n$ ${title}`);
  const r = spawnSync(process.execPath, args, {
    cwd: project,
    env,
    input,
    stdio: [input === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'],
  });
  if (r.status !== 0) {
    rmSync(project, { recursive: true, force: true });
    process.exit(r.status ?? 1);
  }
}

try {
  for (const file of ['.env', 'app.cjs']) copyFileSync(join(here, file), join(project, file));
  console.log(`a fresh project in ${project}:`);
  step('envmux vault init', [cli, 'vault', 'init']);
  step(
    'printf %s "$DB_PASSWORD" | envmux vault set db/password -d \'primary database\'',
    [cli, 'vault', 'set', 'db/password', '-d', 'primary database'],
    'correct-horse-battery-staple',
  );
  const token = spawnSync(process.execPath, [cli, 'generate', '--length', '40'], {
    env,
    encoding: 'utf8',
  }).stdout;
  step(
    'envmux generate --length 40 | envmux vault set api/token --expires-in 90d',
    [cli, 'vault', 'set', 'api/token', '--expires-in', '90d'],
    token,
  );
  step('envmux vault list', [cli, 'vault', 'list']);
  console.log(
    `\n.envmux/vault.json (safe to commit: names and metadata in clear, values AES-256-GCM):`,
  );
  process.stdout.write(
    readFileSync(join(project, '.envmux/vault.json'), 'utf8').replace(
      /"data":"[^"]{12}[^"]*"/g,
      (m) => `${m.slice(0, 20)}…"`,
    ),
  );
  step('node -r envmux/register app.cjs', ['-r', register, 'app.cjs']);
} finally {
  rmSync(project, { recursive: true, force: true });
}
