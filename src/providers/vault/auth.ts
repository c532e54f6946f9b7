// The Vault session of the `vault` provider: how it gets a token (token, AppRole, Kubernetes, JWT),
// keeps it alive (renew-self before expiry, log in again when it cannot), and tells an expired token
// from a policy denial. Never logs, and never puts a token, secret id or JWT in an error.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EnvmuxError } from '../../errors.js';
import {
  fromVaultError,
  saysInvalidToken,
  type VaultErrorContext,
  vaultStatusOf,
} from './errors.js';

/** How the provider logs in to Vault. `oidc` is accepted as a name for `jwt` (same login endpoint). */
export type VaultAuthMethod = 'token' | 'approle' | 'kubernetes' | 'jwt';

/** Where a Kubernetes pod's service-account token is mounted. */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** A string, or a function that produces one when a login needs it (read fresh on every login). */
export type Credential = string | (() => string | Promise<string>);

export interface VaultAuthOptions {
  /**
   * `token`, `approle`, `kubernetes` or `jwt` (`oidc`); default `VAULT_AUTH_METHOD`, else inferred:
   * a role id → approle, a JWT → jwt, a role and a service-account token file → kubernetes, else token.
   */
  method?: VaultAuthMethod | 'oidc';
  /** The token (method `token`); default `VAULT_TOKEN`, else the file `~/.vault-token` (`vault login`). */
  token?: Credential;
  /** A file holding the token (a Vault Agent sink, `~/.vault-token`); re-read on every re-authentication. */
  tokenFile?: string;
  /** AppRole role id; default `VAULT_ROLE_ID`. */
  roleId?: string;
  /** AppRole secret id; default `VAULT_SECRET_ID` (absent for roles with `bind_secret_id=false`). */
  secretId?: Credential;
  /** The role of a Kubernetes or JWT login; default `VAULT_ROLE`. */
  role?: string;
  /** The JWT of a `jwt` login (a string, or a function returning a fresh one); default `VAULT_JWT`. */
  jwt?: Credential;
  /**
   * A file holding the JWT, read on every login (projected tokens rotate): default the pod's
   * service-account token for `kubernetes` ({@link SERVICE_ACCOUNT_TOKEN}); `VAULT_JWT_FILE`.
   */
  jwtFile?: string;
  /** Where the auth method is mounted (`auth/<mount>/login`); default the method's name. `VAULT_AUTH_MOUNT`. */
  mount?: string;
  /** Renew the token before it expires, and log in again when it cannot be renewed; default true. */
  renew?: boolean;
  /** When to renew, as a fraction of the token's remaining lifetime; default 2/3. */
  renewAt?: number;
  /** Seconds to ask for on renewal (`increment`); default Vault's (the token's TTL). */
  renewIncrement?: number;
}

/** One Vault HTTP call: `path` under `/v1/`, with or without a token; rejects with the raw error. */
export type VaultCall = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options?: { token?: string; body?: unknown },
) => Promise<any>;

/** Counters for tests and `envmux doctor` (never a token). */
export interface VaultSessionStats {
  logins: number;
  lookups: number;
  renewals: number;
}

export interface VaultSession {
  readonly method: VaultAuthMethod;
  readonly stats: VaultSessionStats;
  /** A token believed valid: the held one, or a fresh one (lookup-self or login) when none is held. */
  token(): Promise<string>;
  /** A call made with `token` succeeded: the token is proven. */
  succeeded(token: string): void;
  /**
   * The error to throw for a 403 on a call made with `token`: `ACCESS_DENIED` when the token is still
   * valid (a policy), `SESSION_EXPIRED` when a token that worked has expired or been revoked (the
   * resolver then calls {@link authenticate} once and retries), `AUTH_FAILED` when a fresh one is refused.
   */
  denied(error: unknown, token: string, context: VaultErrorContext): Promise<EnvmuxError>;
  /** Drop a token that was refused and get a new one (re-read it, or log in again). */
  authenticate(): Promise<void>;
  close(): void;
}

