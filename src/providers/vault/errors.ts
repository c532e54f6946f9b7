// HashiCorp Vault answers (node-vault's ApiResponseError, axios network errors) → envmux's stable
// codes. Keeps Vault's own error text (which names paths, never data); never copies a request body.

import { classify, EnvmuxError, type ErrorCode, isEnvmuxError } from '../../errors.js';
import { tlsFailureCode } from '../tls-failure.js';

/** The HTTP status of a Vault answer (node-vault puts it on `response.statusCode`). */
export function vaultStatusOf(error: unknown): number | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const status =
    (error as { response?: { statusCode?: unknown; status?: unknown } }).response?.statusCode ??
    (error as { response?: { status?: unknown } }).response?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Vault's error text: the first entry of `errors[]` (node-vault makes it the message). */
export function vaultMessageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Vault wraps several errors as "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n".
  return message
    .replace(/^\d+ errors? occurred:\s*/, '')
    .replace(/\s*\n\t\* /g, '; ')
    .replace(/^\* /, '')
    .trim();
}

/** True when Vault said the token itself is bad (expired, revoked, unknown), not only a policy. */
export function saysInvalidToken(error: unknown): boolean {
  return /invalid token|token is expired|bad token/i.test(vaultMessageOf(error));
}

export interface VaultErrorContext {
  /** Provider id. */
  provider: string;
  /** What was being done: `read "app/db"`, `login (approle)`. */
  operation: string;
  /** The Vault API path, for ACL hints (`secret/data/app/db`). */
  path?: string;
  /** The capability a policy must grant for this call (`read`, `create`, `list`, ...). */
  capability?: string;
  /** A login: 400 and 403 mean the credentials were refused. */
  login?: boolean;
}

function codeOf(
  status: number | undefined,
  message: string,
  context: VaultErrorContext,
): ErrorCode {
  if (status === undefined) return 'UNAVAILABLE';
  if (context.login && (status === 400 || status === 401 || status === 403)) return 'AUTH_FAILED';
  if (status === 400 && /missing client token|invalid token/i.test(message)) return 'AUTH_FAILED';
  if (status === 400) return 'INVALID_REFERENCE';
  if (status === 401) return 'AUTH_FAILED';
  if (status === 403) return 'ACCESS_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 405) return 'CONFIG';
  if (status === 408 || status === 504) return 'TIMEOUT';
  // 412: a performance standby has not caught up with a write yet; asking again succeeds.
  if (status === 412) return 'UNAVAILABLE';
  if (status === 429) return 'THROTTLED';
  if (status >= 500) return 'UNAVAILABLE';
  return 'UNAVAILABLE';
}

function hintFor(code: ErrorCode, message: string, context: VaultErrorContext): string | undefined {
  if (/vault is sealed/i.test(message)) return 'Vault is sealed: an operator must unseal it';
  switch (code) {
    case 'ACCESS_DENIED':
      return context.path
        ? `the token's policies must grant "${context.capability ?? 'read'}" on "${context.path}"`
        : "check the token's policies";
    case 'AUTH_FAILED':
      return context.login
        ? 'Vault refused the login: check the role and credentials (VAULT_ROLE_ID/VAULT_SECRET_ID, VAULT_ROLE, the JWT)'
        : 'the Vault token was refused: set a valid VAULT_TOKEN (or configure a login method)';
    case 'THROTTLED':
      return 'Vault is rate limiting (a rate limit quota): envmux retries with backoff';
    default:
      return undefined;
  }
}

/** Map anything a Vault call threw to an {@link EnvmuxError}. */
export function fromVaultError(error: unknown, context: VaultErrorContext): EnvmuxError {
  if (isEnvmuxError(error)) {
    if (error.provider === undefined) error.provider = context.provider;
    return error;
  }
  const tls = tlsFailureCode(error);
  if (tls) {
    return new EnvmuxError(
      'CONFIG',
      `provider "${context.provider}": ${context.operation} failed: the server's TLS certificate was not trusted (${tls})`,
      {
        provider: context.provider,
        hint: "give the CA that signed Vault's certificate (VAULT_CACERT or caCert); for a throwaway dev server only, vault({ tlsSkipVerify: true })",
        cause: error,
        retryable: false,
      },
    );
  }
  const status = vaultStatusOf(error);
  const message = vaultMessageOf(error);
  const network = (error as { code?: unknown } | null)?.code;
  const code =
    status !== undefined
      ? codeOf(status, message, context)
      : network === 'ECONNABORTED' || network === 'ERR_CANCELED'
        ? 'TIMEOUT'
        : classify(error);
  const detail =
    status === undefined ? truncate(message, 160) : `${status}: ${truncate(message, 160)}`;
  return new EnvmuxError(
    code,
    `provider "${context.provider}": ${context.operation} failed (${detail})`,
    { provider: context.provider, hint: hintFor(code, message, context), cause: error },
  );
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
