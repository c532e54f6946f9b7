// `keychain` provider: the OS credential store (macOS Keychain, Windows Credential Manager, Linux
// Secret Service) through the optional peer @napi-rs/keyring, loaded on first use. Never logs a value.

import { EnvmuxError } from '../../errors.js';
import { monotonicMs } from '../../resolver/clock.js';
import { importLibOnce } from '../import-lib.js';
import type { HealthResult, Provider, SecretInfo } from '../provider.js';

/** The npm package this provider loads. */
export const KEYCHAIN_PACKAGES = ['@napi-rs/keyring'] as const;

/** The part of `@napi-rs/keyring` (2.x) this provider uses. */
export interface KeyringLib {
  AsyncEntry: new (
    service: string,
    account: string,
    options?: { linux?: { store?: 'secret-service' | 'keyutils' } },
  ) => {
    getPassword(signal?: AbortSignal): Promise<string | null>;
    setPassword(password: string, signal?: AbortSignal): Promise<void>;
    deletePassword(signal?: AbortSignal): Promise<boolean>;
  };
  findCredentialsAsync?(
    service: string,
    target?: string | null,
    signal?: AbortSignal,
  ): Promise<Array<{ account: string; password: string }>>;
}

export interface KeychainProviderOptions {
  /** Chain id; default `keychain`. */
  id?: string;
  /**
   * The service every entry is stored under (its account is the secret's name): the app's name, so
   * apps do not read each other's entries by accident; default `ENVMUX_KEYCHAIN_SERVICE`, else `envmux`.
   */
  service?: string;
  /**
   * Linux only: the store — `secret-service` (GNOME Keyring, KWallet, KeePassXC over D-Bus) or
   * `keyutils` (the kernel keyring, lost on reboot). Default `ENVMUX_KEYCHAIN_STORE`, else
   * `secret-service`: without one running, calls fail (`UNAVAILABLE`) rather than fall back to
   * keyutils without a word.
   */
  linuxStore?: 'secret-service' | 'keyutils';
  /** Cache TTL for this provider's values, in ms. */
  ttl?: number;
  /** The `@napi-rs/keyring` module, handed in (bundlers, tests). */
  lib?: KeyringLib | { default: KeyringLib };
  /** Environment for the defaults above; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Secrets from the OS keychain: entry (`service`, name). `get`, `set`, `delete`; `list` through
 * the binding's credential search (names only; the values it returns are dropped at once).
 */
export function keychain(options: KeychainProviderOptions = {}): Provider {
  const id = options.id ?? 'keychain';
  const env = options.env ?? process.env;
  const service = options.service ?? (env.ENVMUX_KEYCHAIN_SERVICE || 'envmux');
  const linuxStore = options.linuxStore ?? linuxStoreFrom(env.ENVMUX_KEYCHAIN_STORE);
  const entryOptions = { linux: { store: linuxStore } } as const;
  const load = importLibOnce<KeyringLib | { default: KeyringLib }>(
    id,
    '@napi-rs/keyring',
    options.lib,
    () => import('@napi-rs/keyring') as Promise<KeyringLib | { default: KeyringLib }>,
  );
  const lib = async (): Promise<KeyringLib> => {
    const mod = await load();
    return 'AsyncEntry' in mod ? mod : mod.default;
  };

  const check = (name: string) => {
    if (name === '' || name.length > 1024 || /[\u0000-\u001f]/.test(name)) {
      throw new EnvmuxError('INVALID_REFERENCE', `"${name}" is not a keychain entry name`, {
        provider: id,
        hint: 'a non-empty name without control characters',
      });
    }
  };

  /** The binding's errors say which platform call failed; only that kind reaches the message. */
  const mapped = (error: unknown, action: string): EnvmuxError => {
    const text = error instanceof Error ? error.message : String(error);
    const [code, why] = /Ambiguous|more than one/i.test(text)
      ? (['INVALID_REFERENCE', 'several keychain entries match'] as const)
      : /dismissed|locked|cancel/i.test(text)
        ? (['LOCKED', 'the keychain is locked (or its unlock prompt was dismissed)'] as const)
        : /denied|NoStorageAccess/i.test(text)
          ? (['ACCESS_DENIED', 'the keychain refused access'] as const)
          : /encoding|utf-?8/i.test(text)
            ? (['DECRYPTION_FAILED', 'the stored entry is not UTF-8 text'] as const)
            : (['UNAVAILABLE', 'the keychain is not reachable'] as const);
    return new EnvmuxError(code, `keychain ${action}: ${why}`, {
      provider: id,
      hint:
        process.platform === 'linux'
          ? 'a Secret Service (gnome-keyring, KWallet) must run on the D-Bus session bus, unlocked'
          : 'unlock the keychain and allow access',
    });
  };

  const entry = async (name: string) => {
    check(name);
    const { AsyncEntry } = await lib();
    try {
      // Opens the platform store (on Linux, the D-Bus connection): throws when there is none.
      return new AsyncEntry(service, name, entryOptions);
    } catch (error) {
      throw mapped(error, 'open');
    }
  };

  return {
    id,
    type: 'keychain',
    ttl: options.ttl,
    async get(name, ctx) {
      if (ctx.version && ctx.version !== 'latest' && ctx.version !== 'current') return undefined;
      const e = await entry(name);
      try {
        return (await e.getPassword(ctx.signal)) ?? undefined;
      } catch (error) {
        throw mapped(error, 'read');
      }
    },
    async set(name, value, ctx) {
      const e = await entry(name);
      try {
        await e.setPassword(value, ctx.signal);
      } catch (error) {
        throw mapped(error, 'write');
      }
      return undefined;
    },
    async delete(name, ctx) {
      const e = await entry(name);
      try {
        await e.deletePassword(ctx.signal);
      } catch (error) {
        throw mapped(error, 'delete');
      }
    },
    async list(prefix, ctx) {
      const { findCredentialsAsync } = await lib();
      if (!findCredentialsAsync) {
        throw new EnvmuxError('CONFIG', 'this @napi-rs/keyring has no findCredentials', {
          provider: id,
          hint: 'npm install @napi-rs/keyring@latest',
        });
      }
      let names: string[];
      try {
        const found = await findCredentialsAsync(service, null, ctx.signal);
        names = found.map((c) => c.account);
      } catch (error) {
        throw mapped(error, 'list');
      }
      return [...new Set(names)]
        .filter((n) => n.startsWith(prefix))
        .sort()
        .map((name): SecretInfo => ({ name }));
    },
    async health(): Promise<HealthResult> {
      const started = monotonicMs();
      try {
        await (await entry('envmux-health-check')).getPassword();
        return { ok: true, latencyMs: monotonicMs() - started, detail: `service ${service}` };
      } catch (error) {
        return { ok: false, detail: mapped(error, 'read').message };
      }
    },
  };
}

/** `ENVMUX_KEYCHAIN_STORE`: `secret-service` (default) or `keyutils`; anything else is CONFIG. */
function linuxStoreFrom(value: string | undefined): 'secret-service' | 'keyutils' {
  if (value === undefined || value === '' || value === 'secret-service') return 'secret-service';
  if (value === 'keyutils') return 'keyutils';
  throw new EnvmuxError('CONFIG', `ENVMUX_KEYCHAIN_STORE="${value.slice(0, 40)}" is not a store`, {
    hint: 'set ENVMUX_KEYCHAIN_STORE to secret-service or keyutils',
  });
}
