// `resolver.watch(names)`: re-read secrets on an interval (with jitter, timers unref'd) and report
// typed change events — key, provider, versions when known, never a value — only when the content's
// SHA-256 digest really changed, debounced. See docs/architecture.md, "Resolution".

import { nodeCrypto } from '../crypto/lazy-crypto.js';
import type { EnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
import { parseDuration } from './durations.js';
import { requestKey, type SecretAnswer, type SecretRequest, shownName } from './resolve.js';

/** A watched secret's content changed. */
export interface ChangeEvent {
  type: 'change';
  /** The secret's name (as the reference shows it). */
  key: string;
  /** The provider that answered the new value. */
  provider?: string;
  /** The version before / after, when the provider keeps versions. */
  oldVersion?: string;
  newVersion?: string;
  /** Always true: events are only sent on a changed digest. */
  digestChanged: true;
  /** `true` when the secret no longer exists (its old value was removed). */
  removed?: boolean;
}

export interface WatchOptions {
  /** Time between re-reads (ms or `30s`); default 30 s. */
  interval?: number | string;
  /** Up to this much random time is added to each interval (ms or `5s`); default 10% of it. */
  jitter?: number | string;
  /**
   * A change is reported once it has stayed this long (ms or `1s`): a read at its end must still
   * see it, so a value that changes back within it is not reported. Default 0: reported at the
   * read that saw it.
   */
  debounce?: number | string;
  /** Pin a provider id instead of walking the chain. */
  provider?: string;
  onChange: (event: ChangeEvent) => void;
  /** A re-read failed (the last known digest is kept); names and codes only. */
  onError?: (error: EnvmuxError, key: string) => void;
}

/** What `watch()` returns. */
export interface WatchHandle {
  /** Re-read now, outside the interval; resolves when the reads are done. */
  refreshNow(): Promise<void>;
  /** Stop watching (timers cleared). */
  close(): void;
}

interface Known {
  digest?: string;
  version?: string;
  /** A change waiting for its debounce. */
  pending?: { digest: string | undefined; timer: NodeJS.Timeout; due?: boolean };
}

/** SHA-256 of a value (never stored beside the value's name in anything exported). */
export function digestOf(value: string | undefined): string | undefined {
  return value === undefined
    ? undefined
    : nodeCrypto().createHash('sha256').update(value).digest('hex');
}

/**
 * Start watching `targets` through `read` (a cache-bypassing read of the resolver): secret names
 * (read through the chain, or `options.provider`), or requests as a load made them (pinned
 * provider, version).
 */
export function startWatch(
  targets: (string | SecretRequest)[],
  options: WatchOptions,
  read: (request: SecretRequest) => Promise<SecretAnswer>,
  providerById: (id: string) => Promise<Provider | undefined>,
): WatchHandle {
  const interval = Math.max(10, parseDuration(options.interval ?? undefined, 30_000));
  const jitter = parseDuration(options.jitter ?? undefined, Math.round(interval / 10));
  const debounce = parseDuration(options.debounce ?? undefined, 0);
  const requests = new Map<string, SecretRequest>();
  for (const target of targets) {
    const request =
      typeof target === 'string' ? { scheme: options.provider ?? 'secret', name: target } : target;
    requests.set(requestKey(request), request);
  }
  const known = new Map<string, Known>([...requests.keys()].map((k) => [k, {}]));
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let first = true;

  const versionOf = async (providerId: string | undefined, name: string) => {
    if (!providerId) return undefined;
    const p = await providerById(providerId).catch(() => undefined);
    if (!p?.versions) return undefined;
    try {
      const list = await p.versions(name, {});
      return (list.find((v) => v.stages?.includes('latest')) ?? list[list.length - 1])?.version;
    } catch {
      return undefined;
    }
  };

  const emit = (state: Known, digest: string | undefined, event: ChangeEvent) => {
    state.digest = digest;
    state.version = event.newVersion;
    state.pending = undefined;
    if (!closed) {
      try {
        options.onChange(event);
      } catch {
        // a listener's failure must not stop the watch
      }
    }
  };

  /**
   * Read one secret and compare its digest. With a debounce, a change waits for its timer, whose
   * end reads again: the change is reported only when that read still sees the changed content, so
   * a value read half-written, or changed back meanwhile, is never reported.
   */
  const check = async (id: string) => {
    const state = known.get(id)!;
    const request = requests.get(id)!;
    const name = shownName(request);
    const answer = await read(request);
    if ('error' in answer) {
      if (state.pending?.due) state.pending = undefined; // unconfirmed: the next read starts over
      options.onError?.(answer.error, name);
      return;
    }
    const digest = digestOf(answer.value);
    const version = request.shown ? undefined : await versionOf(answer.provider, request.name);
    if (first) {
      state.digest = digest;
      state.version = version;
      return;
    }
    const pending = state.pending;
    if (pending && pending.digest === digest && !pending.due) return; // waiting for its timer
    if (pending && pending.digest !== digest) {
      clearTimeout(pending.timer);
      state.pending = undefined;
    }
    if (digest === state.digest) return;
    const event: ChangeEvent = {
      type: 'change',
      key: name,
      ...(answer.provider ? { provider: answer.provider } : {}),
      ...(state.version ? { oldVersion: state.version } : {}),
      ...(version ? { newVersion: version } : {}),
      digestChanged: true,
      ...(digest === undefined ? { removed: true } : {}),
    };
    if (debounce <= 0 || state.pending?.due) emit(state, digest, event);
    else {
      const timer = setTimeout(() => {
        if (state.pending?.timer !== timer) return;
        state.pending.due = true;
        void check(id).catch(() => {});
      }, debounce);
      timer.unref();
      state.pending = { digest, timer };
    }
  };

  let running: Promise<void> | undefined;
  const poll = () => {
    running ??= Promise.all([...known.keys()].map((id) => check(id).catch(() => {})))
      .then(() => {
        first = false;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(
      () => {
        void poll().finally(schedule);
      },
      interval + Math.random() * jitter,
    );
    timer.unref();
  };

  const started = poll();
  void started.finally(schedule);

  return {
    async refreshNow() {
      await started;
      await poll();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      for (const state of known.values()) if (state.pending) clearTimeout(state.pending.timer);
    },
  };
}
