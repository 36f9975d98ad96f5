/**
 * The one identifier-quoting helper. Every schema, role or table name that reaches SQL text goes
 * through here; values never do: they go as bound parameters.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('cannot quote an empty identifier');
  if (name.includes('\u0000')) throw new Error('an identifier cannot contain a NUL byte');
  return `"${name.replaceAll('"', '""')}"`;
}

/** A dotted name such as fleet.tenants, each part quoted. */
export function quoteQualified(...parts: string[]): string {
  return parts.map(quoteIdent).join('.');
}
