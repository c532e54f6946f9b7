// docker: runs the image's CMD without Docker — `node -r envmux/register app.cjs` with the secret
// files of ./secrets where the container would have /run/secrets (ENVMUX_FILE_DIR points there).

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_')),
);

console.log('$ ls secrets/        # mounted at /run/secrets in the container');
console.log(['db', 'stripe_key'].join('\n'));
console.log("\n$ ENVMUX_FILE_DIR=secrets node -r envmux/register app.cjs   # the image's CMD");
const r = spawnSync(process.execPath, ['-r', require.resolve('envmux/register'), 'app.cjs'], {
  cwd: here,
  env: { ...env, ENVMUX_FILE_DIR: join(here, 'secrets') },
  stdio: 'inherit',
});
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`
With Docker:
  docker build -t envmux-docker-example .
  docker run --rm --mount type=bind,src="$PWD/secrets",dst=/run/secrets,readonly envmux-docker-example
On Kubernetes: kubectl apply -f k8s.yaml (a Secret mounted as files at /run/secrets).`);
