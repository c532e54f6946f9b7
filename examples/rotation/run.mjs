// rotation: a real PostgreSQL whose `app` password lives in the local vault. A client keeps
// connecting (password from envmux each time) while the password is rotated with a grace period:
// write the new value, `apply` it (ALTER ROLE), `test` it (a login), commit. Then a rotation whose
// apply fails is rolled back, and the old version is retired when its grace period ends.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditLog, createResolver } from 'envmux';
import { local } from 'envmux/providers';
import pg from 'pg';
import { startPostgres } from './postgres.mjs';

const require = createRequire(import.meta.url);
const pkg = require.resolve('envmux/package.json');
const cli = join(dirname(pkg), require(pkg).bin.envmux);
const project = mkdtempSync(join(tmpdir(), 'envmux-rotation-'));
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('ENVMUX_')),
);
const NAME = 'db/password';

spawnSync(process.execPath, [cli, 'vault', 'init'], { cwd: project, env, stdio: 'ignore' });
const audit = new AuditLog();
const secrets = createResolver({
  providers: [local({ path: join(project, '.envmux/vault.json') })],
  audit: { log: audit },
});
console.log('starting PostgreSQL (initdb + pg_ctl in a temp folder)…');
const server = await startPostgres();
const connect = (user, password) =>
  new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user,
    password,
    database: 'postgres',
    connectionTimeoutMillis: 5000,
  });
const admin = connect('postgres');
await admin.connect();

// The app's first password: generated, stored, and given to the role.
await secrets.rotate(NAME, {
  apply: (value) => admin.query(`CREATE ROLE app LOGIN PASSWORD ${admin.escapeLiteral(value)}`),
});
console.log('role app created; its password is only in the vault');

// The client: a new connection every 50 ms, the password from envmux (cached). An auth failure
// (the password changed under it) re-reads once, bypassing the cache.
const stats = { ok: 0, retried: 0, failed: 0 };
let running = true;
const client = (async () => {
  while (running) {
    try {
      await login(await secrets.get(NAME));
    } catch (error) {
      if (error.code !== '28P01') stats.failed++;
      else {
        try {
          await login(await secrets.get(NAME, { cache: false }));
          stats.retried++;
          stats.ok--;
        } catch {
          stats.failed++;
        }
      }
    }
    await sleep(50);
  }
})();
async function login(password) {
  const c = connect('app', password);
  await c.connect();
  await c.query('SELECT 1');
  await c.end();
  stats.ok++;
}
const show = (what) =>
  console.log(
    `client: ${stats.ok} logins ok, ${stats.retried} re-read after a change, ${stats.failed} failed  (${what})`,
  );

try {
  await sleep(1000);
  show('before the rotation');
  const version = async (v) =>
    (await secrets.versions(NAME)).find((x) => x.stages?.includes(v))?.version;

  console.log(
    '\n$ secrets.rotate("db/password", { grace: "4s", apply: ALTER ROLE app PASSWORD …, test: login as app })',
  );
  audit.clear();
  const [outcome] = await secrets.rotate(NAME, {
    grace: '4s',
    apply: (value) => admin.query(`ALTER ROLE app PASSWORD ${admin.escapeLiteral(value)}`),
    test: (value) => login(value),
  });
  console.log(
    `rotated in ${outcome.provider}: version ${outcome.version} is latest, version ${outcome.previous} is previous`,
  );
  for (const e of audit.query({ action: 'rotate' }))
    console.log(`  audit: rotate ${e.step.padEnd(10)} ${e.outcome}`);
  const previous = await secrets.get(NAME, { version: 'previous', cache: false });
  console.log(
    `during the grace period, version "previous" is still readable (${previous.length} chars)`,
  );
  await sleep(1000);
  show('after the rotation');

  console.log('\n$ secrets.rotate("db/password", { apply: a statement the database refuses })');
  audit.clear();
  const latest = await version('latest');
  try {
    await secrets.rotate(NAME, {
      apply: (value) =>
        admin.query(`ALTER ROLE no_such_role PASSWORD ${admin.escapeLiteral(value)}`),
    });
  } catch (error) {
    console.log(`${error.code}: ${error.message}`);
  }
  for (const e of audit.query({ action: 'rotate' }))
    console.log(`  audit: rotate ${e.step.padEnd(10)} ${e.outcome}${e.code ? ` ${e.code}` : ''}`);
  console.log(
    `latest is still version ${await version('latest')} (was ${latest}); the database was not changed`,
  );
  await sleep(500);
  show('after the failed rotation');

  console.log('\nwaiting for the grace period to end…');
  await sleep(3000);
  const retired = await secrets.retireExpired();
  for (const r of retired)
    console.log(`retired version ${r.version} of ${r.name} in ${r.provider}`);
  const left = (await secrets.versions(NAME)).map((v) => v.version);
  console.log(`versions left: ${left.join(', ')}`);
} finally {
  running = false;
  await client;
  show('final');
  await admin.end();
  server.stop();
  await secrets.close?.();
  rmSync(project, { recursive: true, force: true });
}
