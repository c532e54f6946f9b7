// 1Password secret references (`op://vault/item/[section/]field`): the names the `op` provider
// accepts, and the `op inject` template that reads many at once. Pure; never holds a value.

import { randomBytes } from 'node:crypto';
import { EnvmuxError } from '../../errors.js';

const SCHEME = 'op://';
/** Characters `op inject` reads unquoted inside `{{ }}` (1Password: "secret reference syntax"). */
const INJECTABLE = /^[\w.@ -]+$/;

/** The `op://` reference of a provider name (`vault/item/field` or already `op://...`). */
export function referenceOf(provider: string, name: string): string {
  const path = name.startsWith(SCHEME) ? name.slice(SCHEME.length) : name;
  const parts = path.split('?')[0]!.split('/');
  const bad =
    parts.length < 3 || parts.length > 4
      ? 'it needs vault/item/field or vault/item/section/field'
      : parts.some((p) => p.trim() === '')
        ? 'a part is empty'
        : /[\u0000-\u001f\u007f{}]/.test(path)
          ? 'it holds a control character or a brace'
          : undefined;
  if (bad) {
    throw new EnvmuxError('INVALID_REFERENCE', `"${name}" is not a 1Password reference: ${bad}`, {
      provider,
      hint: 'op://vault/item/field, written $<op:vault/item/field>',
    });
  }
  return SCHEME + path;
}

/** Whether a reference can go into an `op inject` template as is. */
export function injectable(reference: string): boolean {
  return reference
    .slice(SCHEME.length)
    .split('/')
    .every((part) => INJECTABLE.test(part) && part === part.trim());
}

/** An `op inject` template for `references`, and how to read the output back. */
export interface InjectTemplate {
  text: string;
  /** The values in the output, by position; `undefined` when the output is not what was sent. */
  parse(output: string): string[] | undefined;
}

/**
 * A template where each reference sits between markers made of a fresh random nonce, so a value
 * cannot forge a marker: `<nonce>:0<{{ op://a/b/c }}>0:<nonce>` ...
 */
export function injectTemplate(references: string[]): InjectTemplate {
  const nonce = `envmux-${randomBytes(12).toString('hex')}`;
  const open = (i: number) => `${nonce}:${i}<`;
  const close = (i: number) => `>${i}:${nonce}`;
  const text = references.map((ref, i) => `${open(i)}{{ ${ref} }}${close(i)}\n`).join('');
  return {
    text,
    parse(output) {
      const values: string[] = [];
      let at = 0;
      for (let i = 0; i < references.length; i++) {
        const start = output.indexOf(open(i), at);
        if (start !== at) return undefined;
        const from = start + open(i).length;
        const end = output.indexOf(`${close(i)}\n`, from);
        if (end < 0) return undefined;
        values.push(output.slice(from, end));
        at = end + close(i).length + 1;
      }
      return at === output.length ? values : undefined;
    },
  };
}
