// Stage 2 of the pipeline: a value string → a template of literal text and references (docs/architecture.md, "Reference grammar").
// Pure: no I/O, no provider knowledge beyond "is this word a scheme"; never resolves anything.

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
  /** Deepest nesting allowed; default 8. */
  maxDepth?: number;
}

const SCHEME = /^([A-Za-z][\w-]*):(?!-)/;
const EXPAND_BRACED = /^\$\{([A-Za-z_]\w*)(?:(:?-)|\})/;
const EXPAND_BARE = /^\$([A-Za-z_]\w*)/;

/** True when `value` may hold something `scan` would turn into a reference. */
export function mayHoldReference(value: string): boolean {
  return value.includes('$');
}

/** Split `value` into text and references. Throws {@link ScanError} on malformed input. */
export function scan(value: string, options: ScanOptions): Template {
  if (!value.includes('$')) return value ? [value] : [];
  // The common case, a value that is one plain reference, without the general scanner.
  const simple = SIMPLE.exec(value);
  if (simple) {
    const [raw, scheme, name, field] = simple;
    const ref: Reference = { scheme: scheme!, name: [name!], fallbackWhenEmpty: true, raw };
    if (field !== undefined) ref.field = [field];
    return [ref];
  }
  return new Scanner(value, options).template(0, '');
}

/** `$<scheme:name>` or `$<scheme:name#field>` with no character the general scanner treats specially. */
const SIMPLE = /^\$<([A-Za-z][\w-]*):(?!-)([^#?:<>${}\\]+)(?:#([^#?:<>${}\\]+))?>$/;

/** True when the template has no references. */
export function isLiteral(template: Template): template is string[] {
  return template.every((part) => typeof part === 'string');
}

class Scanner {
  pos = 0;
  readonly maxDepth: number;

  constructor(
    readonly text: string,
    readonly options: ScanOptions,
  ) {
    this.maxDepth = options.maxDepth ?? 8;
  }

  /**
   * Read a template until one of `stops` at this level (`''` = end of text only). Nested
   * references are consumed whole, so their delimiters never stop the outer template.
   */
  template(depth: number, stops: string, close = ''): Template {
    const { text } = this;
    const parts: Template = [];
    let literal = '';
    while (this.pos < text.length) {
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
      throw new ScanError(`references nest deeper than ${this.maxDepth} levels`, start);
    }
    this.pos = start + 2 + scheme.length + 1;
    const ref: Reference = {
      scheme,
      name: this.template(depth + 1, '#?:', close),
      fallbackWhenEmpty: true,
      raw: '',
    };
    while (this.pos < this.text.length && this.text[this.pos] !== close) {
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
    if (this.pos >= this.text.length) {
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

  /** `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `$NAME` (only with `expand`). */
  expansion(depth: number, start: number): Reference | undefined {
    const rest = this.text.slice(start, start + 256);
    const braced = EXPAND_BRACED.exec(rest);
    if (braced) {
      const name = braced[1]!;
      const ref: Reference = { scheme: 'env', name: [name], fallbackWhenEmpty: true, raw: '' };
      this.pos = start + braced[0].length;
      if (braced[2]) {
        if (depth + 1 > this.maxDepth) throw new ScanError('expansions nest too deep', start);
        ref.fallbackWhenEmpty = braced[2] === ':-';
        ref.fallback = this.template(depth + 1, '', '}');
        if (this.text[this.pos] !== '}') {
          throw new ScanError(`unterminated expansion "${preview(this.text, start)}"`, start);
        }
        this.pos++;
      }
      ref.raw = this.text.slice(start, this.pos);
      return ref;
    }
    const bare = EXPAND_BARE.exec(rest);
    if (!bare) return undefined;
    this.pos = start + bare[0].length;
    return { scheme: 'env', name: [bare[1]!], fallbackWhenEmpty: true, raw: bare[0] };
  }
}

function preview(text: string, start: number): string {
  const slice = text.slice(start, start + 60);
  return slice.length < text.length - start ? `${slice}…` : slice;
}
