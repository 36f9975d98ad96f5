import type { Finding } from './types.ts';

/** A plain-text table (rule, resource, result, why); not-applicable rows only when asked. */
export function formatTable(findings: readonly Finding[], options: { readonly showNotApplicable?: boolean } = {}): string {
  const rows = findings
    .filter((f) => options.showNotApplicable === true || f.status !== 'not_applicable')
    .map((f) => [`${f.rule} (${f.control})`, `${f.stack}: ${f.resource}`, f.status, f.reason]);
  const header = ['RULE', 'RESOURCE', 'RESULT', 'WHY'];
  // The last column is free text: pad only the others so long reasons do not widen everything.
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
