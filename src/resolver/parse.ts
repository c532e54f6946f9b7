// Stage 1 of the pipeline: env file text → entries (key, value, file, line, quoting).
// The values are dotenv's own: `dotenv.parse` runs here, at run time. This module adds only what
// envmux needs beside them: each key's line and quoting, and references kept whole across `#`.

import { EnvmuxError } from '../errors.js';
import { dotenvParse } from './dotenv-package.js';
import { blankRunOverLimit, LIMITS } from './limits.js';

/** One key of one env file. */
export interface EnvEntry {
  key: string;
  value: string;
  file: string;
  /** 1-based line of the key (of its last assignment, which wins); 0 when it cannot be placed. */
  line: number;
  /** How the value was quoted: `'` values are literal, never resolved. */
  quote: '' | "'" | '"' | '`';
  /** The entry of the same key in a lower-precedence file, which this one hides. */
  shadows?: EnvEntry;
}

/**
 * Parse env file text: the keys and values are exactly `dotenv.parse(source)`'s, except that an
 * unquoted value dotenv cuts at a `#` inside a `$<...>` / `${...}` reference keeps the reference
 * whole (docs/architecture.md, "Reference grammar"). Lines and quoting are found by a second,
 * lazy pass over the text, run only when something asks for them (a value holding a reference,
 * an error message), so a reference-free file costs one dotenv parse. Throws a `CONFIG`
 * {@link EnvmuxError} for a text dotenv could not parse in bounded time (a pile of blank lines).
 */
export function parseEnvSource(source: string, file: string): EnvEntry[] {
  const text = source.includes('\r') ? source.replace(/\r\n?/g, '\n') : source;
  const blankAt = blankRunOverLimit(text);
  if (blankAt) {
    throw new EnvmuxError('CONFIG', 'too many blank lines in a row for the parser', {
      file,
      line: blankAt,
      hint: `remove the blank lines (their parsing cost grows with the square of their number; limit ${LIMITS.blankRunCost})`,
    });
  }
  const parsed = dotenvParse(text);
  const keys = Object.keys(parsed);
  const places = new Places(text, file, keys);
  // A value holds `$<` / `${` only where the text does: dotenv's values are slices of it (with
  // `\n` / `\r` escapes turned into line ends).
  const mayCut = text.includes('#') && (text.includes('$<') || text.includes('${'));
  const entries: EnvEntry[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    let value = parsed[key]!;
    // dotenv stopped at a `#` inside a reference (the value ends in one left open): read the
    // line again.
    if (mayCut && endsInOpenReference(value)) {
      const place = places.last(i, key);
      if (place && place.quote === '') value = keepReferencesWhole(text, place.valueAt, value);
    }
    entries[i] = new ParsedEntry(key, value, places, i);
  }
  return entries;
}

/**
 * The assignment of `entry`'s key before the one that won: an earlier line of the same file, else
 * the entry of a lower-precedence file it hides. Its value is dotenv's parse of that assignment.
 */
export function earlierEntry(entry: EnvEntry): EnvEntry | undefined {
  if (entry instanceof ParsedEntry) {
    const all = entry.places.all().get(entry.key);
    const at = (entry.index ?? (all?.length ?? 0) - 1) - 1;
    if (all && at >= 0) {
      const place = all[at]!;
      const slice = entry.places.text.slice(place.keyAt, place.end);
      let value = dotenvParse(slice)[entry.key] ?? '';
      if (place.quote === '' && (value.includes('$<') || value.includes('${')))
        value = keepReferencesWhole(entry.places.text, place.valueAt, value);
      const earlier = new ParsedEntry(entry.key, value, entry.places, -1, at);
      earlier.shadows = entry.shadows;
      return earlier;
    }
  }
  return entry.shadows;
}

/** An entry whose line and quoting are found on first use; its file is its text's. */
class ParsedEntry implements EnvEntry {
  // Set only on an entry that hides another (files.ts): not a field every entry carries.
  declare shadows?: EnvEntry;
  constructor(
    public key: string,
    public value: string,
    readonly places: Places,
    /** The key's position among the file's keys (dotenv's order); -1 for an earlier assignment. */
    readonly ordinal: number,
    /** Which assignment of the key this is; the last (the one that wins) when not given. */
    readonly index?: number,
  ) {}