interface Held {
  token: string;
  /** Epoch ms; `undefined` = never expires (a root token, TTL 0). */
  expiresAt?: number;
  /** The TTL the token was issued with, in seconds (a renewal that grants less hit the max TTL). */
  ttl: number;
  renewable: boolean;
  /** A call with it succeeded (or lookup-self did): a later refusal means it expired. */
  proven: boolean;
}

/** A token this close to its expiry is treated as expired (clocks and the request's own time). */
const EXPIRY_MARGIN_MS = 250;

/** Which method the options and environment select. */
export function authMethodOf(
  options: VaultAuthOptions,
  env: Record<string, string | undefined>,
  fileExists: (path: string) => boolean,
): VaultAuthMethod {
  const named = options.method ?? (env.VAULT_AUTH_METHOD?.trim().toLowerCase() || undefined);
  if (named) {
    if (named === 'oidc') return 'jwt';
    if (named === 'token' || named === 'approle' || named === 'kubernetes' || named === 'jwt')
      return named;
    throw new EnvmuxError('CONFIG', `unknown Vault auth method "${named}"`, {
      hint: 'VAULT_AUTH_METHOD is one of token, approle, kubernetes, jwt (oidc)',
    });
  }
  if (options.token !== undefined) return 'token';
  if (options.roleId ?? env.VAULT_ROLE_ID) return 'approle';
  if (options.jwt !== undefined || env.VAULT_JWT) return 'jwt';
  const jwtFile = options.jwtFile ?? env.VAULT_JWT_FILE ?? SERVICE_ACCOUNT_TOKEN;
  if ((options.role ?? env.VAULT_ROLE) && fileExists(jwtFile)) return 'kubernetes';
  return 'token';
}

