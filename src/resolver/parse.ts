// Stage 1 of the pipeline: env file text → entries (key, value, file, line, quoting).
// dotenv's grammar exactly (its expression and value rules, pinned by differential tests against
// dotenv.parse), plus lines and quoting, and references kept whole where dotenv would cut at `#`.

/** One key of one env file. */
export interface EnvEntry {
  key: string;
  value: string;
  file: string;
  /** 1-based line of the key (of its last assignment, which wins). */
  line: number;
  /** How the value was quoted: `'` values are literal, never resolved. */
  quote: '' | "'" | '"' | '`';
}

/**
 * Parse env file text with dotenv 18's own expression and value rules, in one pass that also
 * records each key's line and quoting. The values equal `dotenv.parse(source)` — differential
 * tests against dotenv pin that (test/resolver/parse.test.ts) — except that an unquoted value
 * dotenv would cut at a `#` inside a `$<...>` / `${...}` reference keeps the reference whole.
 * One pass instead of dotenv's parse plus a walk over its result: a 10,000-key object is slow
 * to iterate (dictionary mode), and this is on every process start.
 */
export function parseEnvSource(source: string, file: string): EnvEntry[] {
  const text = source.includes('\r') ? source.replace(/\r\n?/g, '\n') : source;
  const entries = new Map<string, EnvEntry>();
  let line = 1;
  let counted = 0; // newlines before this offset are in `line`
  LINE.lastIndex = 0;
  for (let m = LINE.exec(text); m; m = LINE.exec(text)) {
    const key = m[1]!;
    const raw = m[2] ?? '';
    // dotenv: trim, strip one pair of matching quotes, and expand \n \r inside double quotes.
    let value = raw.trim();
    const first = value[0];
    const stripped = value.replace(STRIP_QUOTES, '$2');
    const quoted = stripped !== value;
    value = stripped;
    if (first === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
    if (key === '__proto__') continue; // dotenv's `obj[key] = value` drops it
    const keyAt = m.index + (m[0].length - m[0].trimStart().length);
    for (
      let i = text.indexOf('\n', counted);
      i !== -1 && i < keyAt;
      i = text.indexOf('\n', counted)
    ) {
      line++;
      counted = i + 1;
    }
    const quote = quoted && (first === "'" || first === '"' || first === '`') ? first : '';
    if (!quote && value.includes('$') && m[0].includes('#'))
      value = keepReferencesWhole(m[0], key, raw, value);
    const entry = entries.get(key);
    if (entry) Object.assign(entry, { value, line, quote });
    else entries.set(key, { key, value, file, line, quote });
  }
  return [...entries.values()];
}

const STRIP_QUOTES = /^(['"`])([\s\S]*)\1$/gm;

// dotenv 18's LINE expression (lib/main.js): the same matches, so the same keys in the same order.
const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;
/**
 * The unquoted value read to the first `#` outside any reference on its line (dotenv stops at any
 * `#`). Only ever extends what dotenv read.
 */
function keepReferencesWhole(match: string, key: string, raw: string, value: string): string {
  const at = match.indexOf(raw, match.indexOf(key) + key.length);
  const lineEnd = match.indexOf('\n', at + raw.length);
  const rest = match.slice(at, lineEnd === -1 ? undefined : lineEnd);
  let depth = 0;
  let i = 0;
  for (; i < rest.length; i++) {
    const c = rest[i];
    if (c === '\\' && rest[i + 1] === '$') {
      i++;
    } else if (c === '$' && (rest[i + 1] === '<' || rest[i + 1] === '{')) {
      depth++;
      i++;
    } else if (depth > 0 && (c === '>' || c === '}')) {
      depth--;
    } else if (c === '#' && depth === 0) {
      break;
    }
  }
  const whole = rest.slice(0, i).trim();
  return whole.length > value.length && whole.startsWith(value) ? whole : value;
}
