// Where a vault's key comes from, in order: explicit options, else ENVMUX_VAULT_KEY ›
// ENVMUX_VAULT_KEY_FILE or the key file beside the vault › an unlock session ›
// ENVMUX_VAULT_PASSPHRASE (Argon2id, once per process). Every key is verified against the header's
// check value before use. Never puts a key or passphrase in an error, a log or the audit.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { EnvmuxError } from '../../errors.js';
import { fileSystemProblem } from '../../files/fs-problem.js';
import { verifyCheck, wrongKey } from './cipher.js';
import type { VaultHeader } from './format.js';
import { shownPath } from './format.js';
import { canDeriveSync, derivedKeySlot, deriveKey, deriveKeySync, passphraseBytes } from './kdf.js';
import { keyFileFrom, nextKeyFile } from './paths.js';
import { hasSession, readSession } from './session.js';

type Env = Record<string, string | undefined>;

/** What the provider was told about its key. */
export interface KeySettings {
  /** A raw 256-bit key: 32 bytes, or text (base64, base64url or 64 hex digits). */
  key?: string | Uint8Array;
  /** A file holding the raw key as text. */
  keyFile?: string;
  /** A passphrase, stretched with the header's Argon2id parameters. */
  passphrase?: string;
  /** Environment read when none of the three above is given. */
  env: Env;
  cwd: string;
  vaultPath: string;
  /** Use `envmux vault unlock` sessions (default true). */
  session: boolean;
  /** Accept a key file that group or others can read (ENVMUX_VAULT_INSECURE_KEY_FILE=1). */
  insecureKeyFile: boolean;
  provider?: string;
}

/** A key that opened the header, and where it came from (for messages, never the key). */
export interface OpenedKey {
  key: Buffer;
  source: string;
}

/** A candidate key, tried in order. `derive` marks a passphrase. */
type Candidate =
  | { kind: 'raw'; source: string; load: () => Buffer | undefined; fallback?: Candidate }
  | { kind: 'passphrase'; source: string; passphrase: string };

/** Parse a raw key written as text. Throws CONFIG (without echoing the text) when it is not 32 bytes. */
export function parseRawKey(text: string | Uint8Array, what: string): Buffer {
  if (typeof text !== 'string') {
    if (text.length === 32) return Buffer.from(text);
    throw new EnvmuxError('CONFIG', `${what} is ${text.length} bytes; a vault key is 32 bytes`);
  }
  const trimmed = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  if (key?.length !== 32) {
    throw new EnvmuxError('CONFIG', `${what} is not a 256-bit key (base64 or 64 hex digits)`, {
      hint: 'make one with `openssl rand -base64 32`, or let `envmux vault init` write a key file',
    });
  }
  return key;
}

/** Text of a raw key as key files hold it. */
export function formatRawKey(key: Uint8Array): string {
  return `${Buffer.from(key).toString('base64')}\n`;
}

/** Read a key file, refusing one that group or others can read unless told otherwise. */
export function readKeyFile(path: string, insecure: boolean): Buffer {
  let text: string;
  try {
    if (process.platform !== 'win32' && !insecure) checkKeyFileMode(path);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw fileSystemProblem(error, 'key file', shownPath(path), { file: path });
  }
  return parseRawKey(text, `key file ${shownPath(path)}`);
}

/** Refuse a key file that group or others can read (POSIX). */
function checkKeyFileMode(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new EnvmuxError(
      'CONFIG',
      `key file ${shownPath(path)} can be read by group or others (mode ${mode.toString(8).padStart(4, '0')})`,
      {
        file: path,
        hint: `run chmod 600 ${shownPath(path)}, or set ENVMUX_VAULT_INSECURE_KEY_FILE=1 to accept it`,
      },
    );
  }
}

function keyFileCandidate(
  path: string,
  settings: KeySettings,
  required: boolean,
): Candidate | undefined {
  // A database vault has no key file beside it.
  if (!path) return undefined;
  const next = nextKeyFile(path);
  const nextCandidate: Candidate | undefined = existsSync(next)
    ? {
        kind: 'raw',
        source: `key file ${shownPath(next)} (an interrupted key rotation)`,
        load: () => readKeyFile(next, settings.insecureKeyFile),
      }
    : undefined;
  if (!existsSync(path)) {
    if (nextCandidate) return nextCandidate;
    if (!required) return undefined;
    throw new EnvmuxError('CONFIG', `key file ${shownPath(path)} does not exist`, {
      file: path,
      provider: settings.provider,
    });
  }
  return {
    kind: 'raw',
    source: `key file ${shownPath(path)}`,
    load: () => readKeyFile(path, settings.insecureKeyFile),
    fallback: nextCandidate,
  };
}

