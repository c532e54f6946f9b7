// sidecar: a fresh project on the local vault, `envmux serve` started beside it (loopback, a
// generated reader token in .envmux/serve.token), and client.sh — curl, no Node — reading from it.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkg = require.resolve('envmux/package.json');
const cli = join(dirname(pkg), require(pkg).bin.envmux);
const project = mkdtempSync(join(tmpdir(), 'envmux-sidecar-'));
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_')),
);

function envmux(args, input) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: project,
    env,
    input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`envmux ${args.join(' ')} failed: ${r.stderr}`);
}

let serve;
try {
  envmux(['vault', 'init']);
  envmux(['vault', 'set', 'db/password'], randomBytes(18).toString('base64url'));
  envmux(['vault', 'set', 'api/token'], randomBytes(24).toString('base64url'));

  console.log('$ envmux serve --port 0 &');
  serve = spawn(process.execPath, [cli, 'serve', '--port', '0'], {
    cwd: project,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = createInterface({ input: serve.stderr });
  const started = await new Promise((resolve, reject) => {
    lines.once('line', resolve);
    serve.once('exit', (code) => reject(new Error(`envmux serve exited (${code})`)));
  });
  console.log(started.replace(project, '.'));
  const url = started.match(/listening on (\S+)/)[1];

  console.log('\n$ ./client.sh');
  const client = spawnSync(join(here, 'client.sh'), [], {
    env: { ...env, ENVMUX_URL: url, ENVMUX_TOKEN_FILE: join(project, '.envmux/serve.token') },
    encoding: 'utf8',
  });
  process.stdout.write(client.stdout + client.stderr);
  if (client.status !== 0) throw new Error(`client.sh failed (exit ${client.status})`);

  serve.kill('SIGTERM');
  console.log(
    `\n$ kill -TERM <serve>\n${(await new Promise((r) => lines.once('line', r))).trim()}`,
  );
} finally {
  serve?.kill();
  rmSync(project, { recursive: true, force: true });
}
