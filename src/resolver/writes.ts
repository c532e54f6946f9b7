// Writes of one resolver: `set`, `delete` and `rotate` go to the pinned provider, else the first
// writable provider of the chain (or every one, with `writeTo: 'all'`); each outcome is reported,
// every cache tier is invalidated, and no value is ever recorded. See docs/architecture.md, "Writes".

import { type AuditLog, currentActor } from '../audit/audit-log.js';
import { EnvmuxAggregateError, EnvmuxError, toEnvmuxError } from '../errors.js';
import {
  capabilitiesOf,
  type Provider,
  RETIRE_METADATA,
  type WriteContext,
} from '../providers/provider.js';
import { formatRetireMarker, parseRetireMarker } from '../providers/retire-version.js';
import type { CacheTiers } from './cache-tiers.js';
import type { ProviderCaller } from './call.js';
import type { Chain } from './chain.js';
import { monotonicMs } from './clock.js';
import { parseDuration } from './durations.js';
import { SeenValues } from './scrub.js';

/** What one provider did with a write. */
export interface WriteOutcome {
  provider: string;
  version?: string;
  /** The version a rotation made `previous` (what `grace` retires). */
  previous?: string;
  /** A dry run: nothing was written. */
  dryRun?: boolean;
  error?: EnvmuxError;
}

/** What a rotation does besides writing the new value (docs/architecture.md, "Writes"). */
export interface RotateOptions {
  /** Pin a provider id instead of the first writable one of the chain. */
  provider?: string;
  /** Produces the new value (one value for every store written); default 32 random bytes, base64url. */
  generate?: () => string | Promise<string>;
  /**
   * How long the rotated-out value stays readable as `previous` (ms or `1h`); after it, the next
   * `rotate` or `retireExpired()` of a resolver retires it where the store can remove a version
   * (local vault, memory). Default: `previous` is kept.
   */
  grace?: number | string;
  /**
   * Puts the new value into service (e.g. `ALTER USER … PASSWORD`) after it is written and before
   * the rotation is committed; a throw rolls the store back to the old value.
   */
  apply?: (value: string, context: { name: string }) => unknown;
  /** Verifies the new value after `apply` (e.g. a login); a throw rolls back, like `apply`'s. */
  test?: (value: string, context: { name: string }) => unknown;
  /** Say which stores would be rotated; write nothing. */
  dryRun?: boolean;
  /**
   * Store-native rotation (AWS `RotateSecret`): the rotation function's ARN. The store makes the new
   * value, so `generate`, `apply` and `test` do not apply (the function does those steps).
   */
  lambda?: string;
  /** With native rotation, how often the store rotates by itself: `30d`, or `rate(...)`/`cron(...)`. */
  schedule?: string | number;
}

/** A `previous` version waiting for the end of its grace period. */
export interface Retirement {
  provider: string;
  name: string;
  version: string;
  /** When the grace period ends (ms since the epoch). */
  due: number;
}

export interface Writes {
  set(
    name: string,
    value: string,
    options?: WriteContext & { provider?: string },
  ): Promise<WriteOutcome[]>;
  delete(name: string, options?: { provider?: string; force?: boolean }): Promise<WriteOutcome[]>;
  /**
   * Write a new value (generated once for every store), run `apply` then `test` with it, and commit
   * — or roll every store back when either throws; every cache tier is invalidated and each step is
   * audited (names only). With `grace`, the old version is retired once the grace period is over.
   */
  rotate(name: string, options?: RotateOptions): Promise<WriteOutcome[]>;
  /** Retire every rotated-out version whose grace period is over; returns what was retired. */
  retireExpired(): Promise<Retirement[]>;
  /** Retirements scheduled and not yet due, for `status`-style reports. */
  pendingRetirements(): Retirement[];
}

export { RETIRE_METADATA } from '../providers/provider.js';

type WriteAction = 'set' | 'delete' | 'rotate';