/** The candidates this configuration offers, in order (the first present one is used). */
function candidates(settings: KeySettings, header: VaultHeader): Candidate[] {
  const { env } = settings;
  const out: Candidate[] = [];
  const explicit =
    settings.key !== undefined ||
    settings.keyFile !== undefined ||
    settings.passphrase !== undefined;
  if (explicit) {
    if (settings.key !== undefined) {
      const key = settings.key;
      out.push({
        kind: 'raw',
        source: 'the key option',
        load: () => parseRawKey(key, 'the key option'),
      });
    }
    if (settings.keyFile !== undefined) {
      const c = keyFileCandidate(
        keyFileFrom({}, settings.vaultPath, settings.cwd, settings.keyFile),
        settings,
        true,
      );
      if (c) out.push(c);
    }
    if (settings.passphrase !== undefined) {
      out.push({
        kind: 'passphrase',
        source: 'the passphrase',
        passphrase: settings.passphrase,
      });
    }
    return out;
  }
  if (env.ENVMUX_VAULT_KEY) {
    const text = env.ENVMUX_VAULT_KEY;
    out.push({
      kind: 'raw',
      source: 'ENVMUX_VAULT_KEY',
      load: () => parseRawKey(text, 'ENVMUX_VAULT_KEY'),
    });
  }
  const keyFile = keyFileCandidate(
    keyFileFrom(env, settings.vaultPath, settings.cwd),
    settings,
    !!env.ENVMUX_VAULT_KEY_FILE,
  );
  if (keyFile) out.push(keyFile);
  if (settings.session) {
    out.push({
      kind: 'raw',
      source: 'the unlock session',
      load: () => readSession(settings.vaultPath, header.check, env),
    });
  }
  if (env.ENVMUX_VAULT_PASSPHRASE) {
    out.push({
      kind: 'passphrase',
      source: 'ENVMUX_VAULT_PASSPHRASE',
      passphrase: env.ENVMUX_VAULT_PASSPHRASE,
    });
  }
  return out;
}

function noKey(settings: KeySettings, header: VaultHeader): EnvmuxError {
  const path = shownPath(settings.vaultPath);
  if (header.kdf.name === 'argon2id') {
    return new EnvmuxError(
      'LOCKED',
      `vault ${path} is locked (passphrase vault, no key or passphrase given)`,
      {
        file: settings.vaultPath,
        provider: settings.provider,
        hint: 'run `envmux vault unlock`, or set ENVMUX_VAULT_PASSPHRASE (or ENVMUX_VAULT_KEY to its derived key)',
      },
    );
  }
  const named = keyFileFrom(settings.env, settings.vaultPath, settings.cwd);
  if (!named) {
    return new EnvmuxError('CONFIG', `vault ${path} cannot be opened: no key given`, {
      provider: settings.provider,
      hint: 'set ENVMUX_VAULT_KEY, ENVMUX_VAULT_KEY_FILE or ENVMUX_VAULT_PASSPHRASE on this server',
    });
  }
  const keyFile = shownPath(named);
  return new EnvmuxError(
    'CONFIG',
    `vault ${path} cannot be opened: no key (${keyFile} does not exist and ENVMUX_VAULT_KEY is not set)`,
    {
      file: settings.vaultPath,
      provider: settings.provider,
      hint: `put the vault's key in ${keyFile} (chmod 600) or set ENVMUX_VAULT_KEY; \`envmux vault list\` checks that it opens`,
    },
  );
}

function notPassphraseVault(settings: KeySettings, source: string): EnvmuxError {
  return new EnvmuxError(
    'CONFIG',
    `vault ${shownPath(settings.vaultPath)} opens with a raw key, but ${source} gives a passphrase`,
    {
      file: settings.vaultPath,
      provider: settings.provider,
      hint: 'give its key (ENVMUX_VAULT_KEY / key file), or switch it to a passphrase with `envmux vault rotate-key --passphrase`',
    },
  );
}

