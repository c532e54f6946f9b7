// Stores whose entries are maps of keys (a Vault KV entry, a Kubernetes Secret) as one string: the
// document `get` returns, and the field rule a reference applies to it. Never puts a value in an error.

import { EnvmuxError } from '../errors.js';
import { pickField } from '../resolver/resolve.js';

/** The key a plain string is written under, and read back from as that string. */
export const DEFAULT_VALUE_KEY = 'value';

/** True when `text` is the JSON text of an object (`{...}`), the shape of a document. */
export function isObjectText(text: string): boolean {
  if (!text.startsWith('{')) return false;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/**
 * The string `get` answers for an entry's data map:
 * - exactly `{ [valueKey]: s }` with `s` a string that is not itself a JSON object → `s`, byte for
 *   byte (what `set` writes for a plain value, and `vault kv put path value=...`);
 * - anything else → the JSON object of the map, so `#field` picks a key.
 *
 * A plain answer is never the text of a JSON object, so {@link pickEntryField} can tell the two apart.
 */
export function documentOf(data: Record<string, unknown>, valueKey = DEFAULT_VALUE_KEY): string {
  const keys = Object.keys(data);
  const only = keys.length === 1 ? data[valueKey] : undefined;
  if (typeof only === 'string' && !isObjectText(only)) return only;
  return JSON.stringify(data);
}

/**
 * The data map `set` writes for a value: a non-empty JSON object becomes the entry's keys (as
 * `vault kv put path k=v ...` would hold them); anything else, or an object `documentOf` would not
 * read back as an object (`{"value":"x"}`), is written under `valueKey`.
 */
export function mapOf(value: string, valueKey = DEFAULT_VALUE_KEY): Record<string, unknown> {
  if (isObjectText(value)) {
    const parsed = JSON.parse(value) as Record<string, unknown>;
    if (Object.keys(parsed).length > 0 && isObjectText(documentOf(parsed, valueKey))) return parsed;
  }
  return { [valueKey]: value };
}

/**
 * The field rule for an answer of {@link documentOf} — what a resolver hook would apply in place of its
 * generic JSON pick (`name` is the secret's name, for messages):
 * - with `#field`: the JSON path of the document; on a plain answer, `#<valueKey>` is the answer itself;
 * - without: a document with exactly one key answers that key's value; with several keys it is an
 *   `INVALID_REFERENCE` that lists the key names (never a value); a plain answer is itself.
 */
export function pickEntryField(
  value: string,
  field: string | undefined,
  name: string,
  valueKey = DEFAULT_VALUE_KEY,
): string | undefined {
  const document = isObjectText(value);
  if (field !== undefined) {
    if (!document && field === valueKey) return value;
    return pickField(value, field, name);
  }
  if (!document) return value;
  const data = JSON.parse(value) as Record<string, unknown>;
  const keys = Object.keys(data);
  if (keys.length === 1) {
    const only = data[keys[0]!];
    return typeof only === 'string' ? only : JSON.stringify(only);
  }
  throw new EnvmuxError(
    'INVALID_REFERENCE',
    keys.length
      ? `"${name}" has ${keys.length} keys (${keys.join(', ')}): name one with #key`
      : `"${name}" has no keys`,
    { hint: keys.length ? `e.g. ${name}#${keys[0]}` : 'write a key to it first' },
  );
}
