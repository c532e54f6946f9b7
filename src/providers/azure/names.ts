// Azure Key Vault name mapping: any secret name ↔ a Key Vault name (only letters, digits and dashes,
// 1–127 characters), reversibly. Pure functions; never sees a value.
//
// | in the name                  | in Key Vault                | example                         |
// |------------------------------|-----------------------------|---------------------------------|
// | letters A–Z a–z, digits 0–9  | unchanged                   | `db` → `db`                     |
// | `-`                          | unchanged, except `-x2d-`   | `db-password` → `db-password`   |
// |                              | where it would read as an   | `a--b` → `a-x2d--b`             |
// |                              | escape (see below)          |                                 |
// | `/`                          | `--`                        | `prod/db` → `prod--db`          |
// | any other character          | `-x` + lowercase hex code   | `DB_PASSWORD` → `DB-x5f-PASSWORD` |
// |                              | point + `-`                 | `a.b` → `a-x2e-b`, `é` → `-xe9-`  |
//
// Reading a Key Vault name back, left to right: `--` is `/`; `-x` + lowercase hex + `-` is that
// code point; any other `-` is a dash. A dash is therefore written as `-x2d-` only when the text
// after it starts with `-`, or with `x`/`X` + hex digits + `-` — so names that are already valid
// Key Vault names (`db-password`) map to themselves, and `--` keeps the meaning ASP.NET Core's Key
// Vault configuration gives it (a section separator), here `/`.
// Key Vault compares names case-insensitively, so names that differ only in ASCII letter case
// address one secret (the escapes add no other collisions: lowercased encodings decode to the
// lowercased name).

const PLAIN = /^[A-Za-z0-9]$/;
/** What must not follow a bare dash: another dash, or something that reads as an escape. */
const DASH_NEEDS_ESCAPE = /^(?:-|[xX][0-9a-fA-F]+-)/;
const ESCAPE = /^-x([0-9a-f]{1,6})-/;

/** Most characters a Key Vault secret name may have. */
export const AZURE_NAME_MAX = 127;

/**
 * The Key Vault form of `name` (see the table above). Always letters, digits and dashes; may be
 * longer than {@link AZURE_NAME_MAX} (the caller checks the length, with its prefix).
 */
export function encodeAzureName(name: string): string {
  const chars = Array.from(name);
  let out = '';
  for (let i = chars.length - 1; i >= 0; i--) {
    const c = chars[i]!;
    let token: string;
    if (PLAIN.test(c)) token = c;
    else if (c === '/') token = '--';
    else if (c === '-') token = DASH_NEEDS_ESCAPE.test(out) ? '-x2d-' : '-';
    else token = `-x${c.codePointAt(0)!.toString(16)}-`;
    out = token + out;
  }
  return out;
}

/**
 * The name a Key Vault name stands for, or `undefined` when it is not the encoding of any name
 * (e.g. `a-x41-b`, whose escape spells a plain letter): no reference can reach such a secret.
 */
export function decodeAzureName(vaultName: string): string | undefined {
  if (!/^[A-Za-z0-9-]*$/.test(vaultName)) return undefined;
  let out = '';
  let i = 0;
  while (i < vaultName.length) {
    const rest = vaultName.slice(i);
    if (rest.startsWith('--')) {
      out += '/';
      i += 2;
      continue;
    }
    const escaped = ESCAPE.exec(rest);
    if (escaped) {
      const code = Number.parseInt(escaped[1]!, 16);
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
      out += String.fromCodePoint(code);
      i += escaped[0].length;
      continue;
    }
    out += vaultName[i];
    i += 1;
  }
  // Only the one canonical spelling of a name decodes (a name maps to exactly one vault name).
  return encodeAzureName(out) === vaultName ? out : undefined;
}
