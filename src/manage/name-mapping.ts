// Name mapping for copies between stores: `old/*=new/*` rules, `*` capturing any run of characters
// (slashes included), applied first match wins. Pure; never sees a value.

import { EnvmuxError } from '../errors.js';

/** One rule: names matching `from` are renamed to `to`, each `*` of `to` taking the next capture. */
export interface RenameRule {
  from: string;
  to: string;
}

/** A rule from `old/*=new/*` text; throws `CONFIG` when malformed. */
export function parseRenameRule(text: string): RenameRule {
  const at = text.indexOf('=');
  const from = at === -1 ? '' : text.slice(0, at);
  const to = at === -1 ? '' : text.slice(at + 1);
  if (!from || !to) {
    throw new EnvmuxError('CONFIG', `--rename "${text}" is not of the form old/*=new/*`, {
      hint: "e.g. --rename 'dev/*=prod/*'",
    });
  }
  const stars = (s: string) => s.split('*').length - 1;
  if (stars(to) > stars(from)) {
    throw new EnvmuxError('CONFIG', `--rename "${text}": the new name has more * than the old`, {
      hint: 'each * of the new name takes what a * of the old name matched',
    });
  }
  return { from, to };
}

/** A function mapping a source name to its destination name (unchanged when no rule matches). */
export function createRenamer(rules: Array<RenameRule | string> = []): (name: string) => string {
  const compiled = rules.map((rule) => {
    const { from, to } = typeof rule === 'string' ? parseRenameRule(rule) : rule;
    const pattern = from
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('(.*?)');
    return { regex: new RegExp(`^${pattern}$`, 's'), to };
  });
  return (name) => {
    for (const { regex, to } of compiled) {
      const m = regex.exec(name);
      if (!m) continue;
      let i = 1;
      return to.replace(/\*/g, () => m[i++] ?? '');
    }
    return name;
  };
}
