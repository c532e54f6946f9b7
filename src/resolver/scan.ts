// Stage 2 of the pipeline: a value string → a template of literal text and references (docs/architecture.md, "Reference grammar").
// Pure: no I/O, no provider knowledge beyond "is this word a scheme"; never resolves anything.

import { LIMITS } from './limits.js';
import { isOpValue, opValueReference } from './op-value.js';

/** A value split into literal text and references, in order. */
export type Template = Array<string | Reference>;

/** One `$<scheme:name#field?version=V:-default>` (or `${...}`, or an opt-in `${NAME}`/`$NAME`). */
export interface Reference {
  /** `secret`, `env`, or a provider id. Expansions of another key use `env`. */
  scheme: string;
  name: Template;
  /** JSON field path (`a.b.0`). */
  field?: Template;
  /** Pinned version or stage. */
  version?: Template;
  /** Used when the secret is missing (and, for `:-`, when empty). */
  fallback?: Template;
  /** `false` for the `${NAME-default}` expansion form: default only when unset. */
  fallbackWhenEmpty: boolean;
  /**
   * Set on an opt-in expansion of another key (`$NAME`, `${NAME}`, `${NAME<op>operand}`): its
   * operator, `''` for none. `-` / `:-` use `fallback` when the name is unset / unset or empty;
   * `+` / `:+` use `fallback` (the alternate) when it is set / set and not empty, else `""`.
   */
  expansion?: '' | '-' | ':-' | '+' | ':+';
  /** The source text, for messages. */
  raw: string;
}

/** A grammar problem at `offset` in the value. */
export class ScanError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface ScanOptions {
  /** Whether `word` names a scheme, for the `${word:...}` form (the `$<...>` form always is one). */
  isScheme: (word: string) => boolean;
  /** Opt-in `${NAME}` / `$NAME` expansion of other keys (dotenv-expand semantics). */
  expand?: boolean;
  /** Deepest nesting allowed; default {@link LIMITS}.nesting. */
  maxDepth?: number;
}

const SCHEME = /^([A-Za-z][\w-]*):(?!-)/;
const EXPAND_BARE = /^\$([A-Za-z_]\w*)/;

/** True when `value` may hold something `scan` would turn into a reference. */
export function mayHoldReference(value: string): boolean {
  return value.includes('$') || isOpValue(value);
}

/** Split `value` into text and references. Throws {@link ScanError} on malformed input. */
export function scan(value: string, options: ScanOptions): Template {
  // The common case, a value that is one plain reference, first and without the general scanner.
  const simple = value.charCodeAt(0) === DOLLAR ? plainReference(value) : undefined;
  if (simple) return [simple];
  if (isOpValue(value)) {
    const op = opValueReference(value);
    if ('scheme' in op) return [op];
    throw new ScanError(op.message, 0, op.hint);
  }
  if (!value.includes('$')) return value ? [value] : [];
  return new Scanner(value, options).template(0, '');
}

const DOLLAR = 36;

/**
 * `value` read as one plain reference, `$<scheme:name>` or `$<scheme:name#field>` with no
 * character the general scanner treats specially, else undefined. A test, then slices at the
 * first `:` and `#` (cheaper than the captures of an `exec`).
 */
function plainReference(value: string): Reference | undefined {
  if (!SIMPLE.test(value)) return undefined;
  const colon = value.indexOf(':');
  const hash = value.indexOf('#', colon);
  const last = value.length - 1;
  const name = value.slice(colon + 1, hash === -1 ? last : hash);
  // A blank name is the general scanner's error ("names nothing").
  const first = name.charCodeAt(0);
  if ((first <= 32 || first >= 128) && name.trim() === '') return undefined;
  const ref: Reference = {
    scheme: value.slice(2, colon),
    name: [name],
    fallbackWhenEmpty: true,
    raw: value,
  };
  if (hash !== -1) ref.field = [value.slice(hash + 1, last)];
  return ref;
}

