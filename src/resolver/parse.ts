// Stage 1 of the pipeline: env file text → entries (key, value, file, line, quoting).
// Values are dotenv's own `parse()`; this module adds only where each key stands and how it was
// quoted, and keeps an unquoted reference whole where dotenv would cut it at `#`.

import dotenv from 'dotenv';

/** One key of one env file. */
export interface EnvEntry {
  key: string;
  value: string;
  file: string;
  /** 1-based line of the key; 0 when unknown. */
  line: number;
  /** How the value was quoted: `'` values are literal, never resolved. */
  quote: '' | "'" | '"' | '`';
}

// dotenv 18's LINE expression (lib/main.js), with `d` for match indices: the same matches, so the
// same keys, in the same order, as dotenv.parse.
const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/dgm;

/**
 * Parse env file text. The values equal `dotenv.parse(source)`, except that an unquoted value
 * that dotenv would cut inside a `$<...>` / `${...}` reference keeps the reference whole.
 */
export function parseEnvSource(source: string, file: string): EnvEntry[] {
  const values = dotenv.parse(source);
  const keys = Object.keys(values);
  // Line numbers and quoting are needed only where references may be: skip the second pass
  // entirely for reference-free files (the common case, on every process start).
  if (!keys.some((key) => values[key]!.includes('$'))) {
    return keys.map((key) => ({ key, value: values[key]!, file, line: 0, quote: '' }));
  }
  const meta = locateKeys(source);
  return keys.map((key) => {
    const m = meta.get(key);
    let value = values[key]!;
    if (m && !m.quote && m.rest.includes('#') && value.includes('$'))
      value = keepReferencesWhole(m.rest);
    return { key, value, file, line: m?.line ?? 0, quote: m?.quote ?? '' };
  });
}

interface KeyMeta {
  line: number;
  quote: EnvEntry['quote'];
  /** The unquoted value's text to the end of its line, comment included. */
  rest: string;
}

/** Where each key stands (its last occurrence, as dotenv's last assignment wins). */
export function locateKeys(source: string): Map<string, KeyMeta> {
  const text = source.replace(/\r\n?/g, '\n');
  const meta = new Map<string, KeyMeta>();
  let line = 1;
  let counted = 0; // newlines before this offset are in `line`
  LINE.lastIndex = 0;
  for (let m = LINE.exec(text); m; m = LINE.exec(text)) {
    const keyStart = m.indices![1]![0];
    for (
      let i = text.indexOf('\n', counted);
      i !== -1 && i < keyStart;
      i = text.indexOf('\n', counted)
    ) {
      line++;
      counted = i + 1;
    }
    const raw = (m[2] ?? '').trim();
    const first = raw[0];
    const quote = first === "'" || first === '"' || first === '`' ? first : '';
    const valueStart = m.indices![2]?.[0] ?? keyStart;
    const end = text.indexOf('\n', valueStart);
    meta.set(m[1]!, {
      line,
      quote,
      rest: quote ? '' : text.slice(valueStart, end === -1 ? undefined : end),
    });
  }
  return meta;
}

/** An unquoted value read to the first `#` outside any reference, trimmed (dotenv's rule otherwise). */
function keepReferencesWhole(rest: string): string {
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
  return rest.slice(0, i).trim();
}
