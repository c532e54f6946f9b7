// Stage 3: entries → values. Evaluates every key's template in synchronous waves: a wave resolves
// all it can and names the secrets it still needs; the driver fetches those (batched, in parallel)
// and runs the next wave. Cycles and depth are checked per key; a provider's value is never rescanned.

import { EnvmuxError } from '../errors.js';
import { type EntryRule, pickField, pickOfEntry } from './fields.js';
import { LIMITS } from './limits.js';
import { ownString } from './own-string.js';
import { type EnvEntry, earlierEntry } from './parse.js';
import { type Reference, ScanError, scan, type Template } from './scan.js';

/** One secret read a wave needs. `scheme` is `secret` (the chain) or a provider id. */
export interface SecretRequest {
  scheme: string;
  name: string;
  version?: string;
  /**
   * How messages and the audit show the name when it was built from a secret's value: the
   * reference text (`$<secret:inner>`), never the resolved name (docs/architecture.md, "Audit").
   */
  shown?: string;
}

/** The name of a request as messages and the audit may show it. */
export function shownName(request: SecretRequest): string {
  return request.shown ?? request.name;
}

/** The answer to a request: a value, `undefined` for "does not exist", or an error. */
export type SecretAnswer =
  /** `entry`: the provider answered a map entry (see `Provider.isEntry`), picked by the entry rule. */
  { value: string | undefined; provider?: string; entry?: EntryRule } | { error: EnvmuxError };

/** Answers a request now, or returns `undefined` when it must be fetched first. */
export type Lookup = (request: SecretRequest) => SecretAnswer | undefined;

export interface EvaluateOptions {
  /** The environment `$<env:...>` reads and that wins over files unless `override`. */
  processEnv: Record<string, string | undefined>;
  override?: boolean;
  expand?: boolean;
  /** Whether a word is a scheme (`secret`, `env`, a provider id or type). */
  isScheme: (word: string) => boolean;
  /** Deepest chain of keys referring to keys; default 32. */
  maxChain?: number;
  /**
   * The chain a `secret:` lookup walked, as its NOT_FOUND shows it (`local, env`, plus the stores
   * detection left out and why); `undefined` until the chain is built.
   */
  chainText?: () => string | undefined;
}

/** What a NOT_FOUND looked for, when its name is not built from a secret (for "did you mean"). */
const lookedFor = new WeakMap<EnvmuxError, { scheme: string; name: string }>();

/** The scheme and name a NOT_FOUND looked for; `undefined` when the name was built from a secret. */
export function missingName(error: EnvmuxError): { scheme: string; name: string } | undefined {
  return lookedFor.get(error);
}

/** The outcome of resolving a set of entries. */
export interface Resolution {
  /** Resolved values of the keys the files set (and that the environment did not already set). */
  values: Map<string, string>;
  /** Keys left as the environment had them (it wins unless `override`). */
  kept: string[];
  /** One error per failing key (keys that failed only because a key they use failed are left out). */
  errors: EnvmuxError[];
  /**
   * Where each resolved key came from: file:line, the providers that served it, and the parts of
   * its value they served (after `#field` picks; not defaults, not `env:` values) — what `run` masks.
   */
  sources: Map<string, { entry: EnvEntry; providers: string[]; served: string[] }>;
}

/** Most unversioned keys {@link requestKey} keeps; past it the kept keys are dropped and rebuilt. */
const KEPT_KEYS = 4096;
/** Unversioned request keys by scheme, then name (see {@link requestKey}). */
let keptKeys = new Map<string, Map<string, string>>();
let keptCount = 0;

/**
 * The cache and dedupe key of a request: `scheme\0name\0version`. Unversioned keys are kept (up
 * to {@link KEPT_KEYS}), so a warm `get` of the same name hands the cache the same string, its
 * hash already computed, instead of building and hashing a new one per call.
 */
export function requestKey(r: SecretRequest): string {
  if (r.version !== undefined) return `${r.scheme}\0${r.name}\0${r.version}`;
  let byName = keptKeys.get(r.scheme);
  if (byName === undefined) {
    byName = new Map();
    keptKeys.set(r.scheme, byName);
  }
  let key = byName.get(r.name);
  if (key === undefined) {
    key = `${r.scheme}\0${r.name}\0`;
    if (++keptCount > KEPT_KEYS) {
      keptKeys = new Map([[r.scheme, (byName = new Map())]]);
      keptCount = 1;
    }
    byName.set(r.name, key);
  }
  return key;
}

