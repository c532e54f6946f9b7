// Crash safety of `envmux migrate`: the command is killed with SIGKILL at random points of its
// uploads, many times. Afterwards the manifest is absent or whole, and the way back the docs give
// (run it again, then `--rollback --delete-uploaded`) restores the file byte for byte and leaves no
// secret the migration created in the store.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { cleanEnv, makeCase, nodeBin, runCli } from '../e2e/consumer.js';

const KEYS = 80;
const ENV_TEXT = `${Array.from({ length: KEYS }, (_, i) => `K${i}_PASSWORD=LeakCanary-${i}-Zq`).join('\n')}\nPORT=3000\n`;

function project(): string {
  const dir = makeCase({ '.env': ENV_TEXT });
  const init = runCli(['vault', 'init'], dir);
  expect(init.status, init.stderr).toBe(0);
  return dir;
}

/** Start `envmux migrate .env --to local`, kill it after `ms` (if it is still running). */
async function migrateKilledAfter(dir: string, ms: number): Promise<number> {
  const cli = join(inject('consumerDir'), 'node_modules/envmux/dist/cli.cjs');
  const started = Date.now();
  const child = spawn(nodeBin, [cli, 'migrate', '.env', '--to', 'local'], {
    cwd: dir,
    env: cleanEnv(),
    stdio: 'ignore',
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await new Promise((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return Date.now() - started;
}

const storedNames = (dir: string) => {
  const r = runCli(['vault', 'list'], dir);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.match(/K\d+_PASSWORD/g) ?? [];
};

describe('envmux migrate under kill -9', () => {
  it('leaves a whole manifest, and a rollback restores the file and deletes every secret it created', async () => {
    // How long an uninterrupted migration takes here: the kills land across its run.
    const full = await migrateKilledAfter(project(), 60_000);
    let interrupted = 0;
    for (let round = 0; round < 12; round++) {
      const dir = project();
      await migrateKilledAfter(dir, full * (0.3 + 0.7 * Math.random()));
      const manifestPath = join(dir, '.env.envmux-migrate.json');
      if (existsSync(manifestPath)) {
        // Whole: the status and the list of names this run created (or was about to).
        const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
        expect(manifest.version).toBe(1);
        if (manifest.status === 'uploading') interrupted++;
        // Half of the rounds first run it again, as the docs say, to finish the migration.
        if (round % 2) {
          const again = runCli(['migrate', '.env', '--to', 'local'], dir);
          expect(again.stderr).not.toMatch(/at .*\.c?js:\d+/); // no stack trace
        }
        const back = runCli(['migrate', '.env', '--rollback', '--delete-uploaded'], dir);
        expect(back.status, back.stderr).toBe(0);
      }
      expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(ENV_TEXT);
      expect(storedNames(dir)).toEqual([]);
    }
    // At least one kill landed while secrets were being uploaded.
    expect(interrupted).toBeGreaterThan(0);
  }, 240_000);
});
