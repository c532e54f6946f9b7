// Picking a reference's `#field` from a fetched value: a JSON path in general, and the map-entry rule
// for stores whose entries are maps of keys. Never puts a value in an error (key names only).

import { EnvmuxError } from '../errors.js';

/** `#a.b.0` of a JSON value. Objects and arrays come back as JSON text, scalars as text. */
export function pickField(value: string, path: string, reference: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    throw new EnvmuxError(
      'INVALID_REFERENCE',
      `the secret is not JSON, so it has no field "${path}"`,
      {
        reference,
        hint: 'drop the #field, or store the secret as a JSON object',
      },
    );
  }
  for (const step of path.split('.')) {
    // Own keys only (`#__proto__`, `#constructor` reach nothing), and indexes only in arrays.
    if (doc === null || typeof doc !== 'object' || !Object.hasOwn(doc, step)) return undefined;
    if (Array.isArray(doc) && !/^(0|[1-9]\d*)$/.test(step)) return undefined;
    doc = (doc as Record<string, unknown>)[step];
  }
  if (doc === undefined || doc === null) return undefined;
  return typeof doc === 'string'
    ? doc
    : typeof doc === 'object'
      ? JSON.stringify(doc)
      : String(doc);
}

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
 * The field rule for a provider's map entries (Vault KV, a whole Kubernetes Secret; see
 * src/providers/entry-document.ts), which the resolver applies when a provider's `isEntry(name)` says
 * so (`name` is the secret's name, for messages):
 * - with `#field`: the JSON path of the document; on a plain answer, `#<valueKey>` is the answer itself;
 * - without: a document with exactly one key answers that key's value; with several keys it is an
 *   `INVALID_REFERENCE` that lists the key names (never a value); a plain answer is itself.
 */
export function pickEntryField(
  value: string,
  field: string | undefined,
  name: string,
  valueKey = 'value',
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

/**
 * How `#field` reads a provider's answers (`Provider.isEntry`): `true` the map-entry rule
 * ({@link pickEntryField}); `'lines'` the password-store rule ({@link pickLineField}).
 */
export type EntryRule = boolean | 'lines';

/** The field rule of an entry answer (see {@link EntryRule}). */
export function pickOfEntry(
  value: string,
  field: string | undefined,
  name: string,
  rule: EntryRule,
): string | undefined {
  return rule === 'lines' ? pickLineField(value, field, name) : pickEntryField(value, field, name);
}

/** The `#field` that reads a whole `'lines'` entry. */
export const WHOLE_ENTRY_FIELD = '*';

const FIELD_LINE = /^([A-Za-z0-9_][\w -]{0,63}?)[ \t]*:[ \t]*(.*)$/;

/**
 * The password-store rule (`pass`: first line the password, then free text and `key: value` lines):
 * - without `#field`: the first line (as `pass show -c` and every pass client read it);
 * - `#*`: the whole entry;
 * - an entry that is a JSON object is a document: the whole text without `#field`, else its JSON path;
 * - `#key`: the value of the first `key: value` line after the first line (`#password` the first
 *   line itself), `undefined` when no line has that key; an entry without any `key: value` line has
 *   no fields: `INVALID_REFERENCE` (key names only in messages, never a value).
 */
export function pickLineField(
  value: string,
  field: string | undefined,
  name: string,
): string | undefined {
  if (field === WHOLE_ENTRY_FIELD) return value;
  if (isObjectText(value)) return field === undefined ? value : pickField(value, field, name);
  const [first = '', ...rest] = value.split('\n');
  const password = first.replace(/\r$/, '');
  if (field === undefined) return password;
  const map = new Map<string, string>();
  for (const raw of rest) {
    const match = FIELD_LINE.exec(raw.replace(/\r$/, ''));
    if (match && !map.has(match[1]!.trim())) map.set(match[1]!.trim(), match[2]!);
  }
  if (map.size === 0) {
    throw new EnvmuxError(
      'INVALID_REFERENCE',
      `"${name}" has no key: value lines, so no field "${field}"`,
      {
        hint: `drop the #${field} (the first line), or #* for the whole entry`,
      },
    );
  }
  if (field === 'password') return password;
  return map.get(field);
}
