// The writers' lock: exclusive, released only by its holder, recovered from a dead holder or an
// over-age lock at once, and LOCKED (with the holder's pid) after the wait limit.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toEnvmuxError } from '../../../src/errors.js';
import { acquireLock } from '../../../src/providers/local/lock-file.js';

const lockPath = () => join(mkdtempSync(join(tmpdir(), 'envmux-lock-')), 'vault.json.lock');

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('writers lock', () => {
  it('is exclusive: a second taker waits until the first releases', async () => {
    const path = lockPath();
    const first = await acquireLock(path);
    let second = false;
    const waiting = acquireLock(path).then((held) => {
      second = true;
      return held;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(second).toBe(false);
    first.release();
    (await waiting).release();
    expect(second).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('is LOCKED, naming the holder, after the wait limit', async () => {
    const path = lockPath();
    const held = await acquireLock(path);
    try {
      await acquireLock(path, { timeout: 60, what: 'vault x' });
      expect.unreachable();
    } catch (error) {
      const e = toEnvmuxError(error);
      expect(e.code).toBe('LOCKED');
      expect(e.message).toContain(`pid ${process.pid}`);
      expect(e.message).toContain('vault x');
    }
    held.release();
  });

  it('breaks the lock of a holder that died, at once', async () => {
    const path = lockPath();
    writeFileSync(
      path,
      JSON.stringify({ pid: Number(deadPid()), host: hostname(), token: 'dead' }),
    );
    const started = Date.now();
    const held = await acquireLock(path, { timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    held.release();
  });

  it('breaks a lock older than staleMs whatever its pid (pid reuse, other hosts)', async () => {
    const path = lockPath();
    writeFileSync(path, JSON.stringify({ pid: process.pid, host: 'elsewhere', token: 'old' }));
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    const held = await acquireLock(path, { timeout: 5000, staleMs: 60_000 });
    held.release();
  });

  it('a release by a former holder whose lock was broken leaves the new holder’s lock alone', async () => {
    const path = lockPath();
    const first = await acquireLock(path);
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    const second = await acquireLock(path, { staleMs: 60_000 });
    first.release();
    expect(existsSync(path)).toBe(true);
    second.release();
    expect(existsSync(path)).toBe(false);
  });
});

describe('writes and the caller’s signal', () => {
  it('a write whose caller gave up while waiting for the lock never lands', async () => {
    const { makeVault } = await import('./vault-fixture.js');
    const v = await makeVault();
    const p = v.open();
    await p.set('a', 'one');
    const held = await acquireLock(`${v.path}.lock`);
    const controller = new AbortController();
    const pending = p.set('a', 'two', { signal: controller.signal });
    controller.abort();
    held.release();
    await expect(pending).rejects.toBeDefined();
    expect(v.open().getSync!('a')).toBe('one');
  });
});
