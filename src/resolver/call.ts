// One provider call, made reliable: a per-call timeout that holds even when the provider ignores
// its signal, retries with backoff and jitter on transient codes only (p-retry), and one
// re-authentication after SESSION_EXPIRED.

import pRetry, { AbortError } from 'p-retry';
import { EnvmuxError, toEnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
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
  /** Per-attempt timeout in ms. */
  timeout: number;
  retry: RetryOptions;
  /** The load's (or caller's) overall deadline. */
  signal?: AbortSignal;
  /** Called after each failed attempt that will be retried. */
  onRetry?: (error: EnvmuxError) => void;
}

/** Run `fn(signal)` against `provider` with timeout, retries and session renewal. */
export async function callProvider<T>(
  options: CallOptions,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { provider, retry } = options;
  let reauthenticated = false;
  const attempt = async (): Promise<T> => {
    options.signal?.throwIfAborted();
    try {
      return await withTimeout(options, fn);
    } catch (error) {
      const e = toEnvmuxError(error, { provider: provider.id });
      if (e.code === 'SESSION_EXPIRED' && provider.authenticate && !reauthenticated) {
        reauthenticated = true;
        // A failed login is final (AUTH_FAILED), not another transient attempt.
        await provider.authenticate({ signal: options.signal }).catch((failure) => {
          throw new AbortError(toEnvmuxError(failure, { provider: provider.id }));
        });
        return withTimeout(options, fn).catch((again) => {
          throw new AbortError(toEnvmuxError(again, { provider: provider.id }));
        });
      }
      if (!e.retryable || options.signal?.aborted) throw new AbortError(e);
      throw e;
    }
  };
  try {
    return await pRetry(attempt, {
      retries: Math.max(0, (retry.attempts ?? 3) - 1),
      factor: 2,
      minTimeout: retry.minDelay ?? 100,
      maxTimeout: retry.maxDelay ?? 2000,
      randomize: true,
      signal: options.signal,
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (retriesLeft > 0) options.onRetry?.(error as EnvmuxError);
      },
    });
  } catch (error) {
    if (options.signal?.aborted && !(error instanceof EnvmuxError)) {
      throw new EnvmuxError('TIMEOUT', `${options.what}: the load deadline passed`, {
        provider: provider.id,
      });
    }
    throw toEnvmuxError(error, { provider: provider.id });
  }
}

/** Race `fn` against the per-call timeout and the overall signal. */
function withTimeout<T>(options: CallOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const fail = (message: string) => {
      const error = new EnvmuxError('TIMEOUT', `${options.what}: ${message}`, {
        provider: options.provider.id,
      });
      controller.abort(error);
      reject(error);
    };
    const timer = setTimeout(() => fail(`no answer within ${options.timeout} ms`), options.timeout);
    const onAbort = () => fail('the load deadline passed');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    fn(controller.signal).then(
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
  fn: (signal: AbortSignal) => Promise<T>,
  signal?: AbortSignal,
) => Promise<T>;

/** The resolver's caller: {@link callProvider} behind a concurrency limit shared by all calls. */
export function createCaller(options: {
  timeout: number;
  retry: RetryOptions;
  concurrency: number;
  onRetry: (provider: Provider, error: EnvmuxError) => void;
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
        },
        fn,
      ),
    );
}
