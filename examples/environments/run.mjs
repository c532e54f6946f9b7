// environments: the same app and .env started four times, with APP_ENV=development (local vault),
// ci (memory), staging and production (AWS, different prefixes; a local stand-in serves AWS's
// protocol). `envmux explain DB_PASSWORD` names the store that served it (names only, never values).

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAwsStandin } from './aws-standin.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkg = require.resolve('envmux/package.json');
const cli = join(dirname(pkg), require(pkg).bin.envmux);
const register = require.resolve('envmux/register');
const project = mkdtempSync(join(here, '.run-'));
const base = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_') && !k.startsWith('AWS_')),
);
const random = () => randomBytes(18).toString('base64url');

const aws = await startAwsStandin({
  'staging/db/password': random(),
  'staging/api/token': random(),
  'prod/db/password': random(),
  'prod/api/token': random(),
});
const awsEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL: aws.url,
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'example',
  AWS_CONFIG_FILE: '/nonexistent',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** Run node with `args` in the project (for steps that do not need the AWS stand-in). */
function node(args, env, input) {
  const r = spawnSync(process.execPath, args, {
    cwd: project,
    env: { ...base, ...env },
    input,
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(`node ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return r;
}

/** The same, without blocking: the AWS stand-in answers from this process's event loop. */
function nodeAsync(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: project, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (status) =>
      status === 0
        ? resolve(stdout)
        : reject(new Error(`${args.join(' ')} failed (exit ${status}): ${stderr}`)),
    );
  });
}

try {
  for (const f of ['.env', 'envmux.config.mjs', 'app.cjs'])
    copyFileSync(join(here, f), join(project, f));
  // The developer's vault (in the project; the key stays out of git).
  node([cli, 'vault', 'init']);
  node([cli, 'vault', 'set', 'db/password'], {}, random());
  node([cli, 'vault', 'set', 'api/token'], {}, random());

  for (const appEnv of ['development', 'ci', 'staging', 'production']) {
    const env = { APP_ENV: appEnv, ...(appEnv.match(/staging|production/) ? awsEnv : {}) };
    console.log(`\n$ APP_ENV=${appEnv} node -r envmux/register app.cjs`);
    process.stdout.write(await nodeAsync(['-r', register, 'app.cjs'], env));
    console.log(`$ APP_ENV=${appEnv} envmux explain DB_PASSWORD   # which store served it`);
    const explained = await nodeAsync([cli, 'explain', 'DB_PASSWORD'], env);
    console.log(explained.split('\n').find((l) => l.includes('served by')));
  }
} finally {
  await aws.close();
  rmSync(project, { recursive: true, force: true });
}