/** Keep a Vault session for one provider. `call` is the provider's transport. */
export function createVaultSession(
  id: string,
  call: VaultCall,
  options: VaultAuthOptions,
  env: Record<string, string | undefined>,
  method: VaultAuthMethod,
): VaultSession {
  const mount = trimSlashes(options.mount ?? env.VAULT_AUTH_MOUNT ?? method);
  const canLogin = method !== 'token';
  const renew = options.renew ?? true;
  const renewAt = Math.min(0.95, Math.max(0.05, options.renewAt ?? 2 / 3));
  const stats: VaultSessionStats = { logins: 0, lookups: 0, renewals: 0 };
  let held: Held | undefined;
  let pending: Promise<Held> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** Tokens Vault called invalid: `authenticate` replaces the held token only if it is one of them. */
  const rejected = new Set<string>();

  const fail = (code: 'CONFIG' | 'AUTH_FAILED', message: string, hint: string, cause?: unknown) =>
    new EnvmuxError(code, `provider "${id}": ${message}`, {
      provider: id,
      hint,
      cause,
      retryable: false,
    });

  const produce = async (credential: Credential | undefined): Promise<string | undefined> => {
    const value = typeof credential === 'function' ? await credential() : credential;
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  };

  const readFile = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (error) {
      throw fail(
        'CONFIG',
        `cannot read the ${what} file ${path}`,
        `check that ${path} exists and is readable`,
        error,
      );
    }
  };

  const readToken = async (): Promise<string> => {
    const given = await produce(options.token ?? env.VAULT_TOKEN);
    if (given) return given;
    const file = options.tokenFile ?? join(env.HOME || homedir(), '.vault-token');
    let fromFile: string | undefined;
    try {
      fromFile = readFileSync(file, 'utf8').trim();
    } catch {
      fromFile = undefined;
    }
    if (fromFile) return fromFile;
    throw fail(
      'CONFIG',
      'has no Vault token',
      'set VAULT_TOKEN, run `vault login`, or choose a login method (VAULT_AUTH_METHOD=approle|kubernetes|jwt)',
    );
  };

  const loginBody = async (): Promise<Record<string, string>> => {
    if (method === 'approle') {
      const roleId = options.roleId ?? env.VAULT_ROLE_ID;
      if (!roleId) throw fail('CONFIG', 'AppRole login needs a role id', 'set VAULT_ROLE_ID');
      const secretId = await produce(options.secretId ?? env.VAULT_SECRET_ID);
      return secretId ? { role_id: roleId, secret_id: secretId } : { role_id: roleId };
    }
    const role = options.role ?? env.VAULT_ROLE;
    if (method === 'kubernetes') {
      if (!role) throw fail('CONFIG', 'Kubernetes login needs a role', 'set VAULT_ROLE');
      const file = options.jwtFile ?? env.VAULT_JWT_FILE ?? SERVICE_ACCOUNT_TOKEN;
      return { role, jwt: readFile(file, 'service-account token') };
    }
    const jwt =
      (await produce(options.jwt ?? env.VAULT_JWT)) ??
      (options.jwtFile || env.VAULT_JWT_FILE
        ? readFile((options.jwtFile ?? env.VAULT_JWT_FILE)!, 'JWT')
        : undefined);
    if (!jwt)
      throw fail(
        'CONFIG',
        'JWT login needs a JWT',
        'set VAULT_JWT or VAULT_JWT_FILE, or pass vault({ jwt })',
      );
    return role ? { role, jwt } : { jwt };
  };

  const lookup = async (): Promise<Held> => {
    const token = await readToken();
    stats.lookups++;
    try {
      const out = await call('GET', 'auth/token/lookup-self', { token });
      const data = out?.data ?? {};
      const ttl = Number(data.ttl) || 0;
      return {
        token,
        ttl: Number(data.creation_ttl) || ttl,
        expiresAt: ttl > 0 ? Date.now() + ttl * 1000 : undefined,
        renewable: data.renewable === true,
        proven: true,
      };
    } catch (error) {
      const status = vaultStatusOf(error);
      if (status === 400 || status === 401 || status === 403) {
        rejected.add(token);
        throw fail(
          'AUTH_FAILED',
          'Vault refused the token (expired, revoked or wrong)',
          'set a valid VAULT_TOKEN (or run `vault login`), or choose a login method with VAULT_AUTH_METHOD',
          error,
        );
      }
      throw fromVaultError(error, { provider: id, operation: 'token lookup-self' });
    }
  };

  const login = async (): Promise<Held> => {
    const body = await loginBody();
    stats.logins++;
    const operation = `login (${method} at auth/${mount})`;
    let out: any;
    try {
      out = await call('POST', `auth/${encodePath(mount)}/login`, { body });
    } catch (error) {
      throw fromVaultError(error, { provider: id, operation, login: true });
    }
    const auth = out?.auth;
    if (!auth || typeof auth.client_token !== 'string') {
      throw fail('AUTH_FAILED', `${operation} returned no token`, 'check the auth method and role');
    }
    const ttl = Number(auth.lease_duration) || 0;
    return {
      token: auth.client_token,
      ttl,
      expiresAt: ttl > 0 ? Date.now() + ttl * 1000 : undefined,
      renewable: auth.renewable === true,
      proven: false,
    };
  };

  const establish = (): Promise<Held> => {
    if (!pending) {
      pending = (async () => {
        const next = method === 'token' ? await lookup() : await login();
        if (!closed) {
          held = next;
          schedule(next);
        }
        return next;
      })().finally(() => {
        pending = undefined;
      });
    }
    return pending;
  };

  const clearTimer = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };

  const later = (fn: () => Promise<void>, delay: number) => {
    clearTimer();
    timer = setTimeout(
      () => {
        timer = undefined;
        void fn();
      },
      Math.max(0, delay),
    );
    timer.unref?.();
  };

  /** Plan the next renewal (or re-login) of `h` at `renewAt` of its remaining lifetime. */
  function schedule(h: Held): void {
    clearTimer();
    if (!renew || closed || h.expiresAt === undefined) return;
    if (!h.renewable && !canLogin) return;
    later(() => refresh(h), (h.expiresAt - Date.now()) * renewAt);
  }

  /** Renew `h`, or replace it by a new login when it cannot be renewed any further. */
  async function refresh(h: Held): Promise<void> {
    if (closed || held !== h) return;
    const retryLater = () => {
      const left = (h.expiresAt ?? 0) - Date.now();
      if (left > EXPIRY_MARGIN_MS && held === h) later(() => refresh(h), Math.min(left / 2, 5_000));
    };
    if (!h.renewable) {
      // Not renewable (or at its max TTL): log in again while the old token still works.
      await establish().catch(retryLater);
      return;
    }
    try {
      const increment = options.renewIncrement;
      const out = await call('POST', 'auth/token/renew-self', {
        token: h.token,
        body: increment ? { increment: `${increment}s` } : {},
      });
      stats.renewals++;
      if (closed || held !== h) return;
      const ttl = Number(out?.auth?.lease_duration) || 0;
      h.expiresAt = ttl > 0 ? Date.now() + ttl * 1000 : undefined;
      h.proven = true;
      // Granted less than asked: the token reached its max TTL, so renewing cannot keep it alive.
      if (out?.auth?.renewable === false || (canLogin && ttl > 0 && ttl < (increment ?? h.ttl))) {
        h.renewable = false;
      }
      schedule(h);
    } catch (error) {
      if (closed || held !== h) return;
      const status = vaultStatusOf(error);
      if (status === 400) {
        // "lease is not renewable": stop renewing; a login method logs in again before expiry.
        h.renewable = false;
        schedule(h);
      } else if (status === 401 || status === 403) {
        held = undefined;
        rejected.add(h.token);
        if (canLogin) await establish().catch(() => undefined);
      } else {
        retryLater();
      }
    }
  }

  return {
    method,
    stats,
    async token() {
      if (closed) {
        throw new EnvmuxError('CONFIG', `provider "${id}" is closed`, {
          provider: id,
          retryable: false,
        });
      }
      const h = held;
      if (h && (h.expiresAt === undefined || h.expiresAt - Date.now() > EXPIRY_MARGIN_MS))
        return h.token;
      // Expired (or none yet): a login method logs in again; a token is looked up (re-read) again.
      return (await establish()).token;
    },
    succeeded(token) {
      if (held?.token === token) held.proven = true;
    },
    async denied(error, token, context) {
      let invalid = saysInvalidToken(error);
      if (!invalid) {
        // Vault answers 403 "permission denied" for a policy and for a dead token alike: ask it.
        try {
          stats.lookups++;
          await call('GET', 'auth/token/lookup-self', { token });
          if (held?.token === token) held.proven = true;
          return fromVaultError(error, context);
        } catch (probe) {
          const status = vaultStatusOf(probe);
          if (status !== 401 && status !== 403) {
            return fromVaultError(probe, { ...context, operation: 'token lookup-self' });
          }
          invalid = true;
        }
      }
      rejected.add(token);
      const current = held?.token === token ? held : undefined;
      if (current) {
        held = undefined;
        clearTimer();
      }
      if (current && !current.proven) {
        return fail(
          'AUTH_FAILED',
          `${context.operation} failed: Vault refused a token it had just issued`,
          'check the auth method, role and namespace (VAULT_NAMESPACE)',
          error,
        );
      }
      return new EnvmuxError(
        'SESSION_EXPIRED',
        `provider "${id}": ${context.operation} failed: the Vault token expired or was revoked`,
        {
          provider: id,
          hint: canLogin
            ? 'envmux logs in again once and retries'
            : 'set a new VAULT_TOKEN, or use a login method that envmux can renew (VAULT_AUTH_METHOD)',
          cause: error,
        },
      );
    },
    async authenticate() {
      if (pending) {
        await pending;
        return;
      }
      // Another caller already replaced the refused token: nothing to do.
      if (held && !rejected.has(held.token)) return;
      held = undefined;
      clearTimer();
      await establish();
    },
    close() {
      closed = true;
      held = undefined;
      clearTimer();
    },
  };
}

/** `a/b c` → `a/b%20c`: each path segment URI-encoded. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
