// Errors: one class with a stable code and the context that makes it actionable.
// Never holds a secret value: messages are built from names, references and codes only.

/** The stable error codes (docs/architecture.md, "Error codes"). */
export const ERROR_CODES = [
  'NOT_FOUND',
  'ACCESS_DENIED',
  'AUTH_FAILED',
  'SESSION_EXPIRED',
  'UNAVAILABLE',
  'TIMEOUT',
  'THROTTLED',
  'INVALID_REFERENCE',
  'CYCLE',
  'VALIDATION_FAILED',
  'DECRYPTION_FAILED',
  'LOCKED',
  'EXPIRED',
  'CONFIG',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes worth another attempt: the store may answer next time. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'TIMEOUT', 'THROTTLED']);

/** Where a problem came from and what it was about (never a value). */
export interface ErrorContext {
  key?: string;
  reference?: string;
  file?: string;
  line?: number;
  provider?: string;
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
  retryable?: boolean;
}

/**
 * The one error class of envmux. `code` is stable; `retryable` says whether trying again may help.
 * `cause` keeps the underlying error's name, code and message, never the error object itself
 * (SDK errors can carry request bodies).
 */
const BRAND = Symbol.for('envmux.error');

/** `util.inspect.custom`, without importing node:util (the preload stays light). */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Whether ENVMUX_DEBUG asks for stack traces (lenient here: an error's constructor never throws). */
function debugStacks(): boolean {
  const value = typeof process === 'undefined' ? undefined : process.env?.ENVMUX_DEBUG;
  return !!value && !['0', 'false', 'no', 'off', ''].includes(value.toLowerCase());
}

export class EnvmuxError extends Error {
  override readonly name: string = 'EnvmuxError';
  /** Marks envmux errors across the ESM and CJS copies of the package. */
  declare readonly [BRAND]: true;
  declare readonly code: ErrorCode;
  declare readonly retryable: boolean;
  declare key?: string;
  declare reference?: string;
  declare file?: string;
  declare line?: number;
  declare provider?: string;
  declare hint?: string;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(
      message,
      context.cause === undefined ? undefined : { cause: summarizeCause(context.cause) },
    );
    Object.defineProperty(this, BRAND, { value: true });
    // Not enumerable: Node's inspector would list them after the message, which already says it.
    const fields: Record<string, unknown> = {
      code,
      retryable: context.retryable ?? RETRYABLE.has(code),
    };
    for (const field of ['key', 'reference', 'file', 'line', 'provider', 'hint'] as const) {
      fields[field] = context[field];
    }
    for (const [field, value] of Object.entries(fields)) {
      Object.defineProperty(this, field, {
        value,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    // What Node prints for an uncaught error is the stack, inspected without custom inspection:
    // without ENVMUX_DEBUG it is the name, code, where, message and hint, and no frames of envmux's
    // code. A getter: a subclass's `name` is set only after this constructor returns.
    if (!debugStacks()) {
      let assigned: string | undefined;
      Object.defineProperty(this, 'stack', {
        get: () => assigned ?? this.stackHeadline(),
        set: (value: string) => {
          assigned = value;
        },
        configurable: true,
        enumerable: false,
      });
    }
  }

  /** `Name [CODE]: where: message`, then the hint on its own line. */
  protected stackHeadline(): string {
    const where = [this.location, this.key, this.reference].filter(Boolean).join(' ');
    const hint = this.hint ? `\n  hint: ${this.hint}` : '';
    return `${this.name} [${this.code}]: ${where ? `${where}: ` : ''}${this.message}${hint}`;
  }

  /** The headline `util.inspect` shows (an aggregate: with one line per problem). */
  protected inspectHeadline(): string {
    return this.stackHeadline();
  }

  /**
   * What `util.inspect` and `console.log` show: the headline, plus the stack's frames under
   * ENVMUX_DEBUG. Never the fields again (docs/architecture.md, "Error codes").
   */
  [INSPECT](): string {
    if (!debugStacks()) return this.inspectHeadline();
    const frames = (this.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
    return [this.inspectHeadline(), ...frames].join('\n');
  }

  /** `file:line` when known. */
  get location(): string | undefined {
    if (!this.file) return undefined;
    return this.line ? `${this.file}:${this.line}` : this.file;
  }

  /** One line: where, which key and reference, code, message. */
  describe(): string {
    const where = [this.location, this.key, this.reference].filter(Boolean).join(' ');
    const hint = this.hint ? ` (${this.hint})` : '';
    return `${where ? `${where}: ` : ''}${this.code}: ${this.message}${hint}`;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    for (const field of ['key', 'reference', 'file', 'line', 'provider', 'hint'] as const) {
      if (this[field] !== undefined) out[field] = this[field];
    }
    out.retryable = this.retryable;
    return out;
  }
}

/**
 * Problems as lines, one cause once: problems that share code, message and hint (a wrong key, a
 * damaged vault, an unknown provider: the same cause behind many references) become one line
 * followed by the keys they affect; the others keep their own line. `text` may scrub a line.
 */
export function describeProblems(
  errors: readonly EnvmuxError[],
  text: (line: string) => string = (line) => line,
): string[] {
  const groups = new Map<string, EnvmuxError[]>();
  for (const e of errors) {
    const cause = `${e.code}\0${e.message}\0${e.hint ?? ''}`;
    const group = groups.get(cause);
    if (group) group.push(e);
    else groups.set(cause, [e]);
  }
  const lines: string[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    if (group.length === 1) {
      lines.push(text(first.describe()));
      continue;
    }
    const hint = first.hint ? ` (${first.hint})` : '';
    const where = (e: EnvmuxError) =>
      [e.location, e.key, e.reference].filter(Boolean).join(' ') || '(no key)';
    const shown = group.slice(0, AFFECTED_SHOWN).map(where).join(', ');
    const more = group.length > AFFECTED_SHOWN ? `, and ${group.length - AFFECTED_SHOWN} more` : '';
    lines.push(
      text(`${first.code}: ${first.message}${hint}\n    affects ${group.length}: ${shown}${more}`),
    );
  }
  return lines;
}

/** How many affected keys a grouped problem lists by name. */
const AFFECTED_SHOWN = 10;

/** Every problem of one load, reported together. `code` is the first problem's code. */
export class EnvmuxAggregateError extends EnvmuxError {
  override readonly name = 'EnvmuxAggregateError';
  readonly #errors: EnvmuxError[];

  constructor(errors: EnvmuxError[], title = 'envmux could not load the environment') {
    const first = errors[0];
    super(
      first?.code ?? 'CONFIG',
      `${title}: ${errors.length} problem${errors.length === 1 ? '' : 's'}\n${describeProblems(
        errors,
      )
        .map((line) => `  - ${line}`)
        .join('\n')}`,
      { retryable: false },
    );
    this.#errors = errors;
  }

  /** Every problem, in the order found. */
  get errors(): EnvmuxError[] {
    return this.#errors;
  }

  /**
   * The title and one line per problem: what Node prints for an uncaught aggregate. (Node 20 also
   * lists `errors` after it; Node 22 and 24 print the stack alone, so the problems must be in it.)
   */
  protected override stackHeadline(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }

  /** The title and one line per problem. */
  protected override inspectHeadline(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }

  override toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, errors: this.errors.map((e) => e.toJSON()) };
  }
}

/**
 * A plain, value-free summary of an underlying error: its name, code and HTTP status. A foreign
 * error's own text is dropped: a store may quote what it holds, and on a failed read there is no
 * known value to scrub it of (docs/architecture.md, "Error codes").
 */
function summarizeCause(cause: unknown): unknown {
  if (isEnvmuxError(cause)) return cause;
  if (cause instanceof Error) {
    const summary = new Error(foreignDetail(cause));
    summary.name = cause.name;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') (summary as any).code = code;
    summary.stack = `${summary.name}: ${summary.message}`;
    return summary;
  }
  return undefined;
}

/** What may be said of a foreign error: its name, code and HTTP status, never its text. */
function foreignDetail(error: unknown): string {
  if (!(error instanceof Error)) return `a thrown ${error === null ? 'null' : typeof error}`;
  const code = (error as { code?: unknown }).code;
  const status = httpStatusOf(error);
  return [
    error.name,
    typeof code === 'string' || typeof code === 'number' ? String(code).slice(0, 40) : undefined,
    status ? `HTTP ${status}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

/** True for errors from either copy (ESM or CJS) of envmux. */
export function isEnvmuxError(error: unknown): error is EnvmuxError {
  return (
    typeof error === 'object' && error !== null && (error as { [BRAND]?: true })[BRAND] === true
  );
}

/**
 * Map anything a provider threw to an EnvmuxError, keeping its code when it has a known one,
 * classifying common network and HTTP failures otherwise. A foreign error's own text is never
 * repeated: the message says what failed in our words, with the error's name, code and status.
 */
export function toEnvmuxError(error: unknown, context: ErrorContext = {}): EnvmuxError {
  if (isEnvmuxError(error)) {
    for (const field of ['key', 'reference', 'file', 'line', 'provider'] as const) {
      if (error[field] === undefined && context[field] !== undefined)
        (error as any)[field] = context[field];
    }
    return error;
  }
  const code = classify(error);
  const what = context.provider ? `provider "${context.provider}"` : 'the provider';
  return new EnvmuxError(code, `${what} failed (${foreignDetail(error)})`, {
    ...context,
    cause: error,
  });
}

const NETWORK_CODES: Record<string, ErrorCode> = {
  ECONNRESET: 'UNAVAILABLE',
  ECONNREFUSED: 'UNAVAILABLE',
  ECONNABORTED: 'UNAVAILABLE',
  EPIPE: 'UNAVAILABLE',
  ENOTFOUND: 'UNAVAILABLE',
  EAI_AGAIN: 'UNAVAILABLE',
  EHOSTUNREACH: 'UNAVAILABLE',
  ENETUNREACH: 'UNAVAILABLE',
  ENETDOWN: 'UNAVAILABLE',
  ETIMEDOUT: 'TIMEOUT',
  ESOCKETTIMEDOUT: 'TIMEOUT',
  UND_ERR_CONNECT_TIMEOUT: 'TIMEOUT',
  UND_ERR_HEADERS_TIMEOUT: 'TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'TIMEOUT',
  UND_ERR_SOCKET: 'UNAVAILABLE',
  UND_ERR_CLOSED: 'UNAVAILABLE',
  EACCES: 'ACCESS_DENIED',
  EPERM: 'ACCESS_DENIED',
  ENOENT: 'NOT_FOUND',
};

/** How deep `cause` / `errors[]` chains are followed (a wrapper of a wrapper of the socket error). */
const MAX_DEPTH = 5;

/** The error and the errors it wraps (`cause`, an AggregateError's `errors`), breadth first. */
function* chainOf(error: unknown): Generator<object> {
  let level: unknown[] = [error];
  for (let depth = 0; depth < MAX_DEPTH && level.length; depth++) {
    const next: unknown[] = [];
    for (const e of level) {
      if (!e || typeof e !== 'object') continue;
      yield e;
      next.push((e as { cause?: unknown }).cause);
      const inner = (e as { errors?: unknown }).errors;
      if (Array.isArray(inner)) next.push(...inner.slice(0, 4));
    }
    level = next;
  }
}

/**
 * The HTTP status of a store's answer carried by an error, whatever its SDK: `status`,
 * `statusCode`, a numeric `code` of 100–599 (Kubernetes), `$metadata.httpStatusCode` and
 * `$response.statusCode` (AWS SDK v3, also on its deserialization errors), `response.status` /
 * `response.statusCode` (fetch, axios, Azure, node-vault). `undefined` when the call got no answer.
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as {
    status?: unknown;
    statusCode?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $response?: { statusCode?: unknown; status?: unknown };
    response?: { status?: unknown; statusCode?: unknown };
  };
  for (const candidate of [
    e.$metadata?.httpStatusCode,
    e.$response?.statusCode,
    e.$response?.status,
    e.statusCode,
    e.status,
    e.response?.status,
    e.response?.statusCode,
    e.code,
  ]) {
    const n =
      typeof candidate === 'string' && /^\d{3}$/.test(candidate) ? Number(candidate) : candidate;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599) return n;
  }
  return undefined;
}

/**
 * What an HTTP status says about a store whatever the body held: 401 AUTH_FAILED, 403
 * ACCESS_DENIED, 404 NOT_FOUND, 408 TIMEOUT, 429 THROTTLED, 5xx UNAVAILABLE; `undefined` for
 * the others (the error's name or the store's own fields decide).
 */
export function codeForStatus(status: number | undefined): ErrorCode | undefined {
  if (status === undefined) return undefined;
  if (status === 401) return 'AUTH_FAILED';
  if (status === 403) return 'ACCESS_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 408) return 'TIMEOUT';
  if (status === 429) return 'THROTTLED';
  if (status >= 500) return 'UNAVAILABLE';
  return undefined;
}

/** Messages of network failures that carry no code (undici's `fetch failed`, browsers' fetch). */
const NETWORK_MESSAGE =
  /^(fetch failed|failed to fetch|networkerror when attempting to fetch resource\.?|network request failed|socket hang up|other side closed)$/i;

/**
 * The code of a network failure (refused, reset, unknown host, ...) found on the error or on an
 * error it wraps (`fetch failed` wraps the socket error in `cause`), else `undefined`.
 */
export function networkCodeOf(error: unknown): ErrorCode | undefined {
  for (const e of chainOf(error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && Object.hasOwn(NETWORK_CODES, code)) return NETWORK_CODES[code];
  }
  for (const e of chainOf(error)) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && NETWORK_MESSAGE.test(message.trim())) return 'UNAVAILABLE';
  }
  return undefined;
}

/**
 * Best-effort classification of a foreign error into a stable code, in this order: an envmux code
 * the error already carries; the HTTP status of the answer (a proxy's HTML 500 is UNAVAILABLE even
 * when its body failed to parse); a network failure, also wrapped in `cause`; a timeout or abort;
 * then a programming error (TypeError, ReferenceError, SyntaxError) is CONFIG; anything else
 * UNAVAILABLE.
 */
export function classify(error: unknown): ErrorCode {
  if (!error || typeof error !== 'object') return 'UNAVAILABLE';
  const e = error as { code?: unknown; name?: unknown };
  if (typeof e.code === 'string' && (ERROR_CODES as readonly string[]).includes(e.code)) {
    return e.code as ErrorCode;
  }
  const byStatus = codeForStatus(httpStatusOf(error));
  if (byStatus) return byStatus;
  const network = networkCodeOf(error);
  if (network) return network;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'TIMEOUT';
  // A programming error in a provider is not a store outage: report it, do not retry or fail over.
  if (error instanceof TypeError || error instanceof ReferenceError || error instanceof SyntaxError)
    return 'CONFIG';
  return 'UNAVAILABLE';
}
