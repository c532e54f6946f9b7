// Every example in examples/ (issue 19), run as a user would after `npm install envmux`: the folder
// is copied into a consumer project holding the packed package and the optional peers the examples
// use, and each example's one command (`node run.mjs`) runs there, in sequence. The assertions are
// what each example's README says to look at, so an example that rots fails here; no output may
// hold a secret value the example set.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { installProject, nodeBin, type Run } from './consumer.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const requireServers = process.env.ENVMUX_REQUIRE_SERVERS === '1';
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const postgresMissing = !has('pg_ctl') && !existsSync('/usr/lib/postgresql');

/** True (and a loud warning) when a tool an example needs is absent; throws under ENVMUX_REQUIRE_SERVERS=1. */
function missing(what: string, absent: boolean): boolean {
  if (!absent) return false;
  const reason = `examples e2e: ${what} is not installed: its example is SKIPPED`;
  if (requireServers) throw new Error(reason);
  console.warn(`\n*** ${reason} ***\n`);
  return true;
}

let project: string;

beforeAll(() => {
  // The consumer: envmux from the tarball plus what the examples import besides envmux.
  project = installProject('examples-consumer', [
    'zod@^4',
    'pg@^8',
    '@aws-sdk/client-secrets-manager@^3',
    '@google-cloud/secret-manager@^6',
    'node-vault@^0.12',
  ]);
  cpSync(join(repo, 'examples'), join(project, 'examples'), {
    recursive: true,
    filter: (source) => !/[/\\]\.run-/.test(source),
  });
}, 300_000);