const BLOCKED = Symbol('blocked');
/** The longest value a key may resolve to (reference bombs stop here, not at the memory limit). */
const MAX_VALUE_LENGTH = LIMITS.resolvedChars;
type Blocked = typeof BLOCKED;

/** Thrown through the keys of a cycle until it reaches the key that closes it. */
class CycleSignal {
  constructor(readonly path: string[]) {}
}
/** A key failed because a key it uses failed; that key's error is reported, not this one. */
class DependencyFailed {}

type KeyState =
  /** `secret`: the value was built from a provider's answer (directly or through other keys). */
  | { status: 'done'; value: string; providers: string[]; served: string[]; secret: boolean }
  | { status: 'failed'; error: EnvmuxError | DependencyFailed };

/**
 * Resolve entries with a lookup that may defer. `wave` runs one synchronous pass; `pending` lists
 * what it could not answer. Drivers: {@link resolveSync} and {@link resolveAsync}.
 */
export class Evaluation {
  readonly active = new Map<string, EnvEntry>();
  readonly kept: string[] = [];
  private readonly templates = new Map<string, Template | EnvmuxError>();
  private readonly states = new Map<string, KeyState>();
  private readonly inProgress: string[] = [];
  private providersOfKey: string[] = [];
  private servedOfKey: string[] = [];
  /** Whether the text evaluated since the last reset holds a provider's answer. */
  private fromSecret = false;
  private pending = new Map<string, SecretRequest>();
  private readonly maxChain: number;
  /** Each key's place in the files' order (an expansion sees only keys before its own). */
  private readonly order = new Map<string, number>();
  /** Earlier assignments that a key's expansion of itself reads, under keys ending in `\0`. */
  private readonly earlier = new Map<string, EnvEntry>();

  constructor(
    entries: Iterable<EnvEntry>,
    private readonly options: EvaluateOptions,
  ) {
    this.maxChain = options.maxChain ?? LIMITS.keyChain;
    for (const entry of entries) {
      this.order.set(entry.key, this.order.size);
      if (!options.override && ownString(options.processEnv, entry.key) !== undefined) {
        this.kept.push(entry.key);
      } else {
        this.active.set(entry.key, entry);
      }
    }
  }

  /** Every scheme the references of the active keys use (known before anything is fetched). */
  schemes(): Set<string> {
    const out = new Set<string>();
    const visit = (t: Template) => {
      for (const part of t) {
        if (typeof part === 'string') continue;
        out.add(part.scheme);
        for (const sub of [part.name, part.field, part.version, part.fallback]) if (sub) visit(sub);
      }
    };
    for (const key of this.active.keys()) {
      const t = this.template(key);
      if (Array.isArray(t)) visit(t);
    }
    return out;
  }

  /** One synchronous pass; returns the requests still unanswered (empty when finished). */
  wave(lookup: Lookup): SecretRequest[] {
    this.pending = new Map();
    for (const key of this.active.keys()) {
      if (this.states.has(key)) continue;
      try {
        this.evaluateKey(key, lookup);
      } catch (signal) {
        // The key's state already holds its outcome.
        if (!(signal instanceof CycleSignal || signal instanceof DependencyFailed)) throw signal;
      }
    }
    return [...this.pending.values()];
  }

  result(): Resolution {
    const values = new Map<string, string>();
    const errors: EnvmuxError[] = [];
    const sources: Resolution['sources'] = new Map();
    for (const [key, entry] of this.active) {
      const state = this.states.get(key);
      if (state?.status === 'done') {
        values.set(key, state.value);
        sources.set(key, { entry, providers: state.providers, served: state.served });
      } else if (state?.status === 'failed' && state.error instanceof EnvmuxError) {
        errors.push(state.error);
      } else if (!state) {
        errors.push(
          this.keyError(key, new EnvmuxError('TIMEOUT', 'was not resolved before the load ended')),
        );
      }
    }
    // An earlier assignment that failed: its key reports nothing of its own (it depends on it).
    for (const key of this.earlier.keys()) {
      const state = this.states.get(key);
      if (state?.status === 'failed' && state.error instanceof EnvmuxError)
        errors.push(state.error);
    }
    return { values, kept: this.kept, errors, sources };
  }

