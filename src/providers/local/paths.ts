// Where the local vault and its key live by default, and the cheap presence checks auto-detection
// runs on every start. Touches the file system only with stat calls; never reads a key.

import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';

type Env = Record<string, string | undefined>;

/** The vault file when nothing says otherwise, relative to the project (cwd). */
export const DEFAULT_VAULT_PATH = join('.envmux', 'vault.json');

/** The vault file: `ENVMUX_VAULT_PATH`, else `.envmux/vault.json` under `cwd`. Absolute. */
export function vaultPathFrom(env: Env, cwd: string = process.cwd(), explicit?: string): string {
  return resolve(cwd, explicit || env.ENVMUX_VAULT_PATH || DEFAULT_VAULT_PATH);
}

/** The key file that sits beside a vault: `vault.json` → `vault.key` (none beside a database URL). */
export function keyFileBeside(vaultPath: string): string {
  if (/^postgres(ql)?:\/\//i.test(vaultPath)) return '';
  return join(dirname(vaultPath), `${basename(vaultPath, extname(vaultPath))}.key`);
}

/** The key file: `ENVMUX_VAULT_KEY_FILE`, else the one beside the vault. Absolute. */
export function keyFileFrom(
  env: Env,
  vaultPath: string,
  cwd: string = process.cwd(),
  explicit?: string,
): string {
  const named = explicit || env.ENVMUX_VAULT_KEY_FILE;
  if (named) return resolve(cwd, named);
  return keyFileBeside(vaultPath);
}

/** Where a key file's replacement is staged during a key rotation (see rotate-key). */
export function nextKeyFile(keyFile: string): string {
  return `${keyFile}.next`;
}

/** The lock file writers hold while they replace the vault. */
export function lockFileOf(vaultPath: string): string {
  return `${vaultPath}.lock`;
}

/** The JSON-lines audit file kept beside a vault when enabled. */
export function auditFileBeside(vaultPath: string): string {
  return join(dirname(vaultPath), 'audit.jsonl');
}

/**
 * Whether auto-detection should put `local` in the chain: a vault file **and** a key (docs/architecture.md, "Provider chain"):
 * `ENVMUX_VAULT_KEY`, `ENVMUX_VAULT_PASSPHRASE`, a key file, or an unlocked session. Returns the
 * reason, or `undefined`.
 */
export function detectLocalVault(
  env: Env,
  cwd: string = process.cwd(),
  hasSession?: (vaultPath: string) => boolean,
): string | undefined {
  if (!env.ENVMUX_VAULT_PATH && /^postgres(ql)?:\/\//i.test(env.ENVMUX_VAULT_URL ?? '')) {
    // A database vault: its key must be given (no key file sits beside a URL).
    if (env.ENVMUX_VAULT_KEY) return 'ENVMUX_VAULT_URL and ENVMUX_VAULT_KEY are set';
    if (env.ENVMUX_VAULT_KEY_FILE) return 'ENVMUX_VAULT_URL and ENVMUX_VAULT_KEY_FILE are set';
    if (env.ENVMUX_VAULT_PASSPHRASE) return 'ENVMUX_VAULT_URL and ENVMUX_VAULT_PASSPHRASE are set';
    return undefined;
  }
  const vaultPath = vaultPathFrom(env, cwd);
  if (!existsSync(vaultPath)) return undefined;
  const shown = env.ENVMUX_VAULT_PATH ? 'ENVMUX_VAULT_PATH' : DEFAULT_VAULT_PATH;
  if (env.ENVMUX_VAULT_KEY) return `${shown} exists and ENVMUX_VAULT_KEY is set`;
  if (env.ENVMUX_VAULT_PASSPHRASE) return `${shown} exists and ENVMUX_VAULT_PASSPHRASE is set`;
  const keyFile = keyFileFrom(env, vaultPath, cwd);
  if (existsSync(keyFile) || existsSync(nextKeyFile(keyFile))) {
    return `${shown} exists with its key file`;
  }
  if (hasSession?.(vaultPath)) return `${shown} exists and is unlocked (envmux vault unlock)`;
  return undefined;
}

/**
 * A vault file that is present but that auto-detection leaves out of the chain's front, for want
 * of a key (a fresh clone, a locked passphrase vault). Returns the reason, or `undefined`. The
 * chain then ends with `local`, so a reference no other store holds reports what the vault lacks
 * (which file, which variable) instead of NOT_FOUND (docs/architecture.md, "Provider chain").
 */
export function localVaultWithoutKey(
  env: Env,
  cwd: string = process.cwd(),
  hasSession?: (vaultPath: string) => boolean,
): string | undefined {
  const vaultPath = vaultPathFrom(env, cwd);
  if (!existsSync(vaultPath) || detectLocalVault(env, cwd, hasSession)) return undefined;
  const shown = env.ENVMUX_VAULT_PATH ? 'ENVMUX_VAULT_PATH' : DEFAULT_VAULT_PATH;
  return `${shown} exists but no key opens it here: asked last, to say so`;
}
