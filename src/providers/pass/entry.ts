// How a password-store entry becomes the answer `get` gives: the decrypted text as `pass show` prints
// it; references read it by the password-store field rule (src/resolver/fields.ts `pickLineField`).

/**
 * The answer for an entry's decrypted text: the text with one trailing newline removed (`pass
 * insert` and `pass generate` add one). References then read its first line by default, `#key` a
 * `key: value` line, `#*` the whole entry (the provider's `isEntry` answers `'lines'`).
 */
export function answerOf(decrypted: string): string {
  return decrypted.endsWith('\n') ? decrypted.slice(0, -1) : decrypted;
}

/** The entry text `set` writes for a value: the value and the newline pass tools end entries with. */
export function entryTextOf(value: string): string {
  return `${value}\n`;
}
