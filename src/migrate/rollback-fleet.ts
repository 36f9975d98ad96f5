import type { Fleet } from '../fleet.ts';
import { FleetError } from '../errors.ts';
import { assertTenantIds } from '../tenants/ids.ts';
import { assertMigrationName, loadFleetPlan, workItems } from './load-plan.ts';
import { executeAcrossFleet, runSettings, type RunEvent } from './run-fleet.ts';
import { migrateTenantDown, type TenantRunSettings } from './tenant-migrator.ts';
import { summarize, type MigrateReport, type PlannedTenant } from './migrate-fleet.ts';
import { resolveMigrationName } from './migration-name.ts';

export interface RollbackOptions {
  /**
   * The migration to return to: it stays applied, every later one is reverted. `0` reverts all.
   * Its version alone (`0006`) names it too.
   */
  readonly to: string;
  readonly tenants?: readonly string[];
  readonly concurrency?: number;
  readonly dryRun?: boolean;
  readonly onEvent?: (event: RunEvent) => void;
  readonly settings?: Partial<TenantRunSettings>;
  readonly signal?: AbortSignal;
}

/**
 * Roll tenants back with the .down.sql files. Every down file the rollback needs is checked first:
 * one missing anywhere and nothing is touched.
 */
export async function rollbackFleet(fleet: Fleet, options: RollbackOptions): Promise<MigrateReport> {
  const started = performance.now();
  if (options.tenants) assertTenantIds(options.tenants);
  const plan = await loadFleetPlan(fleet, { allowChangedFiles: true });
  const keep = options.to === '0' ? null : resolveMigrationName(plan.files, options.to);
  if (keep !== null) assertMigrationName(plan.files, keep);
  const keepIndex = keep === null ? -1 : plan.files.findIndex((f) => f.name === keep);
  const items = workItems(plan, options.tenants);

  const planned: PlannedTenant[] = [];
  for (const item of items) {
    const revert = plan.files.filter((f, i) => i > keepIndex && item.tenant.applied.includes(f.name)).reverse();
    if (revert.length > 0) {
      planned.push({
        tenant: item.tenant.id,
        region: item.region.name,
        schema: item.tenant.schema,
        status: item.tenant.status,
        pending: revert.map((f) => f.name),
      });
    }
  }
  const needed = new Set(planned.flatMap((p) => p.pending));
  const missing = plan.files.filter((f) => needed.has(f.name) && !f.down).map((f) => `${f.name}.down.sql`);
  if (missing.length > 0) {
    throw new FleetError(
      'MIGRATION_FILES_INVALID',
      `rollback to ${options.to} needs down files that do not exist; nothing was touched. Write them in ${fleet.migrationsDir}:`,
      missing,
    );
  }
  const plannedIds = new Set(planned.map((p) => p.tenant));
  const work = items.filter((i) => plannedIds.has(i.tenant.id));
  const upToDate = items.length - work.length;
  if (options.dryRun || work.length === 0) {
    return {
      ok: true,
      dryRun: options.dryRun ?? false,
      target: keep ?? '0',
      planned,
      results: [],
      summary: summarize(items.length, [], upToDate),
      durationMs: Math.round(performance.now() - started),
    };
  }
  const settings = runSettings(fleet, options.settings);
  const outcome = await executeAcrossFleet(work, (client, item) => migrateTenantDown(client, item.tenant, plan.files, settings, keep), {
    concurrency: options.concurrency ?? fleet.config.runner.concurrency,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const summary = summarize(items.length, outcome.results, upToDate);
  return {
    ok: summary.failed === 0 && outcome.stopped === undefined,
    dryRun: false,
    target: keep ?? '0',
    planned,
    results: outcome.results,
    summary,
    ...(outcome.stopped ? { stopped: outcome.stopped } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}