  private template(key: string): Template | EnvmuxError {
    let t = this.templates.get(key);
    if (t) return t;
    const entry = (this.active.get(key) ?? this.earlier.get(key))!;
    if (entry.quote === "'") {
      t = [entry.value];
    } else {
      try {
        t = scan(entry.value, { isScheme: this.options.isScheme, expand: this.options.expand });
      } catch (error) {
        if (!(error instanceof ScanError)) throw error;
        t = this.keyError(
          key,
          new EnvmuxError(
            'INVALID_REFERENCE',
            error.message,
            error.hint ? { hint: error.hint } : {},
          ),
        );
      }
    }
    this.templates.set(key, t);
    return t;
  }

  /** Evaluate a key; returns its value, BLOCKED, or throws DependencyFailed/CycleSignal. */
  private evaluateKey(key: string, lookup: Lookup): string | Blocked {
    const state = this.states.get(key);
    if (state?.status === 'done') {
      this.fromSecret ||= state.secret;
      return state.value;
    }
    if (state?.status === 'failed') throw new DependencyFailed();
    const at = this.inProgress.indexOf(key);
    if (at !== -1) throw new CycleSignal([...this.inProgress.slice(at), key]);
    const template = this.template(key);
    if (template instanceof EnvmuxError) {
      this.states.set(key, { status: 'failed', error: template });
      throw new DependencyFailed();
    }
    if (this.inProgress.length >= this.maxChain) {
      const error = this.keyError(
        key,
        new EnvmuxError('INVALID_REFERENCE', `keys refer to keys more than ${this.maxChain} deep`),
      );
      this.states.set(key, { status: 'failed', error });
      throw new DependencyFailed();
    }
    const outer = this.providersOfKey;
    const outerServed = this.servedOfKey;
    const outerSecret = this.fromSecret;
    this.providersOfKey = [];
    this.servedOfKey = [];
    this.fromSecret = false;
    this.inProgress.push(key);
    try {
      const value = this.evaluateTemplate(template, lookup);
      if (value !== BLOCKED) {
        this.states.set(key, {
          status: 'done',
          value,
          providers: this.providersOfKey,
          served: this.servedOfKey,
          secret: this.fromSecret,
        });
      }
      return value;
    } catch (error) {
      if (error instanceof CycleSignal) {
        if (error.path[0] !== key) {
          this.states.set(key, { status: 'failed', error: new DependencyFailed() });
          throw error;
        }
        const steps = error.path.map((k) => {
          const e = (this.active.get(k) ?? this.earlier.get(k))!;
          return `${k} (${e.file}:${e.line})`;
        });
        this.states.set(key, {
          status: 'failed',
          error: this.keyError(
            key,
            new EnvmuxError('CYCLE', `keys refer to each other: ${steps.join(' → ')}`),
          ),
        });
      } else if (error instanceof DependencyFailed) {
        this.states.set(key, { status: 'failed', error });
      } else if (error instanceof EnvmuxError) {
        this.states.set(key, { status: 'failed', error: this.keyError(key, error) });
      } else {
        throw error;
      }
      throw new DependencyFailed();
    } finally {
      this.inProgress.pop();
      this.providersOfKey = outer;
      this.servedOfKey = outerServed;
      this.fromSecret ||= outerSecret;
    }
  }

  private evaluateTemplate(template: Template, lookup: Lookup): string | Blocked {
    let out = '';
    let blocked = false;
    for (const part of template) {
      const value = typeof part === 'string' ? part : this.evaluateReference(part, lookup);
      if (value === BLOCKED) blocked = true;
      else out += value;
      if (out.length > MAX_VALUE_LENGTH) {
        throw new EnvmuxError(
          'INVALID_REFERENCE',
          `the value grows past ${MAX_VALUE_LENGTH / 2 ** 20} MiB`,
          {
            hint: 'a reference bomb? keys that repeat other keys multiply their size',
          },
        );
      }
    }
    return blocked ? BLOCKED : out;
  }

