// Writes of one resolver: `set`, `delete` and `rotate` go to the pinned provider, else the first
// writable provider of the chain (or every one, with `writeTo: 'all'`); each outcome is reported,
// every cache tier is invalidated, and no value is ever recorded. See docs/architecture.md, "Writes".

import type { AuditLog } from '../audit/audit-log.js';
import { EnvmuxAggregateError, EnvmuxError, toEnvmuxError } from '../errors.js';
import type { Provider, WriteContext } from '../providers/provider.js';
import type { CacheTiers } from './cache-tiers.js';
import type { ProviderCaller } from './call.js';
import type { Chain } from './chain.js';

/** What one provider did with a write. */
export interface WriteOutcome {
  provider: string;
  version?: string;
  error?: EnvmuxError;
}

export interface Writes {
  set(
    name: string,
    value: string,
    options?: WriteContext & { provider?: string },
  ): Promise<WriteOutcome[]>;
  delete(name: string, options?: { provider?: string; force?: boolean }): Promise<WriteOutcome[]>;
  rotate(
    name: string,
    options?: { provider?: string; generate?: () => string | Promise<string> },
  ): Promise<WriteOutcome[]>;
}

type WriteAction = 'set' | 'delete' | 'rotate';

export function createWrites(options: {
  chain: Chain;
  call: ProviderCaller;
  tiers: CacheTiers;
  record: AuditLog['record'];
  writeTo?: 'first' | 'all';
}): Writes {
  const { chain, call, tiers, record } = options;
  const can = (p: Provider, capability: WriteAction) =>
    typeof p[capability] === 'function' || (capability === 'rotate' && !!p.set);

  const targets = async (provider: string | undefined, capability: WriteAction) => {
    if (provider) {
      const p = await chain.pinned(provider);
      if (!can(p, capability)) {
        throw new EnvmuxError('CONFIG', `provider "${p.id}" cannot ${capability}`, {
          provider: p.id,
        });
      }
      return [p];
    }
    const candidates = (await chain.providers()).filter((p) => can(p, capability));
    if (!candidates.length) {
      throw new EnvmuxError('CONFIG', `no provider of the chain can ${capability}`, {
        hint: 'add a writable provider, or pin one with { provider }',
      });
    }
    return options.writeTo === 'all' ? candidates : candidates.slice(0, 1);
  };

  const writeEach = async (
    name: string,
    action: WriteAction,
    providers: Provider[],
    fn: (p: Provider, signal: AbortSignal) => Promise<{ version?: string } | undefined>,
  ): Promise<WriteOutcome[]> => {
    const outcomes = await Promise.all(
      providers.map(async (p): Promise<WriteOutcome> => {
        const started = performance.now();
        try {
          const result = await call(p, `${action} "${name}"`, (s) => fn(p, s));
          record({
            action,
            key: name,
            provider: p.id,
            outcome: 'ok',
            durationMs: performance.now() - started,
          });
          return { provider: p.id, ...(result?.version ? { version: result.version } : {}) };
        } catch (error) {
          const e = toEnvmuxError(error, { provider: p.id });
          record({ action, key: name, provider: p.id, outcome: 'error', code: e.code });
          return { provider: p.id, error: e };
        } finally {
          tiers.memory?.invalidate(name);
          await (await tiers.second()?.catch(() => undefined))?.invalidate(name);
        }
      }),
    );
    const failed = outcomes.filter((o) => o.error);
    if (failed.length === outcomes.length) {
      throw failed.length === 1
        ? failed[0]!.error!
        : new EnvmuxAggregateError(
            failed.map((o) => o.error!),
            `${action} "${name}" failed`,
          );
    }
    return outcomes;
  };

  return {
    async set(name, value, writeOptions = {}) {
      const { provider, ...ctx } = writeOptions;
      return writeEach(name, 'set', await targets(provider, 'set'), (p, signal) =>
        p.set!(name, value, { ...ctx, signal }),
      );
    },
    async delete(name, deleteOptions = {}) {
      const providers = await targets(deleteOptions.provider, 'delete');
      return writeEach(name, 'delete', providers, async (p, signal) => {
        await p.delete!(name, { force: deleteOptions.force, signal });
        return undefined;
      });
    },
    async rotate(name, rotateOptions = {}) {
      const providers = await targets(rotateOptions.provider, 'rotate');
      const generate =
        rotateOptions.generate ??
        (async () => (await import('node:crypto')).randomBytes(32).toString('base64url'));
      // One new value for every store written: a primary and its replica never diverge.
      const value = await generate();
      if (typeof value !== 'string' || value === '') {
        throw new EnvmuxError('CONFIG', `rotate "${name}": the generator returned no string`, {
          hint: 'generate must return (or resolve to) a non-empty string',
        });
      }
      return writeEach(name, 'rotate', providers, async (p, signal) =>
        p.rotate
          ? p.rotate(name, { generate: () => value, signal })
          : p.set!(name, value, { signal }),
      );
    },
  };
}
