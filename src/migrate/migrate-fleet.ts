import type { Fleet } from '../fleet.ts';
import { assertTenantIds } from '../tenants/ids.ts';
import { assertMigrationName, loadFleetPlan, workItems } from './load-plan.ts';
import { pendingFor } from './plan.ts';
import { checkOutOfOrder } from './file-checks.ts';
import type { MigrationPhase } from './migration-files.ts';
import { lintMigrations, lintRefusal, type LintReport } from './lint.ts';
import { executeAcrossFleet, runSettings, type RunEvent, type TenantResult } from './run-fleet.ts';
import {
  BEING_COPIED,
  LOCKED_BY_ANOTHER_RUNNER,
  migrateTenantUp,
  preloadMigrator,
  type TenantPreparer,
  type TenantRunSettings,
} from './tenant-migrator.ts';
import { inShard, type Shard } from './shard.ts';
import { pickCanaries } from './canaries.ts';
import { assertMigrationsHoldSql } from './migration-files.ts';
import { resolveMigrationName } from './migration-name.ts';

export interface MigrateOptions {
  /** Stop at this migration (inclusive); default the latest. */
  readonly to?: string;
  /**
   * `pre-deploy`: each tenant's pending migrations up to, not including, its first pending
   * post-deploy one (`-- fleet:phase post-deploy`). `post-deploy` (the default): all of them.
   */
  readonly phase?: MigrationPhase;
  /** Apply new files whose version sorts before one a tenant already has (refused by default). */
  readonly allowOutOfOrder?: boolean;
  /**
   * Lint (squawk, src/migrate/lint.ts) the files about to be applied to tenants that already
   * exist before touching any, and refuse on an error rule the file does not allow. A tenant still
   * provisioning is not counted: its tables are new and empty, no lock on them waits for anyone.
   * The CLI lints by default; the library only when asked.
   */
  readonly lint?: boolean;
  readonly tenants?: readonly string[];
  readonly concurrency?: number;
  readonly canary?: number;
  readonly failFast?: boolean;
  readonly dryRun?: boolean;
  readonly shard?: Shard;
  readonly onEvent?: (event: RunEvent) => void;
  readonly settings?: Partial<TenantRunSettings>;
  readonly signal?: AbortSignal;
  /**
   * Creates a provisioning tenant's schema and roles before its first migration
   * (`prepareTenantSchema` of src/provisioning). Without it, tenants still provisioning are skipped.
   */
  readonly prepare?: TenantPreparer;
}

export interface PlannedTenant {
  readonly tenant: string;
  readonly region: string;
  readonly schema: string;
  readonly status: string;
  readonly pending: readonly string[];
}

export interface MigrateSummary {
  readonly tenants: number;
  readonly upToDate: number;
  readonly applied: number;
  readonly skipped: number;
  readonly failed: number;
  readonly migrationsApplied: number;
}

export interface MigrateReport {
  readonly ok: boolean;
  readonly dryRun: boolean;
  readonly target: string | null;
  /** Which phase ran (migrate only). */
  readonly phase?: MigrationPhase;
  readonly planned: readonly PlannedTenant[];
  readonly results: readonly TenantResult[];
  readonly summary: MigrateSummary;
  readonly stopped?: string;
  /** The canary tenants (spread over the regions), run first; empty without canary. */
  readonly canaries?: readonly { readonly tenant: string; readonly region: string }[];
  /** With `to`: tenants already at a later migration than the target (migrate never goes back; rollback does). */
  readonly pastTarget?: readonly string[];
  /** The lint of the files about to be applied, when the run linted (warnings and allowed findings included). */
  readonly lint?: LintReport;
  readonly durationMs: number;
}

export function summarize(considered: number, results: readonly TenantResult[], upToDate: number): MigrateSummary {
  const count = (status: TenantResult['status']) => results.filter((r) => r.status === status).length;
  return {
    tenants: considered,
    upToDate,
    applied: count('applied'),
    skipped: count('skipped'),
    failed: count('failed'),
    migrationsApplied: results.reduce((n, r) => n + (r.status === 'failed' ? 0 : r.migrations.length), 0),
  };
}

/**
 * Migrate every tenant (or the chosen ones) of every region of the fleet. Tenants that are
 * provisioning are completed; purged ones have no schema and are left out.
 */