/** `$<scheme:name>` or `$<scheme:name#field>` with no character the general scanner treats specially. */
const SIMPLE = /^\$<[A-Za-z][\w-]*:(?!-)[^#?:<>${}\\]+(?:#[^#?:<>${}\\]+)?>$/;

/** True when the template has no references. */
export function isLiteral(template: Template): template is string[] {
  return template.every((part) => typeof part === 'string');
}

class Scanner {
  pos = 0;
  readonly maxDepth: number;
  /** For `${...}` expansions: the offset of each opener's closing brace (see {@link braceMap}). */
  private braces?: Map<number, number>;

  constructor(
    readonly text: string,
    readonly options: ScanOptions,
    /** Where this scanner stops: the text's end, or an expansion's closing brace. */
    readonly end = text.length,
    parent?: Scanner,
  ) {
    this.maxDepth = options.maxDepth ?? LIMITS.nesting;
    this.braces = parent?.braces;
    this.limit = parent?.limit ?? this.maxDepth;
  }

  /** The nesting limit as the user set it (an operand's scanner has less depth left). */
  private readonly limit: number;

  /**
   * Read a template until one of `stops` at this level (`''` = end of text only). Nested
   * references are consumed whole, so their delimiters never stop the outer template.
   */
  template(depth: number, stops: string, close = ''): Template {
    const { text } = this;
    const parts: Template = [];
    let literal = '';
    while (this.pos < this.end) {
      const c = text[this.pos]!;
      if (c === '\\') {
        const next2 = text.slice(this.pos + 1, this.pos + 3);
        if (next2 === '$<' || next2 === '${') {
          literal += next2;
          this.pos += 3;
          continue;
        }
        const next = text[this.pos + 1];
        if (depth > 0 && next !== undefined && (next === close || '#?:\\'.includes(next))) {
          literal += next;
          this.pos += 2;
          continue;
        }
        if (this.options.expand && next === '$') {
          literal += '$';
          this.pos += 2;
          continue;
        }
      }
      if (depth > 0) {
        if (c === close || (c !== ':' && stops.includes(c))) break;
        if (c === ':' && stops.includes(':') && text[this.pos + 1] === '-') break;
      }
      if (c === '$') {
        const ref = this.reference(depth);
        if (ref) {
          if (literal) parts.push(literal);
          literal = '';
          parts.push(ref);
          continue;
        }
      }
      literal += c;
      this.pos++;
    }
    if (literal) parts.push(literal);
    return parts;
  }

  /** At a `$`: a reference, or undefined when this `$` is plain text. */
  reference(depth: number): Reference | undefined {
    const { text } = this;
    const start = this.pos;
    const open = text[start + 1];
    if (open === '<' || open === '{') {
      const rest = text.slice(start + 2, start + 66);
      const scheme = SCHEME.exec(rest);
      if (open === '<' || (scheme && this.options.isScheme(scheme[1]!))) {
        if (!scheme) {
          throw new ScanError(
            `reference "${preview(text, start)}" has no scheme`,
            start,
            'write $<secret:NAME>, $<env:NAME> or $<PROVIDER:NAME>, or escape a literal as \\$<',
          );
        }
        return this.schemeReference(depth, start, open === '<' ? '>' : '}', scheme[1]!);
      }
    }
    if (this.options.expand) return this.expansion(depth, start);
    return undefined;
  }

  schemeReference(depth: number, start: number, close: string, scheme: string): Reference {
    if (depth + 1 > this.maxDepth) {
      throw new ScanError(`references nest deeper than ${this.limit} levels`, start);
    }
    this.pos = start + 2 + scheme.length + 1;
    const ref: Reference = {
      scheme,
      name: this.template(depth + 1, '#?:', close),
      fallbackWhenEmpty: true,
      raw: '',
    };
    while (this.pos < this.end && this.text[this.pos] !== close) {
      const c = this.text[this.pos]!;
      if (c === '#' && !ref.field) {
        this.pos++;
        ref.field = this.template(depth + 1, '?:', close);
      } else if (c === '?' && !ref.version) {
        const query = /^\?version=/.exec(this.text.slice(this.pos, this.pos + 9));
        if (!query) {
          throw new ScanError(
            `unknown option in "${preview(this.text, start)}"`,
            this.pos,
            'the only option is ?version=V',
          );
        }
        this.pos += 9;
        ref.version = this.template(depth + 1, '#:', close);
      } else if (c === ':' && this.text[this.pos + 1] === '-') {
        this.pos += 2;
        ref.fallback = this.template(depth + 1, '', close);
      } else {
        throw new ScanError(`unexpected "${c}" in "${preview(this.text, start)}"`, this.pos);
      }
    }
    if (this.pos >= this.end) {
      throw new ScanError(
        `unterminated reference "${preview(this.text, start)}" (no closing "${close}")`,
        start,
        'close it, or quote the whole value if it holds "#", or escape a literal as \\$<',
      );
    }
    this.pos++;
    ref.raw = this.text.slice(start, this.pos);
    if (isLiteral(ref.name) && ref.name.join('').trim() === '') {
      throw new ScanError(`reference "${ref.raw}" names nothing`, start);
    }
    return ref;
  }

  /**
   * An expansion of another key, read as dotenv-expand reads it (docs/architecture.md, "Reference
   * grammar"): `$NAME` (letters, digits, `_`), or `${...}` up to its closing brace with no other
   * brace but nested `${` openers inside, split at the first `:+`, `+`, `:-` or `-` into a name
   * (any other characters: dots too) and an operand. Anything else is literal text.
   */
  expansion(depth: number, start: number): Reference | undefined {
    const { text } = this;
    if (text[start + 1] === '{') {
      const close = this.braceMap().get(start);
      if (close === undefined || close > this.end) return undefined;
      let i = start + 2;
      let op: NonNullable<Reference['expansion']> = '';
      for (; i < close; i++) {
        const c = text[i];
        if (c === ':' && (text[i + 1] === '-' || text[i + 1] === '+')) {
          op = text[i + 1] === '-' ? ':-' : ':+';
          break;
        }
        if (c === '-' || c === '+') {
          op = c;
          break;
        }
      }
      const name = text.slice(start + 2, i);
      if (!op && !name) return undefined; // `${}` is text
      const ref: Reference = {
        scheme: 'env',
        name: [name],
        fallbackWhenEmpty: op === ':-',
        raw: text.slice(start, close + 1),
        expansion: op,
      };
      if (op) {
        if (depth + 1 > this.maxDepth) {
          throw new ScanError(`expansions nest deeper than ${this.limit} levels`, start);
        }
        // The operand is read as a value of its own (escapes as at the top level).
        const options = { ...this.options, maxDepth: this.maxDepth - depth - 1 };
        const inner = new Scanner(text, options, close, this);
        inner.pos = i + op.length;
        ref.fallback = inner.template(0, '');
      }
      this.pos = close + 1;
      return ref;
    }
    const bare = EXPAND_BARE.exec(text.slice(start, Math.min(start + 256, this.end)));
    if (!bare) return undefined;
    this.pos = start + bare[0].length;
    return {
      scheme: 'env',
      name: [bare[1]!],
      fallbackWhenEmpty: false,
      raw: bare[0],
      expansion: '',
    };
  }

  /**
   * For each `${` opener of the text, its closing `}`, when the braced text between holds no
   * other brace than nested `${` openers and their closers (dotenv-expand matches `${[^{}]+}`
   * and expands innermost first, so an opener whose text holds a bare `{` is never expanded).
   * One pass with a stack; linear on any input.
   */
  private braceMap(): Map<number, number> {
    if (this.braces) return this.braces;
    const { text } = this;
    const map = new Map<number, number>();
    const stack: number[] = []; // opener offsets; -1 for a bare `{`
    let poisoned = 0; // the first `poisoned` stack entries hold a bare `{`
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '\\' && text[i + 1] === '$') {
        i++;
      } else if (c === '$' && text[i + 1] === '{') {
        stack.push(i);
        i++;
      } else if (c === '{') {
        poisoned = stack.length;
        stack.push(-1);
      } else if (c === '}' && stack.length) {
        const open = stack.pop()!;
        if (open !== -1 && stack.length >= poisoned) map.set(open, i);
        if (stack.length < poisoned) poisoned = stack.length;
      }
    }
    this.braces = map;
    return map;
  }
}

function preview(text: string, start: number): string {
  const slice = text.slice(start, start + 60);
  return slice.length < text.length - start ? `${slice}…` : slice;
}
