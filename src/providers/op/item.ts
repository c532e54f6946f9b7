// The 1Password item JSON a write sends to `op item create` / `op item edit` on stdin (1Password
// CLI "Item JSON template"), built from a reference's parts. Pure; never puts a value in an error.

import { EnvmuxError } from '../../errors.js';
import { referenceOf } from './references.js';

/** The parts of a reference a write addresses. */
export interface OpTarget {
  vault: string;
  item: string;
  section?: string;
  field: string;
}

/** The parts of an item's JSON (`op item get --format json`) a write reads and changes. */
export interface OpItem {
  id?: string;
  title?: string;
  category?: string;
  sections?: Array<{ id?: string; label?: string }>;
  fields?: OpField[];
  [key: string]: unknown;
}

export interface OpField {
  id?: string;
  label?: string;
  type?: string;
  purpose?: string;
  value?: string;
  section?: { id?: string; label?: string };
  [key: string]: unknown;
}

/**
 * The parts of a name a write addresses: `vault/item/[section/]field` (or with `op://`), without a
 * `?attribute=` query (attributes are read-only).
 */
export function targetOf(provider: string, name: string): OpTarget {
  const reference = referenceOf(provider, name);
  if (reference.includes('?')) {
    throw new EnvmuxError('INVALID_REFERENCE', `"${name}" names an attribute, which is read-only`, {
      provider,
      hint: 'write to op://vault/item/field without ?attribute=',
    });
  }
  const parts = reference.slice('op://'.length).split('/');
  return parts.length === 4
    ? { vault: parts[0]!, item: parts[1]!, section: parts[2]!, field: parts[3]! }
    : { vault: parts[0]!, item: parts[1]!, field: parts[2]! };
}

const matches = (f: OpField, t: OpTarget) =>
  (f.label === t.field || f.id === t.field) &&
  (t.section === undefined || f.section?.label === t.section || f.section?.id === t.section);

/** Whether the item has the target's field. */
export function hasField(item: OpItem, target: OpTarget): boolean {
  return (item.fields ?? []).some((f) => matches(f, target));
}

/**
 * A new item for a write to a name no item has: a Password item (`category: PASSWORD`) titled by the
 * item part, holding the field as a concealed field (the built-in password field for `password`).
 */
export function newItem(target: OpTarget, value: string): OpItem {
  const item: OpItem = { title: target.item, category: 'PASSWORD', fields: [] };
  return withField(item, target, value);
}

/** `item` with the target field set to `value`: the existing field changed, else a concealed one added. */
export function withField(item: OpItem, target: OpTarget, value: string): OpItem {
  const fields = [...(item.fields ?? [])];
  const at = fields.findIndex((f) => matches(f, target));
  if (at >= 0) {
    fields[at] = { ...fields[at], value };
    return { ...item, fields };
  }
  const sections = [...(item.sections ?? [])];
  let section: OpField['section'];
  if (target.section !== undefined) {
    const existing = sections.find((s) => s.label === target.section || s.id === target.section);
    section = existing
      ? { id: existing.id, label: existing.label }
      : { id: target.section, label: target.section };
    if (!existing) sections.push({ id: target.section, label: target.section });
  }
  const builtIn = target.field === 'password' && section === undefined;
  const field: OpField = {
    id: builtIn ? 'password' : target.field,
    type: 'CONCEALED',
    label: target.field,
    value,
  };
  if (builtIn) field.purpose = 'PASSWORD';
  if (section) field.section = section;
  fields.push(field);
  return { ...item, sections, fields };
}

/** `item` without the target field, and whether any field still holds a value. */
export function withoutField(item: OpItem, target: OpTarget): { item: OpItem; empty: boolean } {
  const fields = (item.fields ?? []).filter((f) => !matches(f, target));
  return {
    item: { ...item, fields },
    empty: !fields.some((f) => typeof f.value === 'string' && f.value !== ''),
  };
}

/** The names (`vault/item/[section/]field`) of an item's fields that hold a value. */
export function fieldNames(vault: string, item: OpItem): string[] {
  return (item.fields ?? [])
    .filter((f) => typeof f.value === 'string' && f.value !== '' && (f.label || f.id))
    .map((f) => {
      const section = f.section?.label || f.section?.id;
      return `${vault}/${item.title}/${section ? `${section}/` : ''}${f.label || f.id}`;
    });
}
