// Unlock sessions (`envmux vault unlock`): a passphrase vault's derived key kept for a while in a
// private per-user runtime folder, so later processes open the vault without Argon2id and without
// the passphrase. Removed by `envmux vault lock`, and ignored (and removed) after `idle` ms unused.
// Never holds a passphrase; refuses a folder another user owns or others can read.

import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { nodeCrypto } from '../../crypto/lazy-crypto.js';
import { EnvmuxError } from '../../errors.js';
import { writeFileAtomicSync } from '../../files/atomic-write.js';

type Env = Record<string, string | undefined>;

/** Default inactivity after which a session no longer opens the vault. */
export const DEFAULT_SESSION_IDLE_MS = 15 * 60_000;

interface SessionFile {
  vault: string;
  /** The header's key check value when unlocked: a rotated key makes the session stale. */
  check: string;
  key: string;
  idle: number;
}

/** The folder sessions live in: `ENVMUX_VAULT_SESSION_DIR`, else `$XDG_RUNTIME_DIR/envmux`, else a per-user temp folder. */
export function sessionDir(env: Env = process.env): string {
  if (env.ENVMUX_VAULT_SESSION_DIR) return env.ENVMUX_VAULT_SESSION_DIR;
  if (env.XDG_RUNTIME_DIR && existsSync(env.XDG_RUNTIME_DIR))
    return join(env.XDG_RUNTIME_DIR, 'envmux');
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  const { tmpdir } = process.getBuiltinModule('node:os') as typeof import('node:os');
  return join(tmpdir(), `envmux-${uid}`);
}

/** The session file of a vault (named by a hash of its absolute path). */
export function sessionFile(vaultPath: string, env: Env = process.env): string {
  const id = nodeCrypto().createHash('sha256').update(vaultPath).digest('hex').slice(0, 32);
  return join(sessionDir(env), `${id}.session.json`);
}

/** Whether a session that has not gone idle exists for the vault (cheap: stat and parse). */
export function hasSession(vaultPath: string, env: Env = process.env, now = Date.now()): boolean {
  const file = sessionFile(vaultPath, env);
  try {
    const { idle } = JSON.parse(readFileSync(file, 'utf8')) as SessionFile;
    return now - statSync(file).mtimeMs <= idle;
  } catch {
    return false;
  }
}

/** Whether the folder is ours alone (POSIX); Windows keeps temp folders per user. */
function privateDir(dir: string): boolean {
  if (process.platform === 'win32') return true;
  const stat = statSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : stat.uid;
  return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0;
}

/** Store the derived key of an unlocked vault. */
export function writeSession(
  vaultPath: string,
  check: string,
  key: Uint8Array,
  idleMs: number,
  env: Env = process.env,
): string {
  const dir = sessionDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!privateDir(dir)) {
    throw new EnvmuxError('CONFIG', `the session folder ${dir} is not private to this user`, {
      hint: 'chmod 700 it, or set ENVMUX_VAULT_SESSION_DIR to a private folder',
    });
  }
  const file = sessionFile(vaultPath, env);
  const body: SessionFile = {
    vault: vaultPath,
    check,
    key: Buffer.from(key).toString('base64'),
    idle: idleMs,
  };
  writeFileAtomicSync(file, `${JSON.stringify(body)}\n`);
  return file;
}

/** Remove a vault's session; true when there was one. */
export function removeSession(vaultPath: string, env: Env = process.env): boolean {
  const file = sessionFile(vaultPath, env);
  if (!existsSync(file)) return false;
  rmSync(file, { force: true });
  return true;
}

/**
 * The key of a live session for this vault and header, refreshing its idle clock; `undefined` (and
 * the file removed) when there is none, it went idle, or the vault's key changed since.
 */
export function readSession(
  vaultPath: string,
  check: string,
  env: Env = process.env,
  now = Date.now(),
): Buffer | undefined {
  const file = sessionFile(vaultPath, env);
  let text: string;
  let mtime: number;
  try {
    const stat = statSync(file);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) return undefined;
    if (!privateDir(sessionDir(env))) return undefined;
    mtime = stat.mtimeMs;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let session: SessionFile;
  try {
    session = JSON.parse(text) as SessionFile;
  } catch {
    rmSync(file, { force: true });
    return undefined;
  }
  if (session.vault !== vaultPath || session.check !== check || now - mtime > session.idle) {
    rmSync(file, { force: true });
    return undefined;
  }
  const key = Buffer.from(session.key, 'base64');
  if (key.length !== 32) return undefined;
  try {
    const at = new Date(now);
    utimesSync(file, at, at);
  } catch {}
  return key;
}
