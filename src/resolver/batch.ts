// Batching: reads of latest values for one provider, requested in the same turn of the event loop,
// go out as `getMany` calls of at most `batchSize` names. A batch refused with ACCESS_DENIED
// (policies that allow GetSecretValue but not BatchGetSecretValue) switches to single reads.

import { EnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';

interface Waiter {
  resolve: (value: string | undefined) => void;
  reject: (error: unknown) => void;
}

export interface BatchLoaderOptions {
  provider: Provider;
  /** Run one `getMany` (already limited, timed and retried by the caller). */
  readMany: (names: string[], signal?: AbortSignal) => Promise<Map<string, string | Error>>;
  /** Read one name singly, after batching was refused. */
  readOne: (name: string, signal?: AbortSignal) => Promise<string | undefined>;
  /** Called once when batching is given up for this provider. */
  onBatchRefused: (error: EnvmuxError) => void;
}

export class BatchLoader {
  private queue = new Map<string, Waiter[]>();
  private signal: AbortSignal | undefined;
  private scheduled = false;
  private refused = false;

  constructor(private readonly options: BatchLoaderOptions) {}

  /** Whether batching still applies (false once the store refused a batch). */
  get active(): boolean {
    return !this.refused;
  }

  load(name: string, signal?: AbortSignal): Promise<string | undefined> {
    if (this.refused) return this.options.readOne(name, signal);
    return new Promise((resolve, reject) => {
      const waiters = this.queue.get(name);
      if (waiters) waiters.push({ resolve, reject });
      else this.queue.set(name, [{ resolve, reject }]);
      this.signal ??= signal;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const queue = this.queue;
    const signal = this.signal;
    this.queue = new Map();
    this.signal = undefined;
    this.scheduled = false;
    const names = [...queue.keys()];
    const size = Math.max(1, this.options.provider.batchSize ?? 100);
    for (let i = 0; i < names.length; i += size) {
      void this.runChunk(names.slice(i, i + size), queue, signal);
    }
  }

  private async runChunk(names: string[], queue: Map<string, Waiter[]>, signal?: AbortSignal) {
    const settle = (name: string, outcome: string | undefined | Error) => {
      for (const w of queue.get(name) ?? []) {
        if (outcome instanceof Error) w.reject(outcome);
        else w.resolve(outcome);
      }
    };
    let found: Map<string, string | Error>;
    try {
      found = await this.options.readMany(names, signal);
    } catch (error) {
      if (error instanceof EnvmuxError && error.code === 'ACCESS_DENIED' && !this.refused) {
        this.refused = true;
        this.options.onBatchRefused(error);
      }
      if (this.refused) {
        await Promise.all(
          names.map((name) =>
            this.options.readOne(name, signal).then(
              (value) => settle(name, value),
              (e) => settle(name, e),
            ),
          ),
        );
        return;
      }
      for (const name of names) settle(name, error as Error);
      return;
    }
    for (const name of names) settle(name, found.get(name));
  }
}
