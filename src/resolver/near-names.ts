// "Did you mean": the candidate within two edits of a word that was not found (a secret's name, a
// scheme, a provider id). Bounded work: each distance gives up once it passes the bound.

import type { EnvmuxError } from '../errors.js';
import type { Provider } from '../providers/provider.js';
import { missingName } from './resolve.js';

/**
 * Edit distance of `a` and `b` (insertions, deletions, substitutions and swaps of two neighbours,
 * each one edit: `loacl` is one edit from `local`), or `max + 1` as soon as it is known to exceed
 * `max`.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2]! + 1);
      }
      row[j] = d;
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    before = previous;
    previous = row;
  }
  return Math.min(previous[b.length]!, max + 1);
}

/**
 * The candidate nearest `word` (not `word` itself): at most 1 edit away for words of 4–5
 * characters, 2 for longer ones; the first of equals; `undefined` when none is near, and always
 * for words under 4 characters (everything is near them).
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const max = word.length < 4 ? 0 : word.length < 6 ? 1 : 2;
  let found: string | undefined;
  let distance = max + 1;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const d = editDistance(word, candidate, Math.min(max, distance - 1));
    if (d < distance) {
      found = candidate;
      distance = d;
    }
  }
  return found;
}

/** What {@link suggestNearNames} needs of a resolver. */
export interface ListingStores {
  chain(): Promise<Provider[]>;
  list(prefix: string, options: { provider: string }): Promise<{ name: string }[]>;
}

/**
 * Add "did you mean" to each NOT_FOUND whose name is near one a store lists: the chain's stores
 * that have `list` for `secret:`, the pinned store otherwise. At most one list call per store per
 * load; never for a name built from a secret ({@link missingName} hides those); a failed list is
 * no suggestion.
 */
export async function suggestNearNames(
  errors: EnvmuxError[],
  stores: ListingStores,
): Promise<void> {
  const lists = new Map<string, Promise<string[]>>();
  const namesIn = (id: string) => {
    let names = lists.get(id);
    if (!names) {
      names = stores.list('', { provider: id }).then(
        (items) => items.map((item) => item.name),
        () => [],
      );
      lists.set(id, names);
    }
    return names;
  };
  let listing: string[] | undefined;
  for (const error of errors) {
    const looked = error.code === 'NOT_FOUND' ? missingName(error) : undefined;
    if (!looked) continue;
    listing ??= await stores.chain().then(
      (providers) => providers.filter((p) => p.list).map((p) => p.id),
      () => [],
    );
    const ids = looked.scheme === 'secret' ? listing : [looked.scheme];
    for (const id of ids) {
      const near = nearest(looked.name, await namesIn(id));
      if (near) {
        error.hint = `did you mean "${near}" in ${id}? else ${error.hint}`;
        break;
      }
    }
  }
}