/** Try a raw candidate (and its fallback): the key, `undefined` if absent; throws on a wrong key. */
function tryRaw(
  candidate: Extract<Candidate, { kind: 'raw' }>,
  header: VaultHeader,
  settings: KeySettings,
): OpenedKey | undefined {
  const key = candidate.load();
  if (!key) return undefined;
  if (verifyCheck(key, header)) return { key, source: candidate.source };
  key.fill(0);
  if (candidate.fallback?.kind === 'raw') {
    const fallback = tryRaw(candidate.fallback, header, settings);
    if (fallback) return fallback;
  }
  throw wrongKey(settings.vaultPath, candidate.source, settings.provider);
}

/**
 * The first raw key this configuration offers (the key option, ENVMUX_VAULT_KEY, the key file),
 * unverified: for files sealed with the vault's envelope that have no vault header to check it
 * against yet (the last-known-good copy). `undefined` when none is configured.
 */
export function rawKeyFromSources(settings: KeySettings): OpenedKey | undefined {
  const probe: VaultHeader = {
    envmux: 'vault',
    format: 1,
    id: '',
    kdf: { name: 'none' },
    check: '',
  };
  for (const candidate of candidates({ ...settings, session: false }, probe)) {
    if (candidate.kind !== 'raw') continue;
    const key =
      candidate.load() ??
      (candidate.fallback?.kind === 'raw' ? candidate.fallback.load() : undefined);
    if (key) return { key, source: candidate.source };
  }
  return undefined;
}

/**
 * The key, synchronously: `null` when only an Argon2id derivation this runtime cannot run
 * synchronously would give it (then use {@link openKey}). Throws `DECRYPTION_FAILED` for a wrong
 * key, `LOCKED`/`CONFIG` when there is none.
 */
export function openKeySync(header: VaultHeader, settings: KeySettings): OpenedKey | null {
  for (const candidate of candidates(settings, header)) {
    if (candidate.kind === 'raw') {
      const opened = tryRaw(candidate, header, settings);
      if (opened) return opened;
      continue;
    }
    if (header.kdf.name !== 'argon2id') throw notPassphraseVault(settings, candidate.source);
    const password = passphraseBytes(candidate.passphrase);
    const params = header.kdf;
    const key = deriveKeySync(
      derivedKeySlot(settings.vaultPath, params, password),
      password,
      params,
      (k) => verifyCheck(k, header),
    );
    password.fill(0);
    if (key === null) return null;
    if (!key) throw wrongKey(settings.vaultPath, candidate.source, settings.provider);
    return { key: Buffer.from(key), source: candidate.source };
  }
  throw noKey(settings, header);
}

/** The key, deriving from a passphrase asynchronously where needed (once per process). */
export async function openKey(header: VaultHeader, settings: KeySettings): Promise<OpenedKey> {
  const sync = openKeySync(header, settings);
  if (sync) return sync;
  const candidate = candidates(settings, header).find((c) => c.kind === 'passphrase');
  if (candidate?.kind !== 'passphrase' || header.kdf.name !== 'argon2id')
    throw noKey(settings, header);
  const password = passphraseBytes(candidate.passphrase);
  const params = header.kdf;
  const key = await deriveKey(
    derivedKeySlot(settings.vaultPath, params, password),
    password,
    params,
    (k) => verifyCheck(k, header),
  );
  password.fill(0);
  if (!key) throw wrongKey(settings.vaultPath, candidate.source, settings.provider);
  return { key: Buffer.from(key), source: candidate.source };
}

/**
 * Whether opening may need an asynchronous Argon2id derivation (judged from settings alone, before
 * the vault is read): the register preload then resolves in its worker.
 */
export function mayNeedAsyncUnlock(settings: KeySettings): boolean {
  if (canDeriveSync()) return false;
  const { env } = settings;
  const explicit =
    settings.key !== undefined ||
    settings.keyFile !== undefined ||
    settings.passphrase !== undefined;
  if (explicit) return settings.key === undefined && settings.keyFile === undefined;
  if (env.ENVMUX_VAULT_KEY) return false;
  const keyFile = keyFileFrom(env, settings.vaultPath, settings.cwd);
  if (keyFile && (existsSync(keyFile) || existsSync(nextKeyFile(keyFile)))) return false;
  if (settings.session && hasSession(settings.vaultPath, env)) return false;
  return !!env.ENVMUX_VAULT_PASSPHRASE;
}
