// Helpers for end-to-end tests: a case folder inside the consumer project (so `envmux` resolves
// from its node_modules), and processes started with the Node under test (ENVMUX_TEST_NODE).

import { execFileSync, type SpawnSyncOptions, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inject } from 'vitest';

/** The Node binary under test: the machine's, or ENVMUX_TEST_NODE (CI runs 20, 22 and 24). */
export const nodeBin = process.env.ENVMUX_TEST_NODE || process.execPath;

/** A fresh folder inside the consumer project holding `files` (path → content). */
export function makeCase(files: Record<string, string>): string {
  const dir = mkdtempSync(join(inject('consumerDir'), 'case-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** An environment without this machine's envmux or Node settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      k.startsWith('ENVMUX_') ||
      k.startsWith('DOTENV_') ||
      k === 'NODE_OPTIONS' ||
      k.startsWith('VITEST') ||
      k === 'NODE_ENV'
    )
      continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the Node under test with `args` in `cwd`. */
export function runNode(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  options: SpawnSyncOptions = {},
): Run {
  const r = spawnSync(nodeBin, args, {
    cwd,
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 30_000,
    ...options,
  });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Run the installed `envmux` bin (through the Node under test). */
export function runCli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  options: SpawnSyncOptions = {},
): Run {
  return runNode(
    [join(inject('consumerDir'), 'node_modules/envmux/dist/cli.cjs'), ...args],
    cwd,
    env,
    options,
  );
}

/**
 * `runNode` without blocking this process: for tests whose loopback server answers from this
 * process's event loop, which `spawnSync` would freeze.
 */
export function runNodeAsync(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBin, args, { cwd, env: cleanEnv(env), timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * A project of its own beside the shared consumer: envmux from the same tarball plus `packages`
 * (e.g. the one SDK a provider needs), installed from the registry. Returns its folder.
 */
export function installProject(name: string, packages: string[]): string {
  const root = dirname(inject('consumerDir'));
  const tarball = readdirSync(root).find((f) => f.endsWith('.tgz'))!;
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, private: true, version: '1.0.0' }),
  );
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', join(root, tarball), ...packages],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, npm_config_loglevel: 'error' },
    },
  );
  return dir;
}

/** Write `files` into a folder `name` below `dir`; returns it. */
export function writeCase(dir: string, name: string, files: Record<string, string>): string {
  const target = join(dir, name);
  mkdirSync(target, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(target, file), content);
  return target;
}
