// Helpers for end-to-end tests: a case folder inside the consumer project (so `envmux` resolves
// from its node_modules), and processes started with the Node under test (ENVMUX_TEST_NODE).

import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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