export async function migrateFleet(fleet: Fleet, options: MigrateOptions = {}): Promise<MigrateReport> {
  const started = performance.now();
  if (options.tenants) assertTenantIds(options.tenants);
  const plan = await loadFleetPlan(fleet);
  options = options.to !== undefined ? { ...options, to: resolveMigrationName(plan.files, options.to) } : options;
  if (options.to !== undefined) assertMigrationName(plan.files, options.to);
  if (!options.allowOutOfOrder)
    checkOutOfOrder(
      plan.states.map((s) => s.state),
      plan.files,
    );
  let items = workItems(plan, options.tenants);
  if (options.shard) {
    const shard = options.shard;
    items = items.filter((i) => inShard(i.tenant.id, shard));
  }
  const considered = items.length;
  const planned: PlannedTenant[] = [];
  const work = items.filter((item) => {
    const pending = pendingFor(item.tenant, plan.files, options.to, options.phase);
    const needsWork = pending.length > 0 || item.tenant.status === 'provisioning';
    if (needsWork) {
      planned.push({
        tenant: item.tenant.id,
        region: item.region.name,
        schema: item.tenant.schema,
        status: item.tenant.status,
        pending: pending.map((f) => f.name),
      });
    }
    return needsWork;
  });
  const upToDate = considered - work.length;
  assertMigrationsHoldSql(plan.files, new Set(planned.flatMap((p) => p.pending)));
  const targetIndex = options.to === undefined ? -1 : plan.files.findIndex((f) => f.name === options.to);
  const pastTarget =
    targetIndex < 0
      ? []
      : items.filter((i) => plan.files.some((f, n) => n > targetIndex && i.tenant.applied.includes(f.name))).map((i) => i.tenant.id);
  const canaries = pickCanaries(work, Math.min(options.canary ?? 0, work.length)).map((i) => ({
    tenant: i.tenant.id,
    region: i.region.name,
  }));
  const extra = { canaries, ...(pastTarget.length > 0 ? { pastTarget } : {}) };

  if (!options.dryRun && work.length > 0) preloadMigrator();
  let lint: LintReport | undefined;
  if (options.lint && !options.dryRun) {
    const names = new Set(
      work
        .filter((i) => i.tenant.status !== 'provisioning')
        .flatMap((i) => pendingFor(i.tenant, plan.files, options.to, options.phase).map((f) => f.name)),
    );
    lint = await lintMigrations(
      plan.files.filter((f) => names.has(f.name)),
      { pgVersion: oldestEngine(fleet) },
    );
    if (!lint.ok) throw lintRefusal(lint);
  }

  if (options.dryRun || work.length === 0) {
    return {
      ok: true,
      dryRun: options.dryRun ?? false,
      target: options.to ?? null,
      phase: options.phase ?? 'post-deploy',
      planned,
      results: [],
      summary: summarize(considered, [], upToDate),
      ...extra,
      durationMs: Math.round(performance.now() - started),
    };
  }

  const settings = runSettings(fleet, { ...options.settings, ...(options.prepare ? { prepare: options.prepare } : {}) });
  const outcome = await executeAcrossFleet(
    work,
    (client, item) => migrateTenantUp(client, item.tenant, plan.files, settings, options.to, options.phase),
    {
      concurrency: options.concurrency ?? fleet.config.runner.concurrency,
      ...(options.canary !== undefined ? { canary: options.canary } : {}),
      ...(options.failFast !== undefined ? { failFast: options.failFast } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  const summary = summarize(considered, outcome.results, upToDate);
  return {
    // A pending tenant another runner held, or a copy (move, restore), was not migrated: not ok (the report names it).
    ok:
      summary.failed === 0 &&
      outcome.stopped === undefined &&
      !outcome.results.some((r) => r.status === 'skipped' && (r.reason === LOCKED_BY_ANOTHER_RUNNER || r.reason === BEING_COPIED)),
    dryRun: false,
    target: options.to ?? null,
    phase: options.phase ?? 'post-deploy',
    planned,
    results: outcome.results,
    summary,
    ...(outcome.stopped ? { stopped: outcome.stopped } : {}),
    ...extra,
    ...(lint ? { lint } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}

/** The oldest PostgreSQL major version among the fleet's regions: what the lint's rules assume. */
export function oldestEngine(fleet: Fleet): number {
  return Math.min(...fleet.config.regions.map((r) => Number.parseInt(String(r.engineVersion), 10)).filter((v) => Number.isFinite(v)), 17);
}