  get file(): string {
    return this.places.file;
  }

  private place(): Place | undefined {
    if (this.index === undefined) return this.places.last(this.ordinal, this.key);
    return this.places.all().get(this.key)?.[this.index];
  }

  get line(): number {
    return this.place()?.line ?? 0;
  }

  get quote(): EnvEntry['quote'] {
    return this.place()?.quote ?? '';
  }

  toJSON() {
    const { key, value, file, line, quote } = this;
    return { key, value, file, line, quote };
  }
}

/** Where one assignment sits in the text. */
interface Place {
  key: string;
  line: number;
  quote: EnvEntry['quote'];
  /** Offset of the key. */
  keyAt: number;
  /** Offset just after the `=` (or `: `), where dotenv starts reading the value. */
  valueAt: number;
  /** Offset of the end of the assignment (its value and any trailing comment). */
  end: number;
}

/**
 * Every assignment of a text (of one file), found on first use. Walks the lines as dotenv does: a
 * key at the start of a line, `=` or `: `, then a value that a quote may carry over several lines.
 * Differential tests against dotenv.parse pin that the places agree with dotenv's values.
 */
class Places {
  private list?: Place[];
  private byKey?: Map<string, Place[]>;
  /** Whether the text assigns each of `keys` once, in their order (then no map is needed). */
  private aligned?: boolean;

  constructor(
    readonly text: string,
    readonly file: string,
    /** dotenv's keys of the text, in its order. */
    private readonly keys: readonly string[],
  ) {}

  /** The last assignment of `key`, the `ordinal`-th of {@link keys}. */
  last(ordinal: number, key: string): Place | undefined {
    const list = this.inOrder();
    this.aligned ??=
      list.length === this.keys.length && list.every((place, i) => place.key === this.keys[i]);
    if (this.aligned) return list[ordinal];
    const all = this.all().get(key);
    return all?.[all.length - 1];
  }

  /**
   * Every assignment, per key. A map of every key costs more than the walk itself (a 10,000-key
   * `Map` on Node 20): {@link last} does without it when the keys line up.
   */
  all(): Map<string, Place[]> {
    this.byKey ??= byKey(this.inOrder());
    return this.byKey;
  }

  private inOrder(): Place[] {
    this.list ??= assignments(this.text);
    return this.list;
  }
}

/** A key at the start of a line (after blanks and `export `), then `=` or `:` and a blank. */
const HEAD = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)/gm;

/** Every assignment of `text`, per key. */
export function locateAssignments(text: string): Map<string, Place[]> {
  return byKey(assignments(text));
}

function byKey(places: Place[]): Map<string, Place[]> {
  const out = new Map<string, Place[]>();
  for (const place of places) {
    const list = out.get(place.key);
    if (list) list.push(place);
    else out.set(place.key, [place]);
  }
  return out;
}

/** Every assignment of `text`, in the order of the text. */
function assignments(text: string): Place[] {
  const out: Place[] = [];
  let line = 1;
  let counted = 0; // newlines before this offset are counted in `line`
  HEAD.lastIndex = 0;
  for (let m = HEAD.exec(text); m; m = HEAD.exec(text)) {
    const key = m[1]!;
    const valueAt = HEAD.lastIndex;
    const keyAt = valueAt - m[0].length + m[0].lastIndexOf(key, m[0].length - 1);
    for (
      let i = text.indexOf('\n', counted);
      i !== -1 && i < keyAt;
      i = text.indexOf('\n', counted)
    ) {
      line++;
      counted = i + 1;
    }
    const { quote, end } = readValue(text, valueAt);
    out.push({ key, line, quote, keyAt, valueAt, end });
    HEAD.lastIndex = Math.max(end, valueAt);
  }
  return out;
}

const WHITE = /\s/;
const isWhite = (c: string | undefined) => c !== undefined && WHITE.test(c);
const isLineEnd = (c: string | undefined) => c === '\n' || c === '\u2028' || c === '\u2029';