/** `node run.mjs` in examples/NAME of the consumer project (asynchronous: no frozen event loop). */
function example(name: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !/^(ENVMUX_|DOTENV_|VITEST|AWS_|VAULT_|GOOGLE_)/.test(k) && k !== 'NODE_OPTIONS',
      ),
    );
    const child = spawn(nodeBin, ['run.mjs'], {
      cwd: join(project, 'examples', name),
      env: { ...clean, ...env },
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** Both streams, for assertions on what the user sees. */
const seen = (r: Run) => r.stdout + r.stderr;

describe('examples, run from the installed package', () => {
  it('every example has a README, run.mjs, an npm script and a row in the README table', () => {
    const names = readdirSync(join(repo, 'examples'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name);
    expect(names.sort()).toEqual(
      [
        'cli-tool',
        'docker',
        'environments',
        'failover',
        'migration',
        'multi-tenant',
        'quickstart',
        'rotation',
        'sidecar',
        'testing',
        'typed-config',
      ].sort(),
    );
    const scripts = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).scripts;
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    expect(scripts.example).toBe('npm run build --silent && node examples/quickstart/run.mjs');
    for (const name of names) {
      expect(existsSync(join(repo, 'examples', name, 'README.md')), name).toBe(true);
      expect(existsSync(join(repo, 'examples', name, 'run.mjs')), name).toBe(true);
      expect(scripts[`example:${name}`]).toBe(
        `npm run build --silent && node examples/${name}/run.mjs`,
      );
      expect(readme).toContain(`[${name}](examples/${name})`);
    }
  });

  it('quickstart: the local vault and node -r envmux/register', async () => {
    const r = await example('quickstart');
    expect(r.status, seen(r)).toBe(0);
    expect(r.stdout).toMatch(/db\/password\s+1\s/);
    expect(r.stdout).toMatch(/DB_PASSWORD {2}\*\*\* \(28 chars, sha256 [0-9a-f]{8}\)/);
    expect(r.stdout).toContain('DATABASE_URL postgres://app:***@localhost:5432/app');
    expect(r.stdout).toMatch(/API_TOKEN {4}\*\*\* \(40 chars/);
    expect(r.stdout).toContain('LOG_LEVEL    info');
    expect(seen(r)).not.toContain('correct-horse-battery-staple');
  }, 120_000);

  it('typed-config: coerced types, then one redacted VALIDATION_FAILED', async () => {
    const r = await example('typed-config');
    expect(r.status, seen(r)).toBe(0);
    expect(r.stdout).toContain('PORT               8080 (number)');
    expect(r.stdout).toContain('DEBUG              true (boolean)');
    expect(r.stdout).toContain('POOL_SIZE          20 (number)');
    expect(r.stdout).toContain('frozen: true');
    expect(r.stdout).toContain('.env:5 POOL_SIZE: VALIDATION_FAILED: expected number');
    expect(r.stdout).toContain('(exit 1)');
    // The rejected value is in the command line the example echoes, never in the error.
    const error = r.stdout.slice(r.stdout.lastIndexOf('$ node app.mjs'));
    expect(error).not.toContain('twenty-five');
  }, 120_000);

  it('environments: one .env, four stores chosen by APP_ENV', async () => {
    const r = await example('environments');
    expect(r.status, seen(r)).toBe(0);
    const served = [...r.stdout.matchAll(/served by\s+(\S+)/g)].map((m) => m[1]);
    expect(served).toEqual(['local', 'memory', 'aws', 'aws']);
    for (const appEnv of ['development', 'ci', 'staging', 'production']) {
      expect(r.stdout).toMatch(new RegExp(`\\[${appEnv}\\] DB_PASSWORD \\*\\*\\* \\(\\d+ chars`));
    }
    // staging and production read different secrets (different prefixes).
    const hash = (env: string) =>
      r.stdout.match(new RegExp(`\\[${env}\\] DB_PASSWORD .*?sha256 (\\w+)`))?.[1];
    expect(hash('staging')).not.toBe(hash('production'));
    expect(seen(r)).not.toContain('ci-fixture-password');
  }, 120_000);

  it('multi-tenant: three stores, one resolver each, isolated caches and audit logs', async () => {
    const r = await example('multi-tenant');
    expect(r.status, seen(r)).toBe(0);
    expect(r.stdout).toMatch(/acme +aws +\*\*\* \(24 chars/);
    expect(r.stdout).toMatch(/globex +gcp +\*\*\* \(24 chars/);
    expect(r.stdout).toMatch(/initech +vault +\*\*\* \(24 chars/);
    expect(r.stdout).toContain(
      'acme: NOT_FOUND: secret "tenants/globex/db-password" was not found',
    );
    expect(r.stdout).toMatch(
      /acme +audit: 3 entries, providers aws-acme: .*db-password ok \(cache hit\)/,
    );
    expect(r.stdout).toMatch(/globex +audit: 1 entries, providers gcp-globex:/);
    expect(r.stdout).toMatch(/initech +audit: 1 entries, providers vault-initech:/);
  }, 120_000);

  it('failover: the primary dies, loads keep succeeding from the backup; audit and breaker say why', async () => {
    const r = await example('failover');
    expect(r.status, seen(r)).toBe(0);
    expect(r.stdout).toMatch(/load {2}1: ok \(2 keys\) .*← primary/);
    expect(r.stdout).toMatch(/load {2}4: ok \(2 keys\) .*← backup.*← backup/);
    expect(r.stdout).toMatch(/audit: get +\S* *primary +error UNAVAILABLE/);
    expect(r.stdout).toMatch(/breaker: primary +open/);
    expect(r.stdout).toMatch(/load {2}7: ok/);
    // After the cool-down the probe reaches the restarted primary.
    expect(r.stdout).toMatch(/load {2}8: ok .*← primary/);
    expect(r.stdout.slice(r.stdout.lastIndexOf('load  8'))).toMatch(/breaker: primary +closed/);
    expect(seen(r)).not.toContain('primary-db-password-1');
  }, 120_000);

  it('migration: a plain .env migrated, dual-read while copying, then cut over', async () => {
    const r = await example('migration');
    expect(r.status, seen(r)).toBe(0);
    expect(r.stdout).toContain('-   4 DB_PASSWORD=***');
    expect(r.stdout).toContain('DB_PASSWORD=$<secret:DB_PASSWORD>');
    expect(r.stdout).toContain('validated: 5 keys resolve to the original values');
    expect(r.stdout).toContain('1 created, 0 updated, 0 skipped, 0 failed, 1 verified');
    expect(r.stdout).toContain('2 created, 0 updated, 1 skipped, 0 failed, 3 verified');
    const served = [...r.stdout.matchAll(/(DB_PASSWORD|STRIPE_SECRET_KEY) served by (\S+)/g)].map(
      (m) => `${m[1]}:${m[2]}`,
    );
    expect(served).toEqual([
      'DB_PASSWORD:old',
      'STRIPE_SECRET_KEY:old',
      'DB_PASSWORD:new',
      'STRIPE_SECRET_KEY:old',
      'DB_PASSWORD:new',
      'STRIPE_SECRET_KEY:new',
      'DB_PASSWORD:new',
      'STRIPE_SECRET_KEY:new',
    ]);
    expect(r.stdout).toContain('envmux check: ok');
    const values = readFileSync(join(repo, 'examples/migration/.env.plain'), 'utf8')
      .split('\n')
      .filter((l) => /^(DB_PASSWORD|STRIPE_SECRET_KEY|SESSION_SECRET)=/.test(l))
      .map((l) => l.slice(l.indexOf('=') + 1).replace(/"/g, ''));
    expect(values).toHaveLength(3);
    for (const value of values) expect(seen(r)).not.toContain(value);
  }, 150_000);

  it('rotation: a PostgreSQL password rotated with apply/test/grace while a client connects', async () => {
    if (missing('PostgreSQL (initdb, pg_ctl)', postgresMissing)) return;
    const r = await example('rotation');
    expect(r.status, seen(r)).toBe(0);
    expect(r.stdout).toContain('rotated in local: version 2 is latest, version 1 is previous');
    for (const step of ['write', 'apply', 'test', 'invalidate']) {
      expect(r.stdout).toMatch(new RegExp(`audit: rotate ${step} +ok`));
    }
    expect(r.stdout).toMatch(/audit: rotate apply +error/);
    expect(r.stdout).toMatch(/audit: rotate rollback +ok/);
    expect(r.stdout).toContain('latest is still version 2 (was 2)');
    expect(r.stdout).toContain('retired version 1 of db/password in local');
    expect(r.stdout).toContain('versions left: 2');
    const final = r.stdout.match(
      /client: (\d+) logins ok, \d+ re-read after a change, (\d+) failed {2}\(final\)/,
    );
    expect(final, r.stdout).not.toBeNull();
    expect(Number(final![1])).toBeGreaterThan(0);
    expect(final![2]).toBe('0');
  }, 120_000);

  it('testing: the app unit tests on envmux/testing memory stores pass', async () => {
    const r = await example('testing');
    expect(r.status, seen(r)).toBe(0);
    expect(r.stdout).toMatch(/ℹ pass 5/);
    expect(r.stdout).toMatch(/ℹ fail 0/);
    expect(r.stdout).toContain('an expired session is renewed once');
  }, 120_000);

  it('docker: the image CMD runs without Docker on mounted secret files', async () => {
    const r = await example('docker');
    expect(r.status, seen(r)).toBe(0);
    expect(r.stdout).toContain('DB_USER      app');
    expect(r.stdout).toMatch(/DB_PASSWORD {2}\*\*\* \(21 chars/);
    expect(r.stdout).toContain('DATABASE_URL postgres://app:***@localhost:5432/app');
    expect(r.stdout).toMatch(/STRIPE_KEY {3}\*\*\* \(20 chars/);
    expect(seen(r)).not.toContain('correct-horse-battery');
  }, 60_000);

  it('docker: the Dockerfile and manifest have the documented shape', () => {
    const text = readFileSync(join(repo, 'examples/docker/Dockerfile'), 'utf8');
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const instruction = (l: string) => l.split(/\s+/)[0]!.toUpperCase();
    expect(instruction(lines[0]!)).toBe('FROM');
    const users = lines.filter((l) => instruction(l) === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
    const cmds = lines.filter((l) => instruction(l) === 'CMD');
    expect(cmds).toHaveLength(1);
    // Exec form (a JSON array: signals reach node), with the preload.
    const cmd = JSON.parse(cmds[0]!.slice(3).trim());
    expect(cmd).toEqual(['node', '-r', 'envmux/register', 'app.cjs']);
    // No secret baked into the image: no ENV/ARG that names one or holds one.
    for (const l of lines.filter((x) => /^(ENV|ARG)\s/i.test(x))) {
      expect(l).not.toMatch(/PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL/i);
    }
    expect(lines.some((l) => /^COPY\s.*secrets/i.test(l))).toBe(false);
    const manifest = readFileSync(join(repo, 'examples/docker/k8s.yaml'), 'utf8');
    expect(manifest).toContain('mountPath: /run/secrets');
    expect(manifest).toContain('runAsNonRoot: true');
  });

  it('sidecar: a curl script reads from envmux serve with its token', async () => {
    if (missing('curl or python3', !has('curl') || !has('python3'))) return;
    const r = await example('sidecar');
    expect(r.status, seen(r)).toBe(0);
    expect(r.stdout).toMatch(
      /envmux serve: listening on http:\/\/127\.0\.0\.1:\d+ \(token generated in \.\/\.envmux\/serve\.token; read-only\)/,
    );
    expect(r.stdout).toContain('ok=True providers=local,env');
    expect(r.stdout).toMatch(/db\/password \*\*\* \(24 chars, sha256 [0-9a-f]{8}\)/);
    expect(r.stdout).toContain('DATABASE_URL resolved, 51 chars');
    expect(r.stdout).toContain('API_TOKEN resolved, 32 chars');
    expect(r.stdout).toContain('HTTP 401');
    expect(r.stdout).toContain('envmux serve: SIGTERM, closing');
  }, 120_000);

  it('cli-tool: a CLI keeps its token in the local vault, and in pass', async () => {
    const r = await example('cli-tool');
    expect(r.status, seen(r)).toBe(0);
    const stores = [
      'local',
      ...(missing('pass and gpg', !has('pass') || !has('gpg')) ? [] : ['pass']),
    ];
    const prints = new Set<string>();
    for (const store of stores) {
      expect(r.stdout).toContain(`acme: logged in; token kept in ${store}`);
      const print = r.stdout.match(
        new RegExp(`acme: token (\\*\\*\\* \\(\\d+ chars, sha256 \\w+\\)) from ${store}`),
      );
      expect(print, r.stdout).not.toBeNull();
      prints.add(print![1]!);
      expect(r.stdout).toContain(`acme: logged out; token removed from ${store}`);
      expect(r.stdout).toContain(`acme: not logged in (no token in ${store}): run acme login`);
    }
    expect(prints.size).toBe(1);
    expect(r.stdout).toMatch(/=== keychain === (skipped|\n)/);
  }, 120_000);
});
