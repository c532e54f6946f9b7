// The local vault on a bad filesystem: a full disk (ENOSPC) and a read-only one (EROFS) while
// writing. The bar: a clear, coded error naming the vault; nothing acknowledged lost; the vault
// still opens; no temp file left behind. Uses a small tmpfs (needs root to mount; CI is root).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { isEnvmuxError } from '../../src/errors.js';
import { initVault } from '../../src/providers/local/init.js';
import { local } from '../../src/providers/local/local.js';

function tryMount(size: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-fs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return r.status === 0 ? dir : undefined;
}

const probe = tryMount('64k');
if (probe) execFileSync('umount', [probe]);
const skip = probe
  ? undefined
  : 'cannot mount a tmpfs here (needs root): full-disk and read-only vault tests SKIPPED';
if (skip && process.env.ENVMUX_REQUIRE_SERVERS === '1') throw new Error(skip);
if (skip) console.warn(`\n*** ${skip} ***\n`);

const mounted: string[] = [];
afterEach(() => {
  for (const dir of mounted.splice(0)) spawnSync('umount', [dir]);
});

async function vaultOn(dir: string) {
  const path = join(dir, '.envmux', 'vault.json');
  const result = await initVault({ path });
  result.key.fill(0);
  const env = { ENVMUX_VAULT_PATH: path };
  return { path, open: () => local({ env, cwd: dir, audit: { log: new AuditLog(10) } }) };
}

describe.skipIf(skip)('vault writes on a bad filesystem', () => {
  it('a full disk: a coded error naming the vault, every acknowledged write kept, no temp file', async () => {
    const dir = tryMount('256k')!;
    mounted.push(dir);
    const vault = await vaultOn(dir);
    const store = vault.open();
    const acknowledged: string[] = [];
    let failure: unknown;
    for (let i = 0; i < 400 && !failure; i++) {
      try {
        await store.set(`s${i}`, 'x'.repeat(2000), {});
        acknowledged.push(`s${i}`);
      } catch (error) {
        failure = error;
      }
    }
    expect(failure, 'the disk never filled').toBeDefined();
    expect(isEnvmuxError(failure)).toBe(true);
    const e = failure as Error & { code: string };
    expect(e.message).toContain(vault.path);
    expect(e.message).not.toMatch(/\n\s+at /);
    expect(['UNAVAILABLE', 'ACCESS_DENIED', 'CONFIG']).toContain(e.code);
    const reopened = vault.open();
    for (const name of acknowledged) expect(await reopened.get(name, {})).toBe('x'.repeat(2000));
    expect(readdirSync(join(dir, '.envmux')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a read-only filesystem: writes fail clearly, reads go on', async () => {
    const dir = tryMount('256k')!;
    mounted.push(dir);
    const vault = await vaultOn(dir);
    await vault.open().set('db/password', 'before-ro', {});
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    const store = vault.open();
    const error = await store.set('db/password', 'after-ro', {}).catch((e) => e);
    expect(isEnvmuxError(error)).toBe(true);
    expect(error.message).toContain(vault.path);
    expect(error.message).not.toContain('after-ro');
    expect(await store.get('db/password', {})).toBe('before-ro');
    expect(() => writeFileSync(join(dir, 'probe'), 'x')).toThrow(/EROFS/);
  });
});
