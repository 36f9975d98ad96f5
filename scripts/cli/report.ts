import { BEING_COPIED, LOCKED_BY_ANOTHER_RUNNER, type MigrateReport } from '../../src/index.ts';
import type { Output } from './output.ts';

/** The human form of a migrate or rollback report: the summary first, then each failure in full. */
export function printRunReport(out: Output, report: MigrateReport, verb: 'migrate' | 'rollback'): void {
  const s = report.summary;
  printPastTarget(out, report);
  if (report.dryRun) {
    out.line(
      out.bold(
        `Dry run: ${report.planned.length} of ${s.tenants} tenant(s) would change${report.target ? ` (target ${report.target})` : ''}; nothing was touched.`,
      ),
    );
    printPlanGroups(out, report, verb);
    if (report.canaries && report.canaries.length > 0)
      out.line(`  canaries first: ${report.canaries.map((c) => `${c.region}/${c.tenant}`).join(', ')}`);
    return;
  }
  if (report.canaries && report.canaries.length > 0)
    out.line(out.dim(`  canaries: ${report.canaries.map((c) => `${c.region}/${c.tenant}`).join(', ')}`));
  if (report.planned.length === 0) {
    if (verb === 'migrate' && (report.pastTarget?.length ?? 0) > 0) return;
    out.line(
      `${out.green('✓')} Nothing to do: all ${s.tenants} tenant(s) are ${verb === 'migrate' ? 'up to date' : 'already at the target'}${report.target ? ` (${report.target})` : ''}. (${(report.durationMs / 1000).toFixed(2)} s)`,
    );
    return;
  }
  const mark = report.ok ? out.green('✓') : out.red('✗');
  out.line(
    `${mark} ${verb}: ${s.applied} tenant(s) changed (${s.migrationsApplied} migration(s) ${verb === 'migrate' ? 'applied' : 'reverted'}), ${s.failed} failed, ${s.skipped} skipped, ${s.upToDate} already up to date, in ${(report.durationMs / 1000).toFixed(2)} s`,
  );
  if (report.stopped) out.line(out.yellow(`stopped: ${report.stopped}`));
  if (report.stopped === 'interrupted')
    out.line(
      out.yellow(
        `  interrupted: the tenants in flight finished, the others were not started. Run the same command again to finish (done tenants are not touched again).`,
      ),
    );
  const skippedByReason = new Map<string, number>();
  for (const r of report.results)
    if (r.status === 'skipped') skippedByReason.set(r.reason ?? '', (skippedByReason.get(r.reason ?? '') ?? 0) + 1);
  for (const [reason, n] of skippedByReason) out.line(out.dim(`  skipped ${n}: ${reason}`));
  const held = report.results.filter((r) => r.status === 'skipped' && r.reason === LOCKED_BY_ANOTHER_RUNNER);
  if (held.length > 0)
    out.line(
      out.red(
        `  not migrated, held by another runner: ${held.map((r) => `${r.region}/${r.tenant}`).join(', ')}; run again once it is done.`,
      ),
    );
  const copying = report.results.filter((r) => r.status === 'skipped' && r.reason === BEING_COPIED);
  if (copying.length > 0)
    out.line(
      out.red(
        `  not migrated, being moved or restored: ${copying.map((r) => `${r.region}/${r.tenant}`).join(', ')}; run again once the move or restore is done (fleet tenants move <id> --status).`,
      ),
    );
  const failed = report.results.filter((r) => r.status === 'failed');
  for (const f of failed.slice(0, 100)) {
    out.line(
      `  ${out.red('failed')} ${f.region}/${f.tenant} at ${f.error?.migration ?? '(before any migration)'}: ${f.error?.message}${f.error?.code ? ` [SQLSTATE ${f.error.code}]` : ''}`,
    );
  }
  if (failed.length > 100) out.line(`  … and ${failed.length - 100} more failures (use --json for all)`);
  if (failed.length > 0) out.line(out.dim('  Each failed tenant stays at its last good migration; fix the cause and run again.'));
}

/** The plan grouped by what would run, largest group first: one line per distinct list of migrations. */
function printPlanGroups(out: Output, report: MigrateReport, verb: 'migrate' | 'rollback'): void {
  const groups = new Map<string, { tenants: string[]; regions: Map<string, number> }>();
  for (const p of report.planned) {
    const key = p.pending.join(', ') || '(provision only)';
    const group = groups.get(key) ?? { tenants: [], regions: new Map<string, number>() };
    group.tenants.push(`${p.region}/${p.tenant}`);
    group.regions.set(p.region, (group.regions.get(p.region) ?? 0) + 1);
    groups.set(key, group);
  }
  for (const [migrations, group] of [...groups].sort(([, a], [, b]) => b.tenants.length - a.tenants.length)) {
    const regions = [...group.regions].map(([r, n]) => `${r} ${n}`).join(', ');
    const sample = group.tenants.slice(0, 5).join(', ') + (group.tenants.length > 5 ? `, … (+${group.tenants.length - 5})` : '');
    out.line(`  ${group.tenants.length} tenant(s) would ${verb === 'migrate' ? 'apply' : 'revert'} ${migrations}  [${regions}]: ${sample}`);
  }
}

function printPastTarget(out: Output, report: MigrateReport): void {
  const past = report.pastTarget ?? [];
  if (past.length === 0) return;
  out.line(
    out.yellow(
      `${past.length} tenant(s) already have migrations later than ${report.target}: migrate never goes back. To return them to ${report.target}: fleet rollback --to ${report.target} --tenant <id> (e.g. ${past.slice(0, 3).join(', ')})`,
    ),
  );
}
