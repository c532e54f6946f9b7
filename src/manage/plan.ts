// `envmux plan`: the store calls one load of an env file makes, per store, after dedupe and
// batching, and their monthly cost at a start rate. Computed from the scanned references and each
// store's batch capability; no store is called. See docs/architecture.md, "Resolution".

import { EnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
import { isProviderType } from '../providers/registry.js';
import type { ProviderInput } from '../resolver/chain.js';
import type { EnvEntry } from '../resolver/parse.js';
import { Evaluation, type SecretRequest } from '../resolver/resolve.js';
import { priceOf, type StorePrice } from './prices.js';

/** How many names one batched read takes, per store type built from the environment. */
const BATCH_BY_TYPE: Record<string, number> = {
  aws: 20,
  ssm: 10,
  k8s: 100,
  memory: 100,
  local: 100,
  op: 50,
};

/** Hours in a month, as the clouds bill it (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

/** A store of the chain as the plan sees it. */
export interface PlanStore {
  id: string;
  type: string;
  /** Names per batched read; `undefined` when the store reads one name per call. */
  batchSize?: number;
}

/** A count that depends on which store of the chain holds each name: lowest and highest. */
export interface Bounds {
  min: number;
  max: number;
}

/** One store's share of a load. */
export interface StorePlan {
  provider: string;
  type: string;
  /** Names per call, or `undefined` for one name per call. */
  batchSize?: number;
  /** Names this store is asked for (a range when `secret:` names may fall through to it). */
  reads: Bounds;
  /** Calls one load makes to this store. */
  calls: Bounds;
  price?: StorePrice;
  /** USD a month for `calls` at the start rate (without cache). */
  callCost?: Bounds;
  /** USD a month to store the names it serves when every `secret:` name is in the first store. */
  storageCost?: number;
}

/** The plan of one load. */
export interface LoadPlan {
  /** Keys the files set (and the environment does not). */
  keys: number;
  /** Distinct reads after dedupe (`#field` picks of one secret are one read). */
  reads: number;
  /** Reads whose name or version is built from another secret's value: planned, not counted. */
  dependentReads: number;
  /** `secret:` reads: walked along the chain, first store that has the name. */
  chainReads: number;
  stores: StorePlan[];
  calls: Bounds;
  /** Loads a month, when a start rate was given. */
  startsPerMonth?: number;
  /** Calls a month and their cost, without cache (every start reads the stores). */
  monthly?: { calls: Bounds; callCost: Bounds; storageCost: number };
}

export interface PlanOptions {
  /** The env files' entries (from `readEnvFiles`). */
  entries: Iterable<EnvEntry>;
  /** The chain: provider inputs as the config gives them (types, instances, definitions). */
  providers: ProviderInput[];
  /** The environment the load starts with (a key it sets wins over the files unless `override`). */
  processEnv?: Record<string, string | undefined>;
  override?: boolean;
  expand?: boolean;
  /** `false`: a `secret:` read stops at the first store's answer (no failover). */
  failover?: boolean;
  /** Loads a month (see {@link parseRate}). */
  startsPerMonth?: number;
}

/** A chain entry as a plan store: its id, type and batch size, without building or calling it. */
export function planStore(input: ProviderInput): PlanStore {
  if (typeof input === 'string') return { id: input, type: input, batchSize: BATCH_BY_TYPE[input] };
  const p = input as Partial<Provider> & { id: string };
  const type = typeof p.type === 'string' ? p.type : p.id;
  const batch = typeof p.getMany === 'function' ? Math.max(1, p.batchSize ?? 100) : undefined;
  return { id: p.id, type, batchSize: batch };
}

/** Calls for `names` latest reads and `pinned` version reads (always single). */
function callsFor(store: PlanStore, names: number, versioned: number): number {
  const batched = store.batchSize ? Math.ceil(names / store.batchSize) : names;
  return batched + versioned;
}

/**
 * Plan one load: the distinct reads its references make, which stores they go to, and the calls
 * after batching (reads of one store in one wave go out as batches of its batch size; a pinned
 * version is read singly). A `secret:` read goes to the first store and falls through to the next
 * on a miss, so the plan gives bounds: `min` when the first store has every name, `max` when every
 * name falls through to the last store. Without cache: a warm cache tier makes fewer calls.
 */
export function planLoad(options: PlanOptions): LoadPlan {
  const chain = options.providers.map(planStore);
  const ids = new Set(chain.map((s) => s.id));
  const isScheme = (w: string) => w === 'secret' || w === 'env' || ids.has(w) || isProviderType(w);
  const evaluation = new Evaluation(options.entries, {
    processEnv: options.processEnv ?? {},
    override: options.override,
    expand: options.expand,
    isScheme,
  });
  const first = evaluation.wave(() => undefined);
  // Answer the first wave with a stand-in to see whether later waves read more (names built from
  // a secret's value): counted, not planned.
  const answered = new Set(first.map(keyOf));
  const later = evaluation
    .wave((r) => (answered.has(keyOf(r)) ? { value: 'planned' } : undefined))
    .filter((r) => !answered.has(keyOf(r)));
  const reads = first.filter((r) => r.scheme !== 'env');

  const walked = reads.filter((r) => r.scheme === 'secret');
  const pinnedTo = new Map<string, SecretRequest[]>();
  for (const r of reads) {
    if (r.scheme === 'secret') continue;
    const list = pinnedTo.get(r.scheme) ?? [];
    list.push(r);
    pinnedTo.set(r.scheme, list);
  }
  // A pinned type the chain does not hold is built from the environment on demand.
  const stores = [...chain];
  for (const scheme of pinnedTo.keys()) {
    if (!ids.has(scheme)) stores.push(planStore(scheme));
  }
  const split = (list: SecretRequest[]) => ({
    latest: list.filter((r) => r.version === undefined).length,
    versioned: list.filter((r) => r.version !== undefined).length,
  });
  const chainSplit = split(walked);
  const walkDepth = options.failover === false ? Math.min(1, chain.length) : chain.length;

  const plans: StorePlan[] = stores.map((store, index) => {
    const pinned = split(pinnedTo.get(store.id) ?? []);
    const inChain = index < chain.length;
    const isFirst = index === 0;
    const reachable = inChain && index < walkDepth;
    let calls: Bounds;
    let readsOf: Bounds;
    if (isFirst) {
      // Pinned and walked reads are asked in the same wave: one set of batches.
      const n = callsFor(
        store,
        pinned.latest + chainSplit.latest,
        pinned.versioned + chainSplit.versioned,
      );
      calls = { min: n, max: n };
      const r = walked.length + (pinnedTo.get(store.id)?.length ?? 0);
      readsOf = { min: r, max: r };
    } else {
      const own = callsFor(store, pinned.latest, pinned.versioned);
      // Misses arrive after the earlier stores answered: batches of their own.
      const fallThrough = reachable ? callsFor(store, chainSplit.latest, chainSplit.versioned) : 0;
      calls = { min: own, max: own + fallThrough };
      const r = pinnedTo.get(store.id)?.length ?? 0;
      readsOf = { min: r, max: r + (reachable ? walked.length : 0) };
    }
    const plan: StorePlan = {
      provider: store.id,
      type: store.type,
      reads: readsOf,
      calls,
    };
    if (store.batchSize) plan.batchSize = store.batchSize;
    const price = priceOf(store.type);
    if (price) {
      plan.price = price;
      plan.storageCost = round(readsOf.min * price.perSecretMonth);
      if (options.startsPerMonth !== undefined) {
        const perCall = price.per10kCalls / 10_000;
        plan.callCost = {
          min: round(calls.min * options.startsPerMonth * perCall),
          max: round(calls.max * options.startsPerMonth * perCall),
        };
      }
    }
    return plan;
  });

  const total = (pick: (p: StorePlan) => number) => plans.reduce((sum, p) => sum + pick(p), 0);
  const result: LoadPlan = {
    keys: evaluation.active.size,
    reads: reads.length,
    dependentReads: later.length,
    chainReads: walked.length,
    stores: plans,
    calls: { min: total((p) => p.calls.min), max: total((p) => p.calls.max) },
  };
  if (options.startsPerMonth !== undefined) {
    result.startsPerMonth = round(options.startsPerMonth);
    result.monthly = {
      calls: {
        min: Math.round(result.calls.min * options.startsPerMonth),
        max: Math.round(result.calls.max * options.startsPerMonth),
      },
      callCost: {
        min: round(total((p) => p.callCost?.min ?? 0)),
        max: round(total((p) => p.callCost?.max ?? 0)),
      },
      storageCost: round(total((p) => p.storageCost ?? 0)),
    };
  }
  return result;
}

const keyOf = (r: SecretRequest) => `${r.scheme}\0${r.name}\0${r.version ?? ''}`;
const round = (usd: number) => Math.round(usd * 10_000) / 10_000;

const PER_MONTH: Record<string, number> = {
  s: HOURS_PER_MONTH * 3600,
  sec: HOURS_PER_MONTH * 3600,
  second: HOURS_PER_MONTH * 3600,
  min: HOURS_PER_MONTH * 60,
  minute: HOURS_PER_MONTH * 60,
  h: HOURS_PER_MONTH,
  hour: HOURS_PER_MONTH,
  day: HOURS_PER_MONTH / 24,
  d: HOURS_PER_MONTH / 24,
  week: HOURS_PER_MONTH / (24 * 7),
  w: HOURS_PER_MONTH / (24 * 7),
  month: 1,
  mo: 1,
};

/**
 * Loads a month from a start rate: `100/day`, `5/h`, `2/min`, `1000/month` (a month is
 * {@link HOURS_PER_MONTH} hours). Throws a CONFIG error for anything else.
 */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*([a-z]+?)s?\s*$/i.exec(text);
  const per = m ? PER_MONTH[m[2]!.toLowerCase()] : undefined;
  if (!m || per === undefined) {
    throw new EnvmuxError('CONFIG', `--rate "${text}" is not a start rate`, {
      hint: 'write starts per unit: 100/day, 5/hour, 2/min, 1000/month',
    });
  }
  return Number(m[1]) * per;
}
