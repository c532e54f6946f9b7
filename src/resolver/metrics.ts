// The resolver's metrics hook (`onMetric`): typed events for cache lookups, provider calls and
// circuit-breaker state changes — names, providers, codes and timings, never a value.

import type { AuditInput } from '../audit/audit-log.js';
import { type ErrorCode, toEnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
import type { BreakerState } from './breaker.js';
import type { ProviderCaller } from './call.js';
import { monotonicMs } from './clock.js';

/** A cache lookup: answered by a tier (`hit`, `l2` for the shared tier), not (`miss`), or stale-if-error (`stale`). */
export interface CacheMetric {
  type: 'cache';
  outcome: 'hit' | 'miss' | 'stale' | 'bypass';
  /** The secret's name. */
  key: string;
  /** The provider whose answer was (or will be) cached. */
  provider?: string;
}

/** One provider call (retries included): how long it took and how it ended. */
export interface ProviderCallMetric {
  type: 'provider-call';
  provider: string;
  /** What was done, without a value: `get "db"`, `batch of 12`, `set "db"`. */
  operation: string;
  durationMs: number;
  /** `ok`, or the error code the call ended with. */
  outcome: 'ok' | ErrorCode;
}

/** A provider's circuit breaker changed state. */
export interface BreakerMetric {
  type: 'breaker';
  provider: string;
  from: BreakerState['state'];
  to: BreakerState['state'];
  failures: number;
}

/** What `onMetric` receives (docs/architecture.md, "Resolution"). Never carries a value. */
export type ResolverMetric = CacheMetric | ProviderCallMetric | BreakerMetric;

/** A consumer of metric events. It must not throw; if it does, the error is swallowed. */
export type MetricListener = (metric: ResolverMetric) => void;

/** Call `listener` safely: a broken exporter never breaks resolution. */
export function safeListener(listener: MetricListener | undefined): MetricListener | undefined {
  if (!listener) return undefined;
  return (metric) => {
    try {
      listener(metric);
    } catch {
      // ignored, like a broken audit sink
    }
  };
}

/** The cache event an audit entry of the read path stands for, if any. */
export function cacheMetricOf(entry: AuditInput): CacheMetric | undefined {
  if (entry.action !== 'get' || !entry.cache || entry.key === undefined) return undefined;
  return {
    type: 'cache',
    outcome: entry.cache,
    key: entry.key,
    ...(entry.provider ? { provider: entry.provider } : {}),
  };
}

/**
 * Wrap a caller so every provider call emits a {@link ProviderCallMetric}, and a breaker whose state
 * differs after the call from the state last seen emits a {@link BreakerMetric}.
 */
export function meteredCaller(
  call: ProviderCaller,
  emit: MetricListener,
  breakerState?: (provider: Provider) => BreakerState | undefined,
): ProviderCaller {
  const seen = new Map<string, BreakerState['state']>();
  const watchBreaker = (provider: Provider) => {
    const state = breakerState?.(provider);
    if (!state) return;
    const from = seen.get(provider.id) ?? 'closed';
    seen.set(provider.id, state.state);
    if (from !== state.state) {
      emit({
        type: 'breaker',
        provider: provider.id,
        from,
        to: state.state,
        failures: state.failures,
      });
    }
  };
  return async (provider, what, fn, signal) => {
    const started = monotonicMs();
    try {
      const result = await call(provider, what, fn, signal);
      emit({
        type: 'provider-call',
        provider: provider.id,
        operation: what,
        durationMs: monotonicMs() - started,
        outcome: 'ok',
      });
      return result;
    } catch (error) {
      emit({
        type: 'provider-call',
        provider: provider.id,
        operation: what,
        durationMs: monotonicMs() - started,
        outcome: toEnvmuxError(error, { provider: provider.id }).code,
      });
      throw error;
    } finally {
      watchBreaker(provider);
    }
  };
}
