// `envmux rotate`: one secret with a grace period, --all --prefix with a dry run, --retire after the
// grace — against a local vault, printing names and versions, never a value.

import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/rotate.js';
import { makeVault } from '../providers/local/vault-fixture.js';

const OLD = 'old-cli-value-q1w2';

async function runCli(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  let err = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'envmux', 'rotate', ...args]);
  } finally {
    spy.mockRestore();
  }
  return err;
}

afterEach(() => {
  vi.unstubAllEnvs();
  process.exitCode = undefined;
});

describe('envmux rotate', () => {
  it('rotates one secret, keeps previous for the grace, and --retire removes it after', async () => {
    const v = await makeVault();
    for (const [k, value] of Object.entries(v.env)) vi.stubEnv(k, value);
    const vault = v.open();
    await vault.set('prod/db', OLD);
    await vault.set('prod/api', 'old-api-value-e3r4');
    await vault.set('dev/x', 'dev-value-t5y6');

    const dry = await runCli(['--all', '--prefix', 'prod/', '--dry-run', '--provider', 'local']);
    expect(dry).toBe(
      'envmux: would rotate "prod/api" in local\nenvmux: would rotate "prod/db" in local\n',
    );
    expect((await vault.versions('prod/db')).length).toBe(1);

    const out = await runCli(['prod/db', '--grace', '100ms', '--provider', 'local']);
    expect(out).toBe(
      'envmux: rotated "prod/db" in local (version 2); version 1 stays readable as previous for 100ms\n',
    );
    expect(await vault.get('prod/db', { version: 'previous' })).toBe(OLD);
    const fresh = await vault.get('prod/db');
    expect(out).not.toContain(fresh!);

    expect(await runCli(['--retire', '--provider', 'local'])).toBe('envmux: nothing to retire\n');
    await new Promise((r) => setTimeout(r, 150));
    expect(await runCli(['--retire', '--provider', 'local'])).toBe(
      'envmux: retired "prod/db" version 1 in local\n',
    );
    expect(await vault.get('prod/db', { version: 'previous' })).toBeUndefined();
    expect(process.exitCode).toBeUndefined();
  });

  it('--all without --prefix is refused', async () => {
    const out = await runCli(['--all']);
    expect(out).toMatch(/CONFIG: --all needs --prefix/);
    expect(process.exitCode).toBe(1);
  });
});
