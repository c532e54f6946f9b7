// The per-provider circuit breaker of the read and write paths: after consecutive transient failures
// a store is skipped until a cool-down ends, then probed by one call. Holds counts and times, never a value.

import { EnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
import { parseDuration } from './durations.js';

/** Circuit breaker settings (docs/architecture.md, "Resolution"). */
export interface BreakerOptions {
  /**
   * Consecutive transient failures (UNAVAILABLE, TIMEOUT, THROTTLED attempts) that open the breaker;
   * default 3. A call that ran out its whole call timeout opens it at once: one wait is all a dead
   * store may cost a load.
   */
  threshold?: number;
  /**
   * How long an open breaker skips its provider (ms or `30s`), across loads of the process; then
   * one probe call goes out (half-open) and its outcome closes or reopens it. Default 30 s
   * (`ENVMUX_BREAKER_COOLDOWN`).
   */
  coolDown?: number | string;
}

/** What `resolver.breakers()` reports for one provider. */
export interface BreakerState {
  provider: string;
  /** `closed`: calls go out; `open`: skipped until `retryAt`; `half-open`: the next call is a probe. */
  state: 'closed' | 'open' | 'half-open';
  /** Consecutive transient failures so far. */
  failures: number;
  /** When an open breaker lets a probe through. */
  retryAt?: Date;
}

/** The settings a breaker is used with (a resolver's, resolved to numbers). */
export interface BreakerPolicy {
  threshold: number;
  coolDown: number;
}

/** Resolve user options (and `ENVMUX_BREAKER_COOLDOWN`) to a policy; `false` turns breakers off. */
export function breakerPolicy(
  options: BreakerOptions | false | undefined,
  environment: Record<string, string | undefined>,
): BreakerPolicy | undefined {
  if (options === false) return undefined;
  const threshold = options?.threshold ?? 3;
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new EnvmuxError('CONFIG', '`breaker.threshold` must be a whole number ≥ 1', {
      hint: 'e.g. breaker: { threshold: 3 }, or breaker: false to turn the breaker off',
    });
  }
  return {
    threshold,
    coolDown: parseDuration(options?.coolDown ?? environment.ENVMUX_BREAKER_COOLDOWN, 30_000),
  };
}

/** One provider's breaker. Calls ask {@link Breaker.admit} before each attempt and report its outcome. */
export class Breaker {
  private failures = 0;
  private openUntil = 0;
  private timedOut = false;
  private probing = false;

  constructor(private readonly provider: string) {}

  /**
   * `undefined` lets an attempt go out; else the UNAVAILABLE that says the provider is skipped.
   * After the cool-down exactly one attempt (the probe) is admitted until its outcome is reported.
   */
  admit(policy: BreakerPolicy): EnvmuxError | undefined {
    if (this.failures < policy.threshold) return undefined;
    if (Date.now() >= this.openUntil && !this.probing) {
      this.probing = true;
      return undefined;
    }
    const n = this.failures;
    const last = this.timedOut ? ', the last a timeout' : '';
    return new EnvmuxError(
      'UNAVAILABLE',
      `provider "${this.provider}" skipped: ${n} consecutive failure${n === 1 ? '' : 's'}${last}, retry after ${new Date(this.openUntil).toISOString()}`,
      {
        provider: this.provider,
        hint: `the circuit breaker is open; one probe goes out after the cool-down (${policy.coolDown} ms)`,
      },
    );
  }

  /** An admitted attempt ended without telling anything about the store (the load's deadline passed). */
  released(): void {
    this.probing = false;
  }

  /** The store answered (a value, "not here", or a non-transient error): close. */
  succeeded(): void {
    this.failures = 0;
    this.timedOut = false;
    this.probing = false;
  }

  /** A transient failure; `timedOut` when the attempt ran out the whole call timeout. */
  failed(policy: BreakerPolicy, timedOut: boolean): void {
    const wasOpen = this.failures >= policy.threshold;
    this.failures = timedOut ? Math.max(this.failures + 1, policy.threshold) : this.failures + 1;
    this.timedOut = timedOut;
    if (this.failures >= policy.threshold && (!wasOpen || this.probing)) {
      this.openUntil = Date.now() + policy.coolDown;
    }
    this.probing = false;
  }

  state(policy: BreakerPolicy): BreakerState {
    const base = { provider: this.provider, failures: this.failures };
    if (this.failures < policy.threshold) return { ...base, state: 'closed' };
    const retryAt = new Date(this.openUntil);
    return { ...base, state: Date.now() >= this.openUntil ? 'half-open' : 'open', retryAt };
  }
}

type Scope = object;
const REGISTRY = Symbol.for('envmux.breakers');

/**
 * The process-wide breakers, so a cool-down outlasts one load (`loadConfig` builds a resolver per
 * load). A provider object the caller handed in is its own scope; a provider built from a type name
 * is the same store whenever it is built from the same environment object, so it is keyed by that
 * environment, its type and its id.
 */
function registry(): WeakMap<Scope, Map<string, Breaker>> {
  const g = globalThis as { [REGISTRY]?: WeakMap<Scope, Map<string, Breaker>> };
  g[REGISTRY] ??= new WeakMap();
  return g[REGISTRY];
}

/** The breaker of `provider`: scoped by the provider object itself, or by `environment` when built. */
export function breakerOf(provider: Provider, builtFrom?: Scope): Breaker {
  const scope = builtFrom ?? provider;
  const all = registry();
  let byName = all.get(scope);
  if (!byName) {
    byName = new Map();
    all.set(scope, byName);
  }
  const key = `${provider.type}\0${provider.id}`;
  let breaker = byName.get(key);
  if (!breaker) {
    breaker = new Breaker(provider.id);
    byName.set(key, breaker);
  }
  return breaker;
}
