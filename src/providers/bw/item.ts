// How a Bitwarden item (the JSON of `bw get item`) becomes the answer `get` gives: a map of its
// fields for `#field` (the entry rule), or a secure note's text; and the item a write saves. Pure;
// never puts a value in an error.

import { EnvmuxError } from '../../errors.js';

/** The parts of a `bw get item` answer envmux reads (Bitwarden CLI, "get" and item JSON). */
export interface BwItem {
  id?: string;
  name?: string;
  type?: number;
  /** Set while the item is in the trash. */
  deletedDate?: string | null;
  notes?: string | null;
  login?: {
    username?: string | null;
    password?: string | null;
    totp?: string | null;
    uris?: Array<{ uri?: string | null }> | null;
  } | null;
  card?: {
    cardholderName?: string | null;
    number?: string | null;
    code?: string | null;
    expMonth?: string | null;
    expYear?: string | null;
  } | null;
  /** Custom fields: type 0 text, 1 hidden, 2 boolean, 3 linked (no value of its own). */
  fields?: Array<{ name?: string | null; value?: string | null; type?: number }> | null;
}

/**
 * The answer for an item: the JSON object of its non-empty parts, in this order — `username`,
 * `password`, `totp`, `uri` (the first), `cardholderName`, `number`, `code`, `expMonth`, `expYear`,
 * `notes`, then each custom field by its name (a name already taken keeps the first). An item
 * holding nothing but notes (a secure note) answers the notes text itself — a JSON object there is
 * then the document `#field` reads.
 */
export function answerOfItem(item: BwItem): string {
  const map: Record<string, string> = {};
  const put = (key: string, value: string | null | undefined) => {
    if (typeof value === 'string' && value !== '' && !Object.hasOwn(map, key)) map[key] = value;
  };
  put('username', item.login?.username);
  put('password', item.login?.password);
  put('totp', item.login?.totp);
  put('uri', item.login?.uris?.find((u) => u?.uri)?.uri);
  put('cardholderName', item.card?.cardholderName);
  put('number', item.card?.number);
  put('code', item.card?.code);
  put('expMonth', item.card?.expMonth);
  put('expYear', item.card?.expYear);
  put('notes', item.notes);
  for (const field of item.fields ?? []) {
    if (field?.type === 3 || !field?.name) continue;
    put(field.name, field.value);
  }
  const keys = Object.keys(map);
  if (keys.length === 1 && keys[0] === 'notes') return map.notes!;
  return JSON.stringify(map);
}

/** The item `bw create item` makes for a new name: a secure note holding the value (`bw get template item`). */
export function newNote(name: string, value: string): BwItem & Record<string, unknown> {
  return {
    organizationId: null,
    collectionIds: null,
    folderId: null,
    type: 2,
    name,
    notes: value,
    favorite: false,
    fields: [],
    secureNote: { type: 0 },
    reprompt: 0,
  };
}

/**
 * `item` with `value` written where envmux reads a plain value back: a secure note's notes, a
 * login's password. Other item types (cards, identities) are refused rather than guessed at.
 */
export function withValue(provider: string, item: BwItem, value: string): BwItem {
  if (item.type === 2) return { ...item, notes: value };
  if (item.type === 1) return { ...item, login: { ...(item.login ?? {}), password: value } };
  throw new EnvmuxError(
    'INVALID_REFERENCE',
    `"${item.name}" is a Bitwarden item envmux does not write (only secure notes and logins)`,
    { provider, hint: 'edit it in Bitwarden, or write a new name (a secure note)' },
  );
}
