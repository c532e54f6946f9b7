// AWS SDK v3 errors (Secrets Manager, SSM, STS) → envmux's stable codes, for the `aws` and `ssm`
// providers. Never copies a request or response body into an error: only names, codes, AWS messages.

import {
  classify,
  codeForStatus,
  EnvmuxError,
  type ErrorCode,
  httpStatusOf,
  isEnvmuxError,
} from '../../errors.js';

/** AWS exception names (the `__type` / `name` of an SDK error) and what they mean to us. */
const BY_NAME: Record<string, ErrorCode> = {
  // Not there (reads turn these into `undefined` before they get here).
  ResourceNotFoundException: 'NOT_FOUND',
  ParameterNotFound: 'NOT_FOUND',
  ParameterVersionNotFound: 'NOT_FOUND',
  // Slow down.
  ThrottlingException: 'THROTTLED',
  Throttling: 'THROTTLED',
  ThrottledException: 'THROTTLED',
  TooManyRequestsException: 'THROTTLED',
  RequestLimitExceeded: 'THROTTLED',
  RequestThrottled: 'THROTTLED',
  RequestThrottledException: 'THROTTLED',
  TooManyUpdates: 'THROTTLED',
  SlowDown: 'THROTTLED',
  // The identity is known but not allowed.
  AccessDeniedException: 'ACCESS_DENIED',
  AccessDenied: 'ACCESS_DENIED',
  // The identity is not known: bad keys or signature, no credentials at all.
  UnrecognizedClientException: 'AUTH_FAILED',
  InvalidSignatureException: 'AUTH_FAILED',
  SignatureDoesNotMatch: 'AUTH_FAILED',
  IncompleteSignature: 'AUTH_FAILED',
  InvalidClientTokenId: 'AUTH_FAILED',
  MissingAuthenticationToken: 'AUTH_FAILED',
  MissingAuthenticationTokenException: 'AUTH_FAILED',
  AuthFailure: 'AUTH_FAILED',
  CredentialsProviderError: 'AUTH_FAILED',
  // A session (temporary credentials) ran out: re-authenticate and retry once.
  ExpiredTokenException: 'SESSION_EXPIRED',
  ExpiredToken: 'SESSION_EXPIRED',
  TokenRefreshRequired: 'SESSION_EXPIRED',
  // KMS could not decrypt (or encrypt) the value.
  DecryptionFailure: 'DECRYPTION_FAILED',
  EncryptionFailure: 'DECRYPTION_FAILED',
  InvalidKeyId: 'DECRYPTION_FAILED',
  KMSAccessDeniedException: 'DECRYPTION_FAILED',
  KMSDisabledException: 'DECRYPTION_FAILED',
  KMSInvalidStateException: 'DECRYPTION_FAILED',
  // The service failed.
  InternalServiceError: 'UNAVAILABLE',
  InternalServerError: 'UNAVAILABLE',
  InternalFailure: 'UNAVAILABLE',
  ServiceUnavailable: 'UNAVAILABLE',
  ServiceUnavailableException: 'UNAVAILABLE',
  // The clock is off: the SDK corrects its offset from the response, so a retry succeeds.
  RequestExpired: 'UNAVAILABLE',
  RequestTimeTooSkewed: 'UNAVAILABLE',
  // No answer in time.
  TimeoutError: 'TIMEOUT',
  AbortError: 'TIMEOUT',
  RequestTimeout: 'TIMEOUT',
  RequestTimeoutException: 'TIMEOUT',
  // A name or version the service refuses.
  InvalidParameterException: 'INVALID_REFERENCE',
  ValidationException: 'INVALID_REFERENCE',
  ParameterVersionLabelLimitExceeded: 'CONFIG',
  // Valid request, wrong state or a quota: a person must act.
  InvalidRequestException: 'CONFIG',
  LimitExceededException: 'CONFIG',
  ParameterLimitExceeded: 'CONFIG',
  HierarchyLevelLimitExceededException: 'CONFIG',
  HierarchyTypeMismatchException: 'CONFIG',
  ParameterAlreadyExists: 'CONFIG',
  ResourceExistsException: 'CONFIG',
  PreconditionNotMetException: 'CONFIG',
  UnsupportedParameterType: 'CONFIG',
};

/** The AWS exception name of an SDK error (`ResourceNotFoundException`), if it has one. */
export function awsErrorName(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { name?: unknown; Code?: unknown; code?: unknown };
  const name = typeof e.name === 'string' && e.name !== 'Error' ? e.name : undefined;
  return name ?? (typeof e.Code === 'string' ? e.Code : undefined);
}

/** True when the SDK error says the secret or parameter does not exist. */
export function isAwsNotFound(error: unknown): boolean {
  const name = awsErrorName(error);
  return (
    name === 'ResourceNotFoundException' ||
    name === 'ParameterNotFound' ||
    name === 'ParameterVersionNotFound'
  );
}

