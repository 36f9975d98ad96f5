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
      `  ${out.bold(region.region)} ${out.dim(region.database)}: ${states}${region.pendingTenants > 0 ? out.yellow(`, ${region.pendingTenants} with pending migrations (pre-deploy: ${region.pendingByPhase.preDeploy} tenant(s), post-deploy: ${region.pendingByPhase.postDeploy})`) : ''}`,
    );
    for (const [version, n] of Object.entries(region.versions).sort(([a], [b]) => (a < b ? 1 : -1))) {
      const mark = version === status.latest ? out.green('●') : out.yellow('○');
      out.line(`    ${mark} ${pad(version, 40)} ${String(n).padStart(6)}`);
    }
  }
  if (!options.tenants || status.tenants.length === 0) return;
  out.line();
  const rows = [
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
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows)
    out.line(
      row
        .map((cell, i) => pad(cell, widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}
