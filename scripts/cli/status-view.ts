import type { FleetStatus } from '../../src/index.ts';
import type { Output } from './output.ts';

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** A summary a person reads at a glance (tenants per version per region), then one line per tenant. */
export function printStatus(out: Output, status: FleetStatus, options: { tenants: boolean } = { tenants: true }): void {
  const total = status.regions.reduce((n, r) => n + r.tenants, 0);
  out.line(out.bold(`Fleet: ${total} tenant(s) in ${status.regions.length} region(s); latest migration ${status.latest ?? '(none)'}`));
  for (const region of status.regions) {
    const states =
      Object.entries(region.byStatus)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ') || 'no tenants';
    out.line(
      `  ${out.bold(region.region)} ${out.dim(region.database)}: ${states}${region.pendingTenants > 0 ? out.yellow(`, ${region.pendingTenants} with pending migrations (pre-deploy: ${region.pendingByPhase.preDeploy} tenant(s), post-deploy: ${region.pendingByPhase.postDeploy})`) : ''}${region.aside > 0 ? `, ${region.aside} aside schema(s)` : ''}`,
    );
    for (const [version, n] of Object.entries(region.versions).sort(([a], [b]) => (a < b ? 1 : -1))) {
      const mark = version === status.latest ? out.green('●') : out.yellow('○');
      out.line(`    ${mark} ${pad(version, 40)} ${String(n).padStart(6)}`);
    }
  }
  if (!options.tenants) return;
  if (status.tenants.length > 0) {
    out.line();
    printTable(out, [
      ['TENANT', 'REGION', 'SCHEMA', 'STATUS', 'LAST APPLIED', 'PENDING', 'PRE-DEPLOY', 'POST-DEPLOY'],
      ...status.tenants.map((t) => [
        t.id,
        t.region,
        t.schema,
        t.status,
        t.lastApplied ?? '-',
        String(t.pending),
        String(t.pendingByPhase.preDeploy),
        String(t.pendingByPhase.postDeploy),
      ]),
    ]);
  }
  if (status.aside.length > 0) {
    out.line();
    out.line(
      out.bold(
        'Aside schemas (former schemas of restored tenants): the purge drops each after its date; --discard-aside drops them at once',
      ),
    );
    printTable(out, [
      ['TENANT', 'REGION', 'SCHEMA', 'SET ASIDE AT', 'DROP AFTER'],
      ...status.aside.map((a) => [a.tenant, a.region, a.schema, a.setAsideAt, a.due ? `${a.dropAfter} (due)` : a.dropAfter]),
    ]);
  }
}

function printTable(out: Output, rows: readonly (readonly string[])[]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows)
    out.line(
      row
        .map((cell, i) => pad(cell, widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}