/**
 * True for Secrets Manager's answer about a secret scheduled for deletion (soft-deleted): the SDK's
 * error, or ours made of it by {@link fromAwsError} (whose message keeps the AWS text).
 */
export function isAwsMarkedForDeletion(error: unknown): boolean {
  const raw = isEnvmuxError(error) ? error.cause : error;
  return (
    awsErrorName(raw) === 'InvalidRequestException' &&
    /marked for deletion|scheduled for deletion|deleted/i.test(String((error as Error).message))
  );
}

export interface AwsErrorContext {
  /** Provider id. */
  provider: string;
  /** The API operation (`GetSecretValue`). */
  operation: string;
  /** The secret or parameter name, when the call is about one. */
  name?: string;
  /** The IAM action a denial is about (`secretsmanager:GetSecretValue`). */
  action?: string;
}

function hintFor(code: ErrorCode, context: AwsErrorContext, message: string): string | undefined {
  switch (code) {
    case 'ACCESS_DENIED':
      return context.action
        ? `the AWS identity needs ${context.action}${context.name ? ` on "${context.name}"` : ''}`
        : 'check the IAM policy of the AWS identity';
    case 'AUTH_FAILED':
      return /could not load credentials|Could not load credentials/i.test(message)
        ? 'no AWS credentials found: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is attached'
        : 'check the AWS credentials (keys, profile, role) and the region';
    case 'SESSION_EXPIRED':
      return 'the AWS session expired: refresh the credentials (aws sso login, a new role session)';
    case 'DECRYPTION_FAILED':
      return 'the AWS identity needs kms:Decrypt on the KMS key of the secret';
    case 'THROTTLED':
      return 'AWS is rate limiting: envmux retries with backoff; fewer restarts or a longer cache TTL help';
    default:
      return undefined;
  }
}

/**
 * The code of an AWS SDK error, HTTP status first: a 5xx, 429 or 408 answer is transient whatever
 * the error is named (a proxy's HTML 500 surfaces as the SDK's SyntaxError); a 4xx answer whose
 * body named an AWS exception maps by that name (ExpiredToken and AccessDenied are both 400/403);
 * one whose body could not be read maps by its status (403 ACCESS_DENIED, 401 AUTH_FAILED, ...);
 * without an answer, by the exception name, then as a network failure ({@link classify}).
 */
export function awsCodeOf(error: unknown): ErrorCode {
  const status = httpStatusOf(error);
  const byStatus = codeForStatus(status);
  const name = awsErrorName(error);
  const byName = name && Object.hasOwn(BY_NAME, name) ? BY_NAME[name] : undefined;
  if (byStatus && (status! >= 500 || status === 429 || status === 408)) return byStatus;
  if (byName) return byName;
  if (byStatus) return byStatus;
  const message = error instanceof Error ? error.message : String(error);
  if (/Region is missing/i.test(message)) return 'CONFIG';
  return classify(error);
}

/**
 * Map an AWS SDK error to an {@link EnvmuxError} ({@link awsCodeOf}). Keeps the AWS message (which
 * names no value) in ours; an answer that could not be parsed is described by its status only,
 * since a parser's message quotes the body.
 */
export function fromAwsError(error: unknown, context: AwsErrorContext): EnvmuxError {
  if (isEnvmuxError(error)) {
    if (error.provider === undefined) error.provider = context.provider;
    return error;
  }
  const name = awsErrorName(error);
  const status = httpStatusOf(error);
  const unparsed = error instanceof SyntaxError || name === 'SyntaxError';
  const message = unparsed
    ? `the answer (HTTP ${status ?? '?'}) is not the service's JSON: a proxy or firewall in the way?`
    : error instanceof Error
      ? error.message
      : String(error);
  const code = awsCodeOf(error);
  const subject = context.name ? ` "${context.name}"` : '';
  const detail = [unparsed ? undefined : name, truncate(message, 160)].filter(Boolean).join(': ');
  const hint =
    code === 'CONFIG' && /Region is missing/i.test(message)
      ? 'set AWS_REGION (or the provider\'s "region" option)'
      : hintFor(code, context, message);
  return new EnvmuxError(
    code,
    `provider "${context.provider}": ${context.operation}${subject} failed (${detail})`,
    { provider: context.provider, hint, cause: unparsed ? parseFailure(error, status) : error },
  );
}

/** A body-free stand-in for a parser's error: its message quotes the answer it could not read. */
function parseFailure(error: unknown, status: number | undefined): Error {
  const summary = new Error(`the HTTP ${status ?? '?'} answer could not be parsed`);
  summary.name = error instanceof Error ? error.name : 'SyntaxError';
  return summary;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