  private evaluateReference(ref: Reference, lookup: Lookup): string | Blocked {
    if (ref.expansion !== undefined) return this.evaluateExpansion(ref, lookup);
    // A name, field or version built from a secret's value is shown as its reference text.
    const outerSecret = this.fromSecret;
    const part = (template: Template | undefined): { value?: string | Blocked; shown?: string } => {
      this.fromSecret = false;
      const value = template && this.evaluateTemplate(template, lookup);
      const shown = this.fromSecret && value !== BLOCKED ? templateText(template!) : undefined;
      return { value, shown };
    };
    const name = part(ref.name);
    const field = part(ref.field);
    const version = part(ref.version);
    this.fromSecret = outerSecret;
    if (name.value === BLOCKED || field.value === BLOCKED || version.value === BLOCKED) {
      return BLOCKED;
    }
    const hidden: Hidden = [name, field, version];
    const nameText = name.value as string;
    const fieldText = (field.value || undefined) as string | undefined;
    const answer = this.read(ref, nameText, (version.value || undefined) as string, lookup, {
      shown: name.shown,
      hidden,
    });
    if (answer === BLOCKED) return BLOCKED;
    const found = answer.value;
    let value = found;
    try {
      if (value !== undefined && answer.entry)
        value = pickOfEntry(value, fieldText, name.shown ?? nameText, answer.entry);
      else if (value !== undefined && fieldText) value = pickField(value, fieldText, ref.raw);
    } catch (error) {
      if (!(error instanceof EnvmuxError)) throw error;
      error.reference ??= ref.raw;
      throw hide(error, hidden);
    }
    const missing = value === undefined || (ref.fallbackWhenEmpty && value === '');
    if (missing && ref.fallback) return this.evaluateTemplate(ref.fallback, lookup);
    if (value === undefined) {
      const shownName = name.shown ?? nameText;
      const versionText = version.value ? (version.shown ?? (version.value as string)) : undefined;
      const chain = ref.scheme === 'secret' ? this.options.chainText?.() : undefined;
      const where =
        ref.scheme === 'secret'
          ? ` in any provider of the chain${chain ? ` (${chain})` : ''}`
          : ` in provider "${ref.scheme}"`;
      const what =
        versionText === undefined
          ? 'was not found'
          : /^[a-z]+$/i.test(versionText) && version.shown === undefined
            ? `has no ${versionText} version`
            : `has no version "${versionText}"`;
      const fieldMissing = fieldText && found !== undefined;
      const error = new EnvmuxError(
        'NOT_FOUND',
        fieldMissing
          ? `field "${field.shown ?? fieldText}" is not in the secret`
          : ref.scheme === 'env'
            ? `variable "${shownName}" is not set`
            : `secret "${shownName}" ${what}${where}`,
        { reference: ref.raw, hint: 'create it, or give a default with :-' },
      );
      if (!fieldMissing && versionText === undefined && ref.scheme !== 'env' && !name.shown)
        lookedFor.set(error, { scheme: ref.scheme, name: nameText });
      throw error;
    }
    if (ref.scheme !== 'env') {
      this.servedOfKey.push(value);
      this.fromSecret = true;
    }
    return value;
  }

  /**
   * An expansion of another key, with dotenv-expand's rules (docs/architecture.md, "Reference
   * grammar"): an unset name is `""`; `-`, `:-`, `+`, `:+` choose the operand; the operand is
   * evaluated only when chosen. The value inserted is never scanned again.
   */
  private evaluateExpansion(ref: Reference, lookup: Lookup): string | Blocked {
    const value = this.expansionValue(ref.name.join(''), lookup);
    if (value === BLOCKED) return BLOCKED;
    let useOperand: boolean;
    switch (ref.expansion) {
      case '-':
        useOperand = value === undefined;
        break;
      case ':-':
        useOperand = !value;
        break;
      case '+':
        useOperand = value !== undefined;
        break;
      case ':+':
        useOperand = !!value;
        break;
      default:
        return value ?? '';
    }
    const plus = ref.expansion === '+' || ref.expansion === ':+';
    if (!useOperand) return plus ? '' : (value ?? '');
    return ref.fallback ? this.evaluateTemplate(ref.fallback, lookup) : '';
  }

