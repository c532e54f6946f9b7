// How a password-store entry becomes the answer `get` gives: the pass convention (first line the
// password, then `key: value` lines) as a map entry for `#field`. Pure; never puts a value in an error.

import { isObjectText } from '../entry-document.js';

/** The key the first line of a structured entry is presented under. */
export const PASSWORD_KEY = 'password';

const FIELD_LINE = /^([A-Za-z0-9_][\w -]{0,63}?)[ \t]*:[ \t]*(.*)$/;

/**
 * The answer for an entry's decrypted text (one trailing newline removed, as `pass insert` and
 * `pass generate` add one):
 * - one line, a JSON object, or any entry that is not structured → the text itself;
 * - structured (a first line, then only `key: value` lines, blank lines allowed) → the JSON object
 *   `{ password: <first line>, <key>: <value>, ... }` (the first of a repeated key wins), so the
 *   resolver's entry rule applies: `#password`, `#login`, ...; without `#field` and with several
 *   keys, an error that lists the key names.
 */
export function answerOf(decrypted: string): string {
  const text = decrypted.endsWith('\n') ? decrypted.slice(0, -1) : decrypted;
  if (!text.includes('\n') || isObjectText(text)) return text;
  const [first, ...rest] = text.split('\n');
  const map: Record<string, string> = { [PASSWORD_KEY]: first!.replace(/\r$/, '') };
  let fields = 0;
  for (const raw of rest) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const match = FIELD_LINE.exec(line);
    if (!match) return text;
    const key = match[1]!.trim();
    if (!Object.hasOwn(map, key)) map[key] = match[2]!;
    fields++;
  }
  return fields ? JSON.stringify(map) : text;
}

/** The entry text `set` writes for a value: the value and the newline pass tools end entries with. */
export function entryTextOf(value: string): string {
  return `${value}\n`;
}
