// Packs envmux once per run (`npm pack` runs the build) and installs the tarball into a fresh
// consumer project, as a new user would. Tests create their cases below that project.

import { type ExecFileSyncOptions, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    consumerDir: string;
  }
}

export default function setup(project: TestProject) {
  const root = mkdtempSync(join(tmpdir(), 'envmux-e2e-'));
  const repo = resolve(import.meta.dirname, '../..');
  const quiet: ExecFileSyncOptions = {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, npm_config_loglevel: 'error' },
  };
  execFileSync('npm', ['pack', '--pack-destination', root], { cwd: repo, ...quiet });
  const tarball = readdirSync(root).find((f) => f.endsWith('.tgz'))!;
  const consumer = join(root, 'consumer');
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', join(root, tarball), 'zod@^4'], {
    cwd: consumer,
    ...quiet,
  });
  project.provide('consumerDir', consumer);
  return () => rmSync(root, { recursive: true, force: true });
}
