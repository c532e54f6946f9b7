// Stores whose entries are maps of keys (a Vault KV entry, a Kubernetes Secret) as one string: the
// document `get` returns, and the field rule a reference applies to it. Never puts a value in an error.

import { isObjectText } from '../resolver/fields.js';

export { isObjectText, pickEntryField } from '../resolver/fields.js';

/** The key a plain string is written under, and read back from as that string. */
export const DEFAULT_VALUE_KEY = 'value';

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
