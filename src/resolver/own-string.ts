// Reading a record by a name from a file or a reference without reaching Object.prototype:
// `$<env:toString>` or a key named `constructor` is a name like any other (docs/architecture.md, "Invariants").

/** `record[name]` when it is the record's own string; never a value inherited from Object.prototype. */
export function ownString(
  record: Record<string, string | undefined>,
  name: string,
): string | undefined {
  if (!Object.hasOwn(record, name)) return undefined;
  const value = record[name];
  return typeof value === 'string' ? value : undefined;
}