/** What a store held before a rotation: what a rollback goes back to. */
interface Before {
  /** Its latest version (retired after the grace period, or restored by a rollback). */
  version?: string;
  /** The old value, where a version cannot be removed (kept in memory only). */
  value?: string;
  /** Its metadata, where the rotation wrote a retirement marker (`''` in it: there was none). */
  metadata?: Record<string, string>;
}

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
    /** Values the errors must not hold (the value being written). */
    scrub?: SeenValues,
  ): Promise<WriteOutcome[]> => {
    const outcomes = await Promise.all(
      providers.map(async (p): Promise<WriteOutcome> => {
        const started = monotonicMs();
        try {
          const result = await call(p, `${action} "${name}"`, (s) => fn(p, s));
          record({
            action,
            key: name,
            provider: p.id,
            outcome: 'ok',
            durationMs: monotonicMs() - started,
            ...(action === 'rotate' ? { step: 'write' as const } : {}),
          });
          return { provider: p.id, ...(result?.version ? { version: result.version } : {}) };
        } catch (error) {
          const e = toEnvmuxError(error, { provider: p.id });
          scrub?.error(e);
          record({ action, key: name, provider: p.id, outcome: 'error', code: e.code });
          return { provider: p.id, error: e };
        } finally {
          await invalidate(name);
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

  const invalidate = async (name: string) => {
    tiers.memory?.invalidate(name);
    await (await tiers.second()?.catch(() => undefined))?.invalidate(name);
  };

  /** The store's latest version of `name`, when it keeps versions. */
  const latestVersion = async (p: Provider, name: string): Promise<string | undefined> => {
    if (!p.versions) return undefined;
    try {
      const list = await call(p, `versions "${name}"`, (signal) => p.versions!(name, { signal }));
      return (list.find((v) => v.stages?.includes('latest')) ?? list[list.length - 1])?.version;
    } catch {
      return undefined;
    }
  };

  /**
   * Metadata that carries a retirement across processes in a store that keeps metadata and can
   * remove a version (`keepsMetadata`: local vault, aws, gcp, azure, vault KV v2): the store's
   * other metadata, plus the marker with `version@due` beside the retirements not yet due (a second
   * rotation within the grace period keeps the first's). `restore` is the metadata from before, the
   * marker included (`''`: none), which a rollback puts back.
   */
  const retireMarker = async (
    p: Provider,
    name: string,
    version: string | undefined,
    grace: number | undefined,
  ): Promise<{ metadata: Record<string, string>; restore: Record<string, string> } | undefined> => {
    if (grace === undefined || !version || !p.deleteVersion || !capabilitiesOf(p).metadata) {
      return undefined;
    }
    const info = (await p.list!(name, { metadata: true })).find((i) => i.name === name);
    const now = Date.now();
    const marker = info?.metadata?.[RETIRE_METADATA];
    // The due ones were just carried out (`retireDue` runs first).
    const pending = parseRetireMarker(marker).filter((r) => r.due > now);
    return {
      metadata: {
        ...info?.metadata,
        [RETIRE_METADATA]: formatRetireMarker([...pending, { version, due: now + grace }]),
      },
      restore: { ...info?.metadata, [RETIRE_METADATA]: marker ?? '' },
    };
  };

  /** Undo a rotation in every store it was written to: remove the new version, else re-set the old value. */
  const rollBack = async (
    name: string,
    providers: Provider[],
    written: WriteOutcome[],
    before: Map<Provider, Before>,
  ) => {
    for (const outcome of written) {
      const p = providers.find((x) => x.id === outcome.provider)!;
      const old = before.get(p);
      try {
        if (p.deleteVersion && outcome.version && old?.version) {
          // The rotation's retirement marker goes with it: the metadata from before is put back.
          await call(p, `rollback "${name}"`, (signal) =>
            p.deleteVersion!(name, outcome.version!, {
              signal,
              ...(old.metadata ? { metadata: old.metadata } : {}),
            }),
          );
        } else if (old?.value !== undefined && p.set) {
          await call(p, `rollback "${name}"`, (signal) =>
            p.set!(name, old.value!, { signal, actor: currentActor() }),
          );
        } else {
          throw new EnvmuxError('CONFIG', `provider "${p.id}" cannot restore "${name}"`, {
            provider: p.id,
          });
        }
        record({ action: 'rotate', key: name, provider: p.id, outcome: 'ok', step: 'rollback' });
      } catch (error) {
        const e = toEnvmuxError(error, { provider: p.id });
        record({
          action: 'rotate',
          key: name,
          provider: p.id,
          outcome: 'error',
          code: e.code,
          step: 'rollback',
        });
      }
    }
    await invalidate(name);
  };

  /** Retirements scheduled in this process, not yet due. */
  const schedule: Retirement[] = [];

  /** Retirements recorded in the stores' metadata (by a rotation in any process). */
  const markedInStores = async (): Promise<Retirement[]> => {
    const out: Retirement[] = [];
    let providers: Provider[];
    try {
      providers = (await chain.providers()).filter(
        (p) => capabilitiesOf(p).metadata && p.deleteVersion,
      );
    } catch {
      return out;
    }
    for (const p of providers) {
      const items = await call(p, 'list retirements', (signal) =>
        p.list!('', { signal, metadata: true }),
      ).catch(() => []);
      for (const item of items) {
        for (const r of parseRetireMarker(item.metadata?.[RETIRE_METADATA])) {
          out.push({ provider: p.id, name: item.name, ...r });
        }
      }
    }
    return out;
  };

  /** Run the scheduled retirement step: remove each version whose grace period is over. */
  const retireDue = async (): Promise<Retirement[]> => {
    const now = Date.now();
    const candidates = [...schedule, ...(await markedInStores())].filter((r) => r.due <= now);
    const retired: Retirement[] = [];
    const seen = new Set<string>();
    for (const r of candidates) {
      const key = `${r.provider}\0${r.name}\0${r.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const index = schedule.findIndex(
        (s) => s.provider === r.provider && s.name === r.name && s.version === r.version,
      );
      if (index >= 0) schedule.splice(index, 1);
      let p: Provider;
      try {
        p = await chain.pinned(r.provider);
      } catch {
        continue;
      }
      // Never the current value: a marker inherited by later versions may name one already gone.
      if (!p.deleteVersion || !p.versions) continue;
      // One versions call answers both: which is latest, and whether the version is still live.
      const list = await call(p, `versions "${r.name}"`, (signal) =>
        p.versions!(r.name, { signal }),
      ).catch(() => []);
      const latest = (list.find((v) => v.stages?.includes('latest')) ?? list[list.length - 1])
        ?.version;
      if (latest === undefined || latest === r.version) continue;
      // Retired already (gone, or disabled/deleted): done.
      if (!list.some((v) => v.version === r.version && v.enabled !== false)) continue;
      try {
        await call(p, `retire "${r.name}"`, (signal) =>
          p.deleteVersion!(r.name, r.version, { signal }),
        );
        retired.push(r);
        record({ action: 'rotate', key: r.name, provider: p.id, outcome: 'ok', step: 'retire' });
      } catch (error) {
        const e = toEnvmuxError(error, { provider: p.id });
        record({
          action: 'rotate',
          key: r.name,
          provider: p.id,
          outcome: 'error',
          code: e.code,
          step: 'retire',
        });
      }
      await invalidate(r.name);
    }
    return retired;
  };

  return {
    async set(name, value, writeOptions = {}) {
      const { provider, ...ctx } = writeOptions;
      // A store that refuses a write may quote the request (the value) in its error.
      const written = new SeenValues();
      written.add(value);
      return writeEach(
        name,
        'set',
        await targets(provider, 'set'),
        (p, signal) => p.set!(name, value, { ...ctx, actor: ctx.actor ?? currentActor(), signal }),
        written,
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
      if (rotateOptions.dryRun) {
        return providers.map((p) => ({ provider: p.id, dryRun: true }));
      }
      const grace =
        rotateOptions.grace === undefined ? undefined : parseDuration(rotateOptions.grace, 0);
      const native =
        rotateOptions.lambda !== undefined || rotateOptions.schedule !== undefined
          ? {
              ...(rotateOptions.lambda !== undefined ? { lambda: rotateOptions.lambda } : {}),
              ...(rotateOptions.schedule !== undefined ? { schedule: rotateOptions.schedule } : {}),
            }
          : undefined;
      if (native) {
        const without = providers.find((p) => !p.rotate);
        if (without || rotateOptions.apply || rotateOptions.test || rotateOptions.generate) {
          throw new EnvmuxError(
            'CONFIG',
            without
              ? `provider "${without.id}" has no native rotation (lambda/schedule)`
              : `rotate "${name}": native rotation makes the value in the store; generate, apply and test do not apply`,
            {
              key: name,
              hint: 'native rotation is AWS RotateSecret: pin { provider: "aws" }; the rotation function does apply and test',
            },
          );
        }
      }
      await retireDue();
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
      const checked = !!(rotateOptions.apply || rotateOptions.test);
      // What each store holds now: its latest version (to retire later, or to roll back to) and,
      // where a version cannot be removed, the old value itself (kept in memory only).
      const before = new Map<Provider, Before>();
      await Promise.all(
        providers.map(async (p) => {
          const version = await latestVersion(p, name);
          const old =
            checked && !(p.deleteVersion && version)
              ? await call(p, `get "${name}"`, (signal) => p.get(name, { signal })).catch(
                  () => undefined,
                )
              : undefined;
          before.set(p, {
            ...(version ? { version } : {}),
            ...(old !== undefined ? { value: old } : {}),
          });
        }),
      );
      const outcomes = await writeEach(name, 'rotate', providers, async (p, signal) => {
        const marked = await retireMarker(p, name, before.get(p)?.version, grace);
        if (marked) before.get(p)!.metadata = marked.restore;
        const metadata = marked?.metadata;
        if (p.rotate) {
          return p.rotate(name, {
            generate: () => value,
            signal,
            ...(native ? { native } : {}),
            ...(metadata ? { metadata } : {}),
          });
        }
        return p.set!(name, value, {
          signal,
          actor: currentActor(),
          ...(metadata ? { metadata } : {}),
        });
      });
      const written = outcomes.filter((o) => !o.error);
      for (const [step, fn] of [
        ['apply', rotateOptions.apply],
        ['test', rotateOptions.test],
      ] as const) {
        if (!fn) continue;
        try {
          await fn(value, { name });
          record({ action: 'rotate', key: name, outcome: 'ok', step });
        } catch (error) {
          // The user's function may quote the value in its message: keep the code only.
          const code = toEnvmuxError(error).code;
          record({ action: 'rotate', key: name, outcome: 'error', code, step });
          await rollBack(name, providers, written, before);
          throw new EnvmuxError(
            code,
            `rotate "${name}": ${step} failed; every store was rolled back to the previous value`,
            { key: name, hint: `the ${step} function threw (${code}); its message is not shown` },
          );
        }
      }
      await invalidate(name);
      record({ action: 'rotate', key: name, outcome: 'ok', step: 'invalidate' });
      for (const outcome of written) {
        const p = providers.find((x) => x.id === outcome.provider)!;
        const previous = before.get(p)?.version;
        if (previous) outcome.previous = previous;
        if (grace !== undefined && previous && p.deleteVersion) {
          schedule.push({ provider: p.id, name, version: previous, due: Date.now() + grace });
        }
      }
      if (grace === 0) await retireDue();
      return outcomes;
    },
    retireExpired: () => retireDue(),
    pendingRetirements: () => schedule.map((r) => ({ ...r })),
  };
}