  /**
   * What an expansion of `name` reads: a key set earlier in the files' order (a later key is not
   * set yet, as with dotenv-expand), the key's own earlier assignment when it names itself, else
   * the environment. `undefined` when none is set.
   */
  private expansionValue(name: string, lookup: Lookup): string | undefined | Blocked {
    const current = this.inProgress[this.inProgress.length - 1]!;
    const cut = current.indexOf('\0');
    const base = cut === -1 ? current : current.slice(0, cut);
    let key: string | undefined;
    if (name === base) {
      const entry = this.active.get(current) ?? this.earlier.get(current);
      const before = entry && earlierEntry(entry);
      if (before) {
        key = `${current}\0`;
        if (!this.earlier.has(key)) this.earlier.set(key, before);
      }
    } else if (this.active.has(name) && this.order.get(name)! < this.order.get(base)!) {
      key = name;
    }
    if (key !== undefined) return this.evaluateKey(key, lookup);
    const env = this.options.processEnv;
    return Object.hasOwn(env, name) ? env[name] : undefined;
  }

  /** The raw value a reference names: another key, the environment, or a provider. */
  private read(
    ref: Reference,
    name: string,
    version: string | undefined,
    lookup: Lookup,
    shown: { shown?: string; hidden: Hidden },
  ): { value: string | undefined; entry?: EntryRule } | Blocked {
    if (ref.scheme === 'env') {
      // `KEY=$<env:KEY:-default>` reads the environment the process started with, not itself.
      const self = this.inProgress[this.inProgress.length - 1] === name;
      if (this.active.has(name) && !self) {
        const value = this.evaluateKey(name, lookup);
        return value === BLOCKED ? BLOCKED : { value };
      }
      return { value: ownString(this.options.processEnv, name) };
    }
    const request: SecretRequest = { scheme: ref.scheme, name, version };
    if (shown.shown !== undefined) request.shown = shown.shown;
    const answer = lookup(request);
    if (!answer) {
      this.pending.set(requestKey(request), request);
      return BLOCKED;
    }
    if ('error' in answer) {
      // A store's message may name what it was asked: a name built from a secret is hidden.
      throw new EnvmuxError(answer.error.code, hideText(answer.error.message, shown.hidden), {
        reference: ref.raw,
        provider: answer.error.provider,
        hint: answer.error.hint && hideText(answer.error.hint, shown.hidden),
        retryable: answer.error.retryable,
        cause: (answer.error as { cause?: unknown }).cause,
      });
    }
    if (answer.provider) this.providersOfKey.push(answer.provider);
    return answer;
  }

  private keyError(key: string, error: EnvmuxError): EnvmuxError {
    const entry = this.active.get(key) ?? this.earlier.get(key);
    const cut = key.indexOf('\0');
    error.key ??= cut === -1 ? key : key.slice(0, cut);
    if (entry) {
      error.file ??= entry.file;
      error.line ??= entry.line || undefined;
    }
    return error;
  }
}

/** The name, field and version of a reference, with the text to show for those built from secrets. */
type Hidden = { value?: string | Blocked; shown?: string }[];

/** `text` with every part built from a secret replaced by its reference text. */
function hideText(text: string, hidden: Hidden): string {
  let out = text;
  for (const { value, shown } of hidden) {
    if (shown !== undefined && typeof value === 'string' && value)
      out = out.split(value).join(shown);
  }
  return out;
}

function hide(error: EnvmuxError, hidden: Hidden): EnvmuxError {
  error.message = hideText(error.message, hidden);
  if (error.hint) error.hint = hideText(error.hint, hidden);
  return error;
}

/** A template as its source text: literal parts as they are, references as written. */
function templateText(template: Template): string {
  return template.map((part) => (typeof part === 'string' ? part : part.raw)).join('');
}

/** Resolve with a lookup that always answers (synchronous stores only). */
export function resolveSync(evaluation: Evaluation, lookup: Lookup): Resolution {
  const left = evaluation.wave(lookup);
  if (left.length) throw new Error('resolveSync: a lookup deferred a request');
  return evaluation.result();
}

/**
 * Resolve with an async fetcher: each wave's requests are fetched together (so the fetcher can
 * dedupe and batch them), then the next wave runs, until nothing is left or `signal` aborts.
 */
export async function resolveAsync(
  evaluation: Evaluation,
  fetch: (requests: SecretRequest[]) => Promise<Map<string, SecretAnswer>>,
  signal?: AbortSignal,
): Promise<Resolution> {
  const answers = new Map<string, SecretAnswer>();
  const lookup: Lookup = (r) => answers.get(requestKey(r));
  for (;;) {
    const requests = evaluation.wave(lookup);
    if (!requests.length || signal?.aborted) break;
    for (const [k, v] of await fetch(requests)) answers.set(k, v);
  }
  return evaluation.result();
}
