// Watching a whole load: the requests a load made are watched (watch.ts), and a real change reloads
// the environment through the same resolver; used by `loadConfig({ watch })` and `envmux run --watch`.
// Events name keys, providers and versions, never values. See docs/architecture.md, "Resolution".

import type { EnvmuxError } from '../errors.js';
import type { Resolver } from './client.js';
import { requestKey, type SecretRequest } from './resolve.js';
import type { ChangeEvent, WatchOptions } from './watch.js';

/** How often and how a load is re-read (the timing options of `resolver.watch`). */
export type WatchTiming = Pick<WatchOptions, 'interval' | 'jitter' | 'debounce'>;

/** `loadConfig({ watch })`: re-read the load's secrets and re-validate on a real change. */
export interface ConfigWatchOptions extends WatchTiming {
  /**
   * A change re-validated and is now the current config (`watcher.current()`). Carries the secrets
   * that changed (key, provider, versions) and the config keys whose value changed — never values.
   */
  onChange?: (event: ConfigChangeEvent) => void;
  /**
   * A changed secret did not load or validate (or was removed): the previous config is kept. The
   * error is the load's usual aggregate, scrubbed of every value the load saw.
   */
  onError?: (error: EnvmuxError) => void;
}

/** A change that reloaded and validated. */
export interface ConfigChangeEvent {
  type: 'change';
  /** The secrets whose content changed (SHA-256 digest), with provider and versions. */
  changes: ChangeEvent[];
  /** The config keys whose value is now different. */
  keys: string[];
}

/** What `loadConfig({ watch })` returns beside the config. */
export interface ConfigWatcher<T> {
  /** The current config: the first load's until a change validates, then the latest valid one. */
  current(): Readonly<T>;
  /** Re-read now (outside the interval); resolves once any reload it caused is done. */
  refreshNow(): Promise<void>;
  /** Stop watching and close the resolver the watch created. */
  close(): Promise<void>;
}

/** A load result plus the watcher that keeps it current. */
export interface WatchedConfig<T> {
  /** The config as first loaded (use `watcher.current()` for the latest). */
  config: Readonly<T>;
  watcher: ConfigWatcher<T>;
}

/** A resolver that remembers every request its loads fetched (what a watch re-reads). */
export function recordingResolver(inner: Resolver, requests: Map<string, SecretRequest>): Resolver {
  return {
    ...inner,
    async fetch(batch, signal) {
      for (const request of batch) requests.set(requestKey(request), request);
      return inner.fetch(batch, signal);
    },
  };
}

/** A running watch of a load. */
export interface ReloadingWatch {
  refreshNow(): Promise<void>;
  close(): void;
}

/**
 * Watch `requests` through `resolver` and call `reload` with the changes once they are seen: the
 * changes of one poll together, one reload at a time (changes seen during a reload wait for it).
 */
export function watchReloads(
  resolver: Resolver,
  requests: SecretRequest[],
  timing: WatchTiming,
  reload: (changes: ChangeEvent[]) => Promise<void>,
  onReadError?: (error: EnvmuxError, key: string) => void,
): ReloadingWatch {
  let pending: ChangeEvent[] = [];
  let scheduled: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const drain = () => {
    scheduled = undefined;
    const changes = pending;
    pending = [];
    if (!changes.length || closed) return;
    running = running.then(() => (closed ? undefined : reload(changes))).catch(() => {});
  };
  const handle = resolver.watch(requests, {
    ...timing,
    onChange(event) {
      pending.push(event);
      // The reads of one poll finish within a tick of each other: reload once for all of them.
      scheduled ??= setTimeout(drain, 0);
    },
    onError: onReadError,
  });
  return {
    async refreshNow() {
      await handle.refreshNow();
      if (scheduled) {
        clearTimeout(scheduled);
        drain();
      }
      await running;
    },
    close() {
      closed = true;
      clearTimeout(scheduled);
      handle.close();
    },
  };
}

/** The keys whose value differs between two configs (names only). */
export function changedKeys(before: object, after: object): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !sameValue(a[k], b[k])).sort();
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    try {
      return JSON.stringify(a) === JSON.stringify(b);
    } catch {
      return false;
    }
  }
  return false;
}
