// One provider call, made reliable: a per-call timeout that holds even when the provider ignores
// its signal, retries with backoff and jitter on transient codes only (p-retry) budgeted within that
// one timeout, the provider's circuit breaker, and one re-authentication after SESSION_EXPIRED.
// p-retry is loaded only when a first attempt fails with something worth retrying.

import { EnvmuxError, toEnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
import type { Breaker, BreakerPolicy } from './breaker.js';
import { monotonicMs } from './clock.js';
import { createLimiter } from './limit.js';

export interface RetryOptions {
  /** Attempts in all, the first included; default 3. `1` disables retries. */
  attempts?: number;
  /** First backoff in ms; default 100, doubling, with jitter. */
  minDelay?: number;
  /** Longest backoff in ms; default 2,000. */
  maxDelay?: number;
}

export interface CallOptions {
  provider: Provider;
  /** What is being done, for messages: `get "db"`. */
  what: string;
  /**
   * Timeout in ms of the whole call: the first attempt may use all of it; retries (and their
   * backoff) only start while some of it is left, and get only what is left.
   */
  timeout: number;
  retry: RetryOptions;
  /** The load's (or caller's) overall deadline. */
  signal?: AbortSignal;
  /** Called after each failed attempt that will be retried. */
  onRetry?: (error: EnvmuxError) => void;
  /** The provider's circuit breaker, asked before each attempt and told each outcome. */
  breaker?: { breaker: Breaker; policy: BreakerPolicy };
}

/** A failure no retry can help: p-retry's `AbortError`, without loading p-retry to say it. */
class Final {
  constructor(readonly error: EnvmuxError) {}
}

/** Run `fn(signal)` against `provider` with timeout, retries, breaker and session renewal. */
export async function callProvider<T>(
  options: CallOptions,
  fn: (signal: AbortSignal, page: () => void) => Promise<T>,
): Promise<T> {
  const { provider, retry } = options;
  const started = monotonicMs();
  let reauthenticated = false;
  let last: EnvmuxError | undefined;
  let attempts = 0;

  /** One attempt through the breaker, with `ms` to answer; reports the outcome to the breaker. */
  const once = async (ms: number): Promise<T> => {
    const guard = options.breaker;
    const skipped = guard?.breaker.admit(guard.policy);
    // Skipped is final for this call: the lookup fails over, or reports which breaker is open.
    if (skipped) throw new Final(skipped);
    attempts++;
    try {
      const value = await withTimeout(options, ms, fn);
      guard?.breaker.succeeded();
      return value;
    } catch (error) {
      const e = toEnvmuxError(error, { provider: provider.id });
      if (guard) {
        if (options.signal?.aborted) guard.breaker.released();
        else if (!e.retryable) guard.breaker.succeeded();
        else guard.breaker.failed(guard.policy, e instanceof CallTimeout && ms >= options.timeout);
      }
      throw e;
    }
  };

  const attempt = async (n: number): Promise<T> => {
    options.signal?.throwIfAborted();
    // Retries share the call's one timeout: what the first attempt and the backoff left.
    const left = n === 1 ? options.timeout : options.timeout - (monotonicMs() - started);
    if (left <= 0) throw new Final(last!);
    try {
      return await once(left);
    } catch (error) {
      if (error instanceof Final) throw error;
      // A retry cut short by the budget says less than the failure that caused it.
      if (error instanceof CallTimeout && n > 1 && last) throw new Final(last);
      const e = toEnvmuxError(error, { provider: provider.id });
      last = e;
      if (e.code === 'SESSION_EXPIRED' && provider.authenticate && !reauthenticated) {
        reauthenticated = true;
        // A failed login is final (AUTH_FAILED), not another transient attempt.
        await provider.authenticate({ signal: options.signal }).catch((failure) => {
          throw new Final(toEnvmuxError(failure, { provider: provider.id }));
        });
        return once(options.timeout).catch((again) => {
          if (again instanceof Final) throw again;
          throw new Final(toEnvmuxError(again, { provider: provider.id }));
        });
      }
      if (!e.retryable || options.signal?.aborted) throw new Final(e);
      throw e;
    }
  };
  const retries = Math.max(0, (retry.attempts ?? 3) - 1);
  try {
    // The first attempt as p-retry would make it; p-retry takes over only after a failure it may
    // retry, replaying that failure as its own first attempt (same backoff, same deadline).
    options.signal?.throwIfAborted();
    let first: unknown;
    try {
      const value = await attempt(1);
      options.signal?.throwIfAborted();
      return value;
    } catch (error) {
      if (error instanceof Final) throw error.error;
      if (retries === 0) throw error;
      first = error;
    }
    const { default: pRetry, AbortError } = await import('p-retry');
    const final = (error: unknown) =>
      error instanceof Final ? new AbortError(error.error) : error;
    return await pRetry(
      (n) =>
        n === 1 ? Promise.reject(final(first)) : attempt(n).catch((e) => Promise.reject(final(e))),
      {
        retries,
        factor: 2,
        minTimeout: retry.minDelay ?? 100,
        maxTimeout: retry.maxDelay ?? 2000,
        maxRetryTime: Math.max(0, options.timeout - (monotonicMs() - started)),
        randomize: true,
        signal: options.signal,
        onFailedAttempt: ({ error, retriesLeft }) => {
          if (retriesLeft > 0) options.onRetry?.(error as EnvmuxError);
        },
      },
    );
  } catch (error) {
    if (options.signal?.aborted && !(error instanceof EnvmuxError)) {
      throw explainTimeout(
        new EnvmuxError('TIMEOUT', `${options.what}: the load deadline passed`, {
          provider: provider.id,
        }),
        options,
        attempts,
      );
    }
    throw explainTimeout(toEnvmuxError(error, { provider: provider.id }), options, attempts);
  }
}

/**
 * A TIMEOUT names the store, the attempts made and the setting that bounds it: ENVMUX_DEADLINE
 * for the whole load, else ENVMUX_TIMEOUT (docs/architecture.md, "Error codes").
 */
function explainTimeout(error: EnvmuxError, options: CallOptions, attempts: number): EnvmuxError {
  if (error.code !== 'TIMEOUT') return error;
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  error.message += ` (provider "${options.provider.id}", ${tries})`;
  error.hint ??= options.signal?.aborted
    ? 'a slow store? raise ENVMUX_DEADLINE (the whole load) or the deadline option'
    : `a slow store? raise ENVMUX_TIMEOUT (each call, retries included; now ${Math.round(options.timeout)} ms) or the timeout option`;
  return error;
}

/** The per-call timeout fired (as opposed to a TIMEOUT the provider reported itself). */
class CallTimeout extends EnvmuxError {}

/** A paged call (`page()` after each page) ends within this many call timeouts at most. */
const PAGED_CAP = 20;

/**
 * Race `fn` against the attempt's timeout (`ms`) and the overall signal. Each `page()` restarts the
 * timeout (a whole call timeout per page), up to {@link PAGED_CAP} call timeouts in all.
 */
function withTimeout<T>(
  options: CallOptions,
  ms: number,
  fn: (signal: AbortSignal, page: () => void) => Promise<T>,
): Promise<T> {
  const started = monotonicMs();
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const fail = (message: string, timedOut: boolean) => {
      const error = new (timedOut ? CallTimeout : EnvmuxError)(
        'TIMEOUT',
        `${options.what}: ${message}`,
        {
          provider: options.provider.id,
        },
      );
      controller.abort(error);
      reject(error);
    };
    const arm = (budget: number) =>
      setTimeout(
        () => fail(`no answer within ${Math.round(budget)} ms`, true),
        Math.max(1, budget),
      );
    let timer = arm(ms);
    let finished = false;
    const page = () => {
      if (finished || controller.signal.aborted) return;
      clearTimeout(timer);
      const left = PAGED_CAP * options.timeout - (monotonicMs() - started);
      timer = arm(Math.min(options.timeout, left));
    };
    const onAbort = () => fail('the load deadline passed', false);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      finished = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    fn(controller.signal, page).then(
      (value) => {
        done();
        resolve(value);
      },
      (error) => {
        done();
        reject(error);
      },
    );
  });
}

/** `call(provider, what, fn, signal)`: one provider call under the resolver's limits. */
export type ProviderCaller = <T>(
  provider: Provider,
  what: string,
  fn: (signal: AbortSignal, page: () => void) => Promise<T>,
  signal?: AbortSignal,
) => Promise<T>;

/** The resolver's caller: {@link callProvider} behind a concurrency limit shared by all calls. */
export function createCaller(options: {
  timeout: number;
  retry: RetryOptions;
  concurrency: number;
  onRetry: (provider: Provider, error: EnvmuxError) => void;
  /** The breaker of a provider (and the policy to use it with); `undefined`: no breaker. */
  breakerOf?: (provider: Provider) => CallOptions['breaker'];
}): ProviderCaller {
  const limit = createLimiter(options.concurrency);
  return (provider, what, fn, signal) =>
    limit(() =>
      callProvider(
        {
          provider,
          what,
          timeout: options.timeout,
          retry: options.retry,
          signal,
          onRetry: (error) => options.onRetry(provider, error),
          breaker: options.breakerOf?.(provider),
        },
        fn,
      ),
    );
}
