// Scrubbing messages of values: every value a load has seen (providers' answers, their JSON leaves,
// keys built from them) is removed from every problem before it is shown (docs/architecture.md, "Audit").

import { EnvmuxError } from '../errors.js';

/** Values shorter than this are not scrubbed from free text (they would match everywhere). */
export const MIN_SCRUBBED_LENGTH = 4;
const MASK = '***';

/** The values a load has seen, and the scrubbing of text and errors against them. */
export class SeenValues {
  private readonly values = new Set<string>();
  private forms: string[] | undefined;

  /** Remember a value a provider returned (and the string leaves of a JSON document). */
  add(value: unknown): void {
    if (typeof value !== 'string' || value.length < MIN_SCRUBBED_LENGTH) return;
    if (this.values.has(value)) return;
    this.values.add(value);
    this.forms = undefined;
    const text = value.trimStart();
    if (!text.startsWith('{') && !text.startsWith('[')) return;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return;
    }
    const visit = (node: unknown, depth: number) => {
      if (typeof node === 'string' || typeof node === 'number') this.add(String(node));
      else if (node && typeof node === 'object' && depth < 32) {
        for (const child of Object.values(node)) visit(child, depth + 1);
      }
    };
    visit(doc, 0);
  }

  get size(): number {
    return this.values.size;
  }

  /**
   * `text` without any seen value, in raw, JSON-escaped, URL-encoded, base64 and base64url form;
   * a prefix of a value left just before a cut (`…`) is masked as well.
   */
  text(text: string): string {
    if (!this.values.size || !text) return text;
    this.forms ??= [...new Set([...this.values].flatMap(encodings))].sort(
      (a, b) => b.length - a.length,
    );
    let out = text;
    for (const form of this.forms) if (out.includes(form)) out = out.split(form).join(MASK);
    if (out.includes('…'))
      out = out.replace(/([^…]*)…/g, (_, before: string) => `${this.cutPrefix(before)}…`);
    return out;
  }

  /** Mask the longest prefix of a value that `before` ends with (a value cut by truncation). */
  private cutPrefix(before: string): string {
    let longest = 0;
    for (const value of this.values) {
      for (let n = Math.min(value.length, before.length); n > longest; n--) {
        if (before.endsWith(value.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest ? `${before.slice(0, before.length - longest)}${MASK}` : before;
  }

  /**
   * Scrub an error in place: message, hint, stack and cause (message and stack).
   * Returns the same error.
   */
  error<E extends EnvmuxError>(error: E): E {
    if (!this.values.size) return error;
    error.message = this.text(error.message);
    if (error.hint) error.hint = this.text(error.hint);
    if (error.stack) error.stack = this.text(error.stack);
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof EnvmuxError) this.error(cause);
    else if (cause instanceof Error) {
      cause.message = this.text(cause.message);
      if (cause.stack) cause.stack = this.text(cause.stack);
    } else if (typeof cause === 'string') {
      Object.defineProperty(error, 'cause', { value: this.text(cause), configurable: true });
    }
    return error;
  }
}

/** The forms a value may take inside a message. */
function encodings(value: string): string[] {
  const bytes = Buffer.from(value);
  const forms = [
    value,
    JSON.stringify(value).slice(1, -1),
    encodeURIComponent(value),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
  ];
  return forms.filter((f) => f.length >= MIN_SCRUBBED_LENGTH);
}
