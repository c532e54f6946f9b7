// GCP Secret Manager errors (gRPC status codes, or Google's JSON error model over REST) → envmux's
// stable codes, for the `gcp` provider. Never copies a payload into an error: only status, resource names, Google's message.

import { classify, EnvmuxError, type ErrorCode, isEnvmuxError } from '../../errors.js';

/** gRPC status names by number (google.rpc.Code). */
const GRPC_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** What each gRPC status means to envmux. */
const BY_STATUS: Record<string, ErrorCode> = {
  NOT_FOUND: 'NOT_FOUND',
  RESOURCE_EXHAUSTED: 'THROTTLED',
  PERMISSION_DENIED: 'ACCESS_DENIED',
  UNAUTHENTICATED: 'AUTH_FAILED',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'UNAVAILABLE',
  UNKNOWN: 'UNAVAILABLE',
  ABORTED: 'UNAVAILABLE',
  DATA_LOSS: 'UNAVAILABLE',
  DEADLINE_EXCEEDED: 'TIMEOUT',
  CANCELLED: 'TIMEOUT',
  INVALID_ARGUMENT: 'INVALID_REFERENCE',
  OUT_OF_RANGE: 'INVALID_REFERENCE',
  FAILED_PRECONDITION: 'CONFIG',
  ALREADY_EXISTS: 'CONFIG',
  UNIMPLEMENTED: 'CONFIG',
};

/** The same mapping REST uses for HTTP statuses without a `status` field (google.rpc.Code docs). */
function statusFromHttp(http: number): string | undefined {
  if (http === 400) return 'INVALID_ARGUMENT';
  if (http === 401) return 'UNAUTHENTICATED';
  if (http === 403) return 'PERMISSION_DENIED';
  if (http === 404) return 'NOT_FOUND';
  if (http === 409) return 'ALREADY_EXISTS';
  if (http === 429) return 'RESOURCE_EXHAUSTED';
  if (http === 499) return 'CANCELLED';
  if (http === 501) return 'UNIMPLEMENTED';
  if (http === 503) return 'UNAVAILABLE';
  if (http === 504) return 'DEADLINE_EXCEEDED';
  if (http >= 500) return 'INTERNAL';
  return undefined;
}

/**
 * The gRPC status name of an SDK error: from a gRPC `code` (0–16), from the `status` of Google's
 * JSON error body (REST transport), or from the HTTP status.
 */
export function gcpStatusOf(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as {
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown; data?: unknown };
    error?: { status?: unknown };
  };
  if (typeof e.code === 'number' && e.code >= 0 && e.code < GRPC_NAMES.length && !e.response) {
    return GRPC_NAMES[e.code];
  }
  const fromBody = bodyStatus(e.response?.data) ?? bodyStatus(e.error);
  if (fromBody) return fromBody;
  const http = Number(
    e.response?.status ?? e.status ?? (typeof e.code === 'number' ? e.code : NaN),
  );
  return Number.isFinite(http) ? statusFromHttp(http) : undefined;
}

function bodyStatus(data: unknown): string | undefined {
  let body = data;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (!body || typeof body !== 'object') return undefined;
  const inner = (body as { error?: { status?: unknown } }).error ?? body;
  const status = (inner as { status?: unknown }).status;
  return typeof status === 'string' && (GRPC_NAMES as readonly string[]).includes(status)
    ? status
    : undefined;
}

/** The human message of an SDK error, without the JSON wrapping REST errors carry. */
export function gcpMessageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as { response?: { data?: unknown }; details?: unknown };
  for (const candidate of [e.response?.data, error.message]) {
    if (typeof candidate !== 'string' || !candidate.startsWith('{')) continue;
    try {
      const message = (JSON.parse(candidate) as { error?: { message?: unknown } }).error?.message;
      if (typeof message === 'string') return message;
    } catch {
      // not JSON: fall through
    }
  }
  const text = typeof e.details === 'string' && e.details ? e.details : error.message;
  // A proxy's or load balancer's page instead of Google's JSON: say so, without the page.
  return /^\s*</.test(text)
    ? "the answer is not Google's JSON: a proxy or firewall in the way?"
    : text;
}

export interface GcpErrorContext {
  /** Provider id. */
  provider: string;
  /** The RPC (`AccessSecretVersion`). */
  operation: string;
  /** The secret name as the user wrote it, when the call is about one. */
  name?: string;
  /** The IAM permission a denial is about (`secretmanager.versions.access`). */
  permission?: string;
}

const NO_CREDENTIALS =
  /Could not load the default credentials|Could not refresh access token|invalid_grant|Unable to detect a Project Id/i;

function hintFor(code: ErrorCode, context: GcpErrorContext, message: string): string | undefined {
  switch (code) {
    case 'ACCESS_DENIED':
      return context.permission
        ? `the Google identity needs ${context.permission}${context.name ? ` on "${context.name}"` : ''} (e.g. roles/secretmanager.secretAccessor)`
        : 'check the IAM roles of the Google identity on the project or secret';
    case 'AUTH_FAILED':
      return NO_CREDENTIALS.test(message)
        ? 'no usable Google credentials: run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS, or run where a service account is attached'
        : 'check the Google credentials (service account key, workload identity) and the project';
    case 'THROTTLED':
      return 'Secret Manager is rate limiting (quota per project per minute): envmux retries with backoff; a longer cache TTL helps';
    case 'INVALID_REFERENCE':
      return 'GCP secret ids are 1-255 letters, digits, "-" or "_"; versions are a number, "latest" or an alias';
    default:
      return undefined;
  }
}

/**
 * Map an SDK error to an {@link EnvmuxError}: by gRPC status first, then by network error code.
 * Keeps Google's message (which names resources, never values) in ours.
 */
export function fromGcpError(error: unknown, context: GcpErrorContext): EnvmuxError {
  if (isEnvmuxError(error)) {
    if (error.provider === undefined) error.provider = context.provider;
    return error;
  }
  const status = gcpStatusOf(error);
  const message = gcpMessageOf(error);
  let code: ErrorCode | undefined = status ? BY_STATUS[status] : undefined;
  if (!code && NO_CREDENTIALS.test(message)) code = 'AUTH_FAILED';
  code ??= classify(error);
  const subject = context.name ? ` "${context.name}"` : '';
  const detail = [status, truncate(message, 160)].filter(Boolean).join(': ');
  return new EnvmuxError(
    code,
    `provider "${context.provider}": ${context.operation}${subject} failed (${detail})`,
    { provider: context.provider, hint: hintFor(code, context, message), cause: error },
  );
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
