// Fixtures for the local vault tests: a fresh vault in a temp folder, cheap Argon2id parameters for
// passphrase vaults, and line-level edits of the vault file (as a tamperer would make them).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { initVault } from '../../../src/providers/local/init.js';
import { type LocalProviderOptions, local } from '../../../src/providers/local/local.js';

/** Argon2id parameters that cost milliseconds, for tests only. */
export const CHEAP_KDF = { memory: 256, iterations: 1, parallelism: 1 };

export interface TestVault {
  dir: string;
  path: string;
  keyFile: string;
  sessionDir: string;
  /** An environment that points at this vault and nothing else. */
  env: Record<string, string>;
  /** A provider on this vault (options over the fixture's). */
  open(options?: LocalProviderOptions): ReturnType<typeof local>;
}

/** A new vault: a generated key file by default, or a passphrase one. */
export async function makeVault(kind: { passphrase?: string } = {}): Promise<TestVault> {
  const dir = mkdtempSync(join(tmpdir(), 'envmux-vault-'));
  const path = join(dir, '.envmux', 'vault.json');
  const result = await initVault({
    path,
    ...(kind.passphrase !== undefined ? { passphrase: kind.passphrase, kdf: CHEAP_KDF } : {}),
  });
  result.key.fill(0);
  const sessionDir = join(dir, 'sessions');
  const env: Record<string, string> = {
    ENVMUX_VAULT_PATH: path,
    ENVMUX_VAULT_SESSION_DIR: sessionDir,
    ...(kind.passphrase !== undefined ? { ENVMUX_VAULT_PASSPHRASE: kind.passphrase } : {}),
  };
  return {
    dir,
    path,
    keyFile: join(dir, '.envmux', 'vault.key'),
    sessionDir,
    env,
    open: (options = {}) => local({ env, cwd: dir, audit: { log: new AuditLog(100) }, ...options }),
  };
}

/** The vault file as objects: element 0 is the header, then one record per line. */
export function readLines(path: string): Record<string, any>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('[') || line.startsWith(','))
    .map((line) => JSON.parse(line.slice(1)));
}

/** Write objects back in the file's layout (no canonicalisation: edits stay as made). */
export function writeLines(path: string, items: Record<string, any>[]): void {
  const lines = items.map((item, i) => `${i === 0 ? '[' : ','}${JSON.stringify(item)}`);
  writeFileSync(path, `${lines.join('\n')}\n]\n`);
}

/** Apply `edit` to the parsed lines and write them back. */
export function editLines(path: string, edit: (items: Record<string, any>[]) => void): void {
  const items = readLines(path);
  edit(items);
  writeLines(path, items);
}