/** The quoting and the extent of the value dotenv reads from `at`. */
function readValue(text: string, at: number): { quote: EnvEntry['quote']; end: number } {
  // A quoted value may start after blanks, even on a later line.
  let t = at;
  while (t < text.length && isWhite(text[t])) t++;
  const q = text[t];
  if (q === "'" || q === '"' || q === '`') {
    const close = closingQuote(text, t, q);
    if (close !== -1) return { quote: q, end: lineEndAfter(text, close + 1) };
  }
  // Unquoted: to the first `#` or newline; dotenv still strips one pair of matching quotes.
  UNQUOTED.lastIndex = at;
  UNQUOTED.test(text);
  const stop = UNQUOTED.lastIndex;
  let quote: EnvEntry['quote'] = '';
  if (q === "'" || q === '"' || q === '`') {
    const raw = text.slice(at, stop).trim();
    if (raw.length >= 2 && raw.endsWith(q)) quote = q;
  }
  let end = stop;
  if (text[stop] === '#') while (end < text.length && !isLineEnd(text[end])) end++;
  return { quote, end };
}

const UNQUOTED = /[^#\n]*/y;

/**
 * The closing quote of a value opened at `open`, or -1 when dotenv reads it unquoted: the first
 * unescaped quote, else (backing off) an escaped one, whichever is followed by only blanks or a
 * comment to the end of its line.
 */
function closingQuote(text: string, open: number, q: string): number {
  const escaped: number[] = [];
  let first = -1;
  for (let j = text.indexOf(q, open + 1); j !== -1; j = text.indexOf(q, j + 1)) {
    if (text[j - 1] === '\\' && j - 1 > open) {
      escaped.push(j);
      continue;
    }
    first = j;
    break;
  }
  if (first !== -1 && tailIsEmpty(text, first + 1)) return first;
  for (let k = escaped.length - 1; k >= 0; k--)
    if (tailIsEmpty(text, escaped[k]! + 1)) return escaped[k]!;
  return -1;
}

/** Only blanks, then a comment or the end of the line, from `at`. */
function tailIsEmpty(text: string, at: number): boolean {
  let i = at;
  while (i < text.length && isWhite(text[i]) && !isLineEnd(text[i])) i++;
  return i >= text.length || text[i] === '#' || isLineEnd(text[i]);
}

/** The end of the assignment whose value closed just before `at`: past blanks and a comment. */
function lineEndAfter(text: string, at: number): number {
  let i = at;
  while (i < text.length && isWhite(text[i]) && !isLineEnd(text[i])) i++;
  if (text[i] === '#') while (i < text.length && !isLineEnd(text[i])) i++;
  return i;
}

/**
 * Whether `value` ends inside a `$<...>` / `${...}` it opened (read as {@link keepReferencesWhole}
 * reads the line): the only way dotenv can have cut a reference at a `#`.
 */
function endsInOpenReference(value: string): boolean {
  const first = value.indexOf('$');
  // From the character before the first `$`: a backslash there escapes it.
  return first !== -1 && readReferences(value, Math.max(0, first - 1), value.length).open > 0;
}

/**
 * Reads `s` from `from` to `to` as an unquoted value: `\$` is escaped, `$<` / `${` open a
 * reference, `>` / `}` close one. Where it stopped (the first `#` outside any reference, else `to`)
 * and how many references were still open there.
 */
function readReferences(s: string, from: number, to: number): { stop: number; open: number } {
  let open = 0;
  let i = from;
  for (; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH && s.charCodeAt(i + 1) === DOLLAR) {
      i++;
    } else if (c === DOLLAR && (s.charCodeAt(i + 1) === LT || s.charCodeAt(i + 1) === LBRACE)) {
      open++;
      i++;
    } else if (open > 0 && (c === GT || c === RBRACE)) {
      open--;
    } else if (c === HASH && open === 0) {
      break;
    }
  }
  return { stop: i, open };
}

const BACKSLASH = 92;
const DOLLAR = 36;
const LT = 60;
const GT = 62;
const LBRACE = 123;
const RBRACE = 125;
const HASH = 35;

/**
 * The unquoted value read from `at` to the first `#` outside any reference on its line (dotenv
 * stops at any `#`). Only ever extends what dotenv read.
 */
function keepReferencesWhole(text: string, at: number, value: string): string {
  let lineEnd = text.indexOf('\n', at);
  if (lineEnd === -1) lineEnd = text.length;
  const whole = text.slice(at, readReferences(text, at, lineEnd).stop).trim();
  return whole.length > value.length && whole.startsWith(value) ? whole : value;
}
