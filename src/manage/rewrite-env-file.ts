// Rewriting chosen values of an env file in place (for `envmux migrate`): every assignment of a key
// gets a new value text; comments, order, blank lines, `export` and the other keys stay byte for
// byte. The result is re-parsed and checked before it is returned. Never logs a value.

import { EnvmuxError } from '../errors.js';
import { type EnvEntry, parseEnvSource } from '../resolver/parse.js';

/** Where one assignment's value text sits in the source. */
export interface ValueSpan {
  key: string;
  /** 1-based line of the key. */
  line: number;
  /** Offsets of the value text (quotes included; surrounding spaces and a comment excluded). */
  start: number;
  end: number;
  quote: EnvEntry['quote'];
}

// The expression of src/resolver/parse.ts (dotenv 18's LINE): the same matches, so the same
// assignments. `rewriteValues` re-parses its output, so a drift between the two fails closed.
const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;

/** Every assignment of the source (a key assigned twice has two spans, in order). */
export function valueSpans(source: string): ValueSpan[] {
  const spans: ValueSpan[] = [];
  LINE.lastIndex = 0;
  for (let m = LINE.exec(source); m; m = LINE.exec(source)) {
    if (m[0].length === 0) {
      LINE.lastIndex++;
      continue;
    }
    const key = m[1]!;
    const raw = m[2] ?? '';
    const keyAt = m.index + m[0].indexOf(key);
    const line = source.slice(0, keyAt).split('\n').length;
    const rawAt = raw ? m[0].indexOf(raw, keyAt - m.index + key.length) + m.index : -1;
    const trimmed = raw.trim();
    if (!trimmed) {
      // `KEY=` with no value: the new text goes right after the `=` (or `:`).
      const after = keyAt + key.length;
      const sep = /^\s*[=:]/.exec(source.slice(after))![0].length;
      spans.push({ key, line, start: after + sep, end: after + sep, quote: '' });
      continue;
    }
    const start = rawAt + raw.indexOf(trimmed);
    const first = trimmed[0];
    const quoted =
      trimmed.length >= 2 &&
      (first === "'" || first === '"' || first === '`') &&
      trimmed.endsWith(first);
    spans.push({
      key,
      line,
      start,
      end: start + trimmed.length,
      quote: quoted ? (first as EnvEntry['quote']) : '',
    });
  }
  return spans;
}

/**
 * Replace the value of every assignment of each key in `values` with its new text (written as is:
 * the caller quotes it). Throws `CONFIG` when the result would not parse to exactly the new values
 * with every other key unchanged.
 */
export function rewriteValues(source: string, file: string, values: Map<string, string>): string {
  const spans = valueSpans(source).filter((s) => values.has(s.key));
  let out = '';
  let at = 0;
  for (const span of spans) {
    out += source.slice(at, span.start) + values.get(span.key)!;
    at = span.end;
  }
  out += source.slice(at);
  const before = new Map(parseEnvSource(source, file).map((e) => [e.key, e.value]));
  const after = new Map(parseEnvSource(out, file).map((e) => [e.key, e.value]));
  const same =
    before.size === after.size &&
    [...before].every(([key, value]) =>
      values.has(key) ? after.get(key) === unquoted(values.get(key)!) : after.get(key) === value,
    );
  if (!same) {
    throw new EnvmuxError(
      'CONFIG',
      `${file} could not be rewritten exactly; it was left unchanged`,
      {
        file,
        hint: 'rewrite the keys by hand, or name fewer with --keys',
      },
    );
  }
  return out;
}

/** The value a rewritten (quoted or bare) reference parses to. */
function unquoted(text: string): string {
  const first = text[0];
  return (first === '"' || first === '`') && text.endsWith(first) && text.length >= 2
    ? text.slice(1, -1)
    : text;
}
