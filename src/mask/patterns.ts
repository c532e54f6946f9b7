// What `envmux run` masks for one secret: the value, each of its lines, and the forms a program
// commonly prints it in (base64 at any alignment, URL-encoded, JSON-escaped). Never logs a value.

/** Values (and lines of values) shorter than this are not masked: too common to hide usefully. */
export const MIN_MASKED_LENGTH = 4;

/**
 * The most pattern bytes one masker holds (the automaton has at most this many nodes). Values
 * themselves are always masked; their encoded forms are added, smallest value first, while they fit.
 */
export const MAX_MASK_BYTES = 4 * 2 ** 20;

/** The patterns of a masker, by how they are matched. */
export interface MaskForms {
  /** Matched byte for byte: values, their lines, URL-encoded and JSON-escaped forms. */
  exact: string[];
  /**
   * base64 / base64url cores, matched with line breaks (`\n`, `\r\n`) inside them ignored, so a
   * value wrapped at 76 columns (`base64`) or 64 (PEM) is still caught.
   */
  wrapped: string[];
  /** Secrets whose encoded forms did not fit {@link MAX_MASK_BYTES} (only the value is masked). */
  unencoded: string[];
}

/**
 * Every string to mask for these secrets (deduplicated, each at least {@link MIN_MASKED_LENGTH}
 * characters), split by how it is matched:
 * - the value itself, and each line of a multi-line value (a PEM key printed line by line);
 * - its URL-encoded forms: `encodeURIComponent`, `encodeURI`, form encoding (`+` for space),
 *   Python's `quote` (safe `/`) and `quote_plus`, each with upper- and lowercase `%xx`;
 * - its JSON string escapes: JavaScript's, ASCII-only `\uXXXX` (either case), with `\/`, and the
 *   HTML-safe `\u003c` `\u003e` `\u0026` form;
 * - its base64 and base64url forms, as the stable core of the encoding at each of the three byte
 *   alignments, so the value is caught also inside a longer encoded text (`user:password`, or
 *   `echo "$X" | base64` with its trailing newline), wrapped or not.
 * Not masked: hex, reversed, case-changed or otherwise transformed values.
 */
export function maskForms(secrets: Iterable<string>, budget = MAX_MASK_BYTES): MaskForms {
  const exact = new Set<string>();
  const wrapped = new Set<string>();
  const unencoded: string[] = [];
  let used = 0;
  const add = (set: Set<string>, s: string) => {
    if (s.length < MIN_MASKED_LENGTH || set.has(s)) return;
    set.add(s);
    used += Buffer.byteLength(s);
  };
  const texts = new Map<string, string[]>();
  for (const secret of secrets) {
    if (secret.length < MIN_MASKED_LENGTH || texts.has(secret)) continue;
    const lines = secret.includes('\n')
      ? secret.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
      : [];
    const own = [secret, ...lines].filter((t) => t.length >= MIN_MASKED_LENGTH);
    texts.set(secret, own);
    for (const text of own) add(exact, text);
  }
  // Encoded forms, smallest value first, while the budget lasts.
  const bySize = [...texts.keys()].sort((a, b) => a.length - b.length);
  for (const secret of bySize) {
    // The base64 cores alone are about 8 times the value: skip what cannot fit before encoding it.
    if (used + 4 * Buffer.byteLength(secret) > budget) {
      unencoded.push(secret);
      continue;
    }
    const forms = new Set<string>();
    for (const text of texts.get(secret)!) for (const form of encodedForms(text)) forms.add(form);
    const cores = new Set<string>();
    for (const text of texts.get(secret)!) for (const core of base64Forms(text)) cores.add(core);
    let size = 0;
    for (const f of [...forms, ...cores]) if (!exact.has(f)) size += Buffer.byteLength(f);
    if (used + size > budget) {
      unencoded.push(secret);
      continue;
    }
    for (const f of forms) add(exact, f);
    for (const c of cores) add(wrapped, c);
  }
  return { exact: [...exact], wrapped: [...wrapped], unencoded };
}

/** All patterns of {@link maskForms}, as one list. */
export function maskPatterns(secrets: Iterable<string>): string[] {
  const { exact, wrapped } = maskForms(secrets);
  return [...new Set([...exact, ...wrapped])];
}

/** The URL-encoded and JSON-escaped forms of one text (duplicates possible). */
function encodedForms(text: string): string[] {
  const url = [
    encodeURIComponent(text),
    safeEncodeURI(text),
    new URLSearchParams({ v: text }).toString().slice(2),
    pythonQuote(text, '/', false),
    pythonQuote(text, '', true),
  ];
  const json = JSON.stringify(text).slice(1, -1);
  const ascii = asciiJson(json);
  const forms = [...url, ...url.map(lowerHex), json, ascii, upperUnicode(ascii)];
  forms.push(ascii.replace(/\//g, '\\/'), json.replace(/\//g, '\\/'));
  forms.push(htmlSafeJson(ascii), htmlSafeJson(json));
  return forms;
}

function safeEncodeURI(text: string): string {
  try {
    return encodeURI(text);
  } catch {
    return text; // a lone surrogate: no such form
  }
}

/** Bytes Python's `quote` never encodes (RFC 3986 unreserved), and `%XX` of every byte. */
const UNRESERVED = Array.from({ length: 256 }, (_, b) =>
  /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)),
);
const PERCENT = Array.from(
  { length: 256 },
  (_, b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
);

/** Python's `urllib.parse.quote(text, safe)` (or `quote_plus`: `+` for space). */
function pythonQuote(text: string, safe: string, plus: boolean): string {
  const parts: string[] = [];
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (UNRESERVED[byte] || safe.includes(c)) parts.push(c);
    else if (plus && byte === 0x20) parts.push('+');
    else parts.push(PERCENT[byte]!);
  }
  return parts.join('');
}

function lowerHex(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
}

/** A JSON string body with every non-ASCII character as `\uXXXX` (lowercase hex, as Python). */
function asciiJson(json: string): string {
  let out = '';
  for (const c of json) {
    const code = c.codePointAt(0)!;
    if (code < 0x80) out += c;
    else
      for (let i = 0; i < c.length; i++)
        out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return out;
}

function upperUnicode(json: string): string {
  return json.replace(/\\u[0-9a-f]{4}/g, (u) => `\\u${u.slice(2).toUpperCase()}`);
}

/** Go's `encoding/json`: `<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026`. */
function htmlSafeJson(json: string): string {
  return json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** base64 and base64url cores of one text. */
function base64Forms(text: string): string[] {
  return base64Cores(text).flatMap((core) => [core, core.replace(/\+/g, '-').replace(/\//g, '_')]);
}

/**
 * The base64 characters that depend only on the bytes of `text`, for each of the three offsets
 * (mod 3) at which `text` can start inside a longer encoded byte string. Characters that mix in
 * bits of a neighbouring byte are left out, so the core matches wherever the value sits.
 */
export function base64Cores(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const encoded = padded.toString('base64');
    // Character i covers bits 6i..6i+5: keep those entirely inside the value's bytes.
    const start = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * padded.length) / 6);
    if (end > start) cores.push(encoded.slice(start, end));
  }
  return cores;
}
