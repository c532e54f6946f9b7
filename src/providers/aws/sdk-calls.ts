// One AWS SDK client per provider and the way each command goes through it: created on first use,
// SDK errors mapped to envmux codes, recreated on re-authentication. Shared by Secrets Manager and SSM.

import { monotonicMs } from '../../resolver/clock.js';
import type { HealthResult } from '../provider.js';
import { type AwsSdkClient, lazyClient } from './config.js';
import { fromAwsError } from './errors.js';

/** How one AWS provider reaches its service. */
export interface AwsSdkCalls<Sdk> {
  /** Send one command built from the SDK module; SDK errors come back mapped (`name` is the user's, for messages). */
  send<T>(
    operation: string,
    name: string | undefined,
    build: (lib: Sdk) => unknown,
    signal?: AbortSignal,
  ): Promise<T>;
  /**
   * The provider's `authenticate` (a fresh client resolves credentials again: a new role session,
   * refreshed SSO tokens), `health` (one cheap `probe` call, timed) and `close`.
   */
  lifecycle(probe: (signal?: AbortSignal) => Promise<unknown>): {
    authenticate(): Promise<void>;
    health(ctx: { signal?: AbortSignal }): Promise<HealthResult>;
    close(): Promise<void>;
  };
}

/** The SDK calls of provider `id` on `service` (the IAM action prefix: `secretsmanager`, `ssm`). */
export function awsSdkCalls<Sdk, C extends AwsSdkClient>(spec: {
  id: string;
  service: string;
  loadSdk: () => Promise<Sdk>;
  /** A client handed in (used as is), else `create` makes one on first use. */
  injected: AwsSdkClient | undefined;
  create: (lib: Sdk) => C;
}): AwsSdkCalls<Sdk> {
  const { id, service, loadSdk } = spec;
  const client = lazyClient<C>(spec.injected, async () => spec.create(await loadSdk()));
  return {
    async send<T>(
      operation: string,
      name: string | undefined,
      build: (lib: Sdk) => unknown,
      signal?: AbortSignal,
    ): Promise<T> {
      const lib = await loadSdk();
      const c = await client.get();
      try {
        return (await c.send(build(lib) as never, signal ? { abortSignal: signal } : {})) as T;
      } catch (error) {
        throw fromAwsError(error, {
          provider: id,
          operation,
          name,
          action: `${service}:${operation}`,
        });
      }
    },
    lifecycle(probe) {
      return {
        async authenticate() {
          client.reset();
        },
        async health(ctx) {
          const started = monotonicMs();
          await probe(ctx.signal);
          return { ok: true, latencyMs: monotonicMs() - started };
        },
        async close() {
          client.close();
        },
      };
    },
  };
}
