// The leak scan's search: every form a secret value may leak in (raw, base64, base64url,
// URL-encoded), and the assertion that a text holds none of them. Shared by the leak-scan tests.

import { expect } from 'vitest';

/** Every form a value may leak in. */
export function leakForms(value: string): string[] {
  const b64 = Buffer.from(value).toString('base64');
  return [
    value,
    b64.replace(/=+$/, ''),
    Buffer.from(value).toString('base64url'),
    encodeURIComponent(value),
  ];
}

/** Fails naming the form and the output when `text` holds any form of any of `values`. */
export function expectNoLeak(label: string, text: string, values: string[]): void {
  for (const value of values) {
    for (const form of leakForms(value)) {
      expect(
        text.includes(form),
        `${label} leaks ${JSON.stringify(form)}:\n${text.slice(0, 2000)}`,
      ).toBe(false);
    }
  }
}
