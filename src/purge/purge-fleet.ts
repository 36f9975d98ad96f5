import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { withClient } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { assertTenantIds } from '../tenants/ids.ts';
import { evaluateBrake, type BrakeDecision } from './brake.ts';
import { BrakeRefusal } from './brake-refusal.ts';
import { summarizeDue, type DueSummary } from './due-summary.ts';
import { notDueReason, planRegionPurge, type DueAside, type DueTenant, type RegionPurgePlan } from './plan.ts';
import { purgeAsideSchema } from './purge-aside.ts';
import { purgeTenant } from './purge-tenant.ts';

export interface PurgeOptions {
  /**
   * The time to judge "due" at; default the fleet's clock. Later than the clock only for a dry run
   * (a preview of what will be due); an execute never purges ahead of time.
   */
  readonly now?: Date;
  /** Only these regions; default all. */
  readonly regions?: readonly string[];
  /**
   * Only these tenants, and only those of them that are due: a listed tenant that is not due is
   * reported in `notDue`, never purged.
   */
  readonly tenants?: readonly string[];
  /** Refuse to execute when more than this many tenants are due in the run. */
  readonly max?: number;
  /** Drop the schemas. Without it, a dry run: the listing and the brake's verdict, nothing changed. */
  readonly execute?: boolean;
  /** Execute even when the brake is tripped. */
  readonly allowMass?: boolean;
  readonly onEvent?: (event: PurgeEvent) => void;
  /** When aborted (Ctrl-C), tenants in flight finish and no new one starts; a rerun does the rest. */
  readonly signal?: AbortSignal;
}

/** What the purge did with one schema (a tenant's, or an aside one): the fields both kinds share. */
interface SchemaDropOutcome {
  readonly tenant: string;
  readonly region: string;
  readonly schema: string;
  readonly reason?: string;
  /** Skipped because a runner, another purge or another transaction held it: still due, so the run is not ok. */
  readonly busy?: boolean;
  /** Skipped because the run was interrupted before it started: still due, so the run is not ok. */
  readonly interrupted?: boolean;
  readonly error?: { readonly message: string; readonly code?: string };
  readonly tables?: number;
  readonly approxBytes?: number;
  readonly durationMs: number;
}

export interface PurgeResult extends SchemaDropOutcome {
  readonly status: 'purged' | 'skipped' | 'failed';
  readonly purgedAt?: string;
  readonly backupExpiresAt?: string;
  /** The tenant's aside schemas, dropped with it. */
  readonly asideDropped?: readonly string[];
}

/** What the purge did with one aside schema past its drop date. */
export interface AsidePurgeResult extends SchemaDropOutcome {
  readonly status: 'dropped' | 'skipped' | 'failed';
  readonly droppedAt?: string;
}

export type PurgeEvent = { readonly type: 'start'; readonly tenants: number } | { readonly type: 'tenant'; readonly result: PurgeResult };

export interface PurgeReport {
  /** False when any tenant failed, was due but held by a runner (busy), or was not started because the run was interrupted. */
  readonly ok: boolean;
  readonly dryRun: boolean;
  readonly now: string;
  readonly allowMass: boolean;
  readonly brake: BrakeDecision;
  /** The database each region's purge acted on, safe to print (no password). */
  readonly databases: readonly { readonly region: string; readonly database: string }[];
  readonly regions: readonly { readonly region: string; readonly nonPurged: number; readonly due: number }[];
  readonly due: readonly DueTenant[];
  /** The due tenants counted by disconnect cause and by day of disconnection. */
  readonly dueSummary: DueSummary;
  /** With `tenants`: the listed tenants that are not due, and why (unknown, active, held, not yet). */
  readonly notDue: readonly { readonly tenant: string; readonly reason: string }[];
  /** One per due tenant when executed; empty for a dry run. */
  readonly results: readonly PurgeResult[];
  /**
   * Aside schemas (a restore's replaced schemas) whose drop date has passed: dropped whatever their
   * tenant's state, outside the brake (no live tenant loses data).
   */
  readonly aside: readonly DueAside[];
  /** One per due aside schema when executed; empty for a dry run. */
  readonly asideResults: readonly AsidePurgeResult[];
  readonly summary: {
    readonly due: number;
    readonly purged: number;
    readonly skipped: number;
    readonly busy: number;
    readonly interrupted: number;
    readonly failed: number;
    readonly approxBytes: number;
    readonly asideDue: number;
    readonly asideDropped: number;
    readonly asideFailed: number;
  };
  readonly durationMs: number;
}

function checkOptions(fleet: Fleet, options: PurgeOptions): Date {
  const clockNow = fleet.clock.now();
  const now = options.now ?? clockNow;
  if (Number.isNaN(now.getTime()))
    throw FleetError.forOption('INPUT_INVALID', 'now', (o) => `${o} is not a valid date: pass an ISO date such as 2026-11-26T03:00:00Z`);
  if (options.execute && now.getTime() > clockNow.getTime()) {
    throw FleetError.forOption(
      'INPUT_INVALID',
      'now',
      (o) =>
        `${o} ${now.toISOString()} is in the future (the clock says ${clockNow.toISOString()}): an execute purges only what is due now. Preview with ${o} and without execute; execute without ${o}.`,
    );
  }
  if (options.max !== undefined && (!Number.isInteger(options.max) || options.max < 0)) {
    throw FleetError.forOption(
      'INPUT_INVALID',
      'max',
      (o) => `${o} must be a whole number of tenants (0 or more), got ${JSON.stringify(options.max)}`,
    );
  }
  return now;
}

/**
 * The purge. A dry run unless `execute`: lists the due tenants of each region (schema, tables,
 * approximate size, backup expiry), the aside schemas past their drop date, and what the brake
 * says. With `execute`, refuses before anything changes when the brake is tripped (unless
 * `allowMass`), else drops each due aside schema and then purges each due tenant, each in its own
 * transaction (see purgeAsideSchema, purgeTenant): regions in parallel, one after the other within
 * a region. One failure is reported and the others go on. Safe to run again at any time.
 */
export async function purgeFleet(fleet: Fleet, options: PurgeOptions = {}): Promise<PurgeReport> {
  const started = performance.now();
  const now = checkOptions(fleet, options);
  const regions = options.regions && options.regions.length > 0 ? options.regions.map((r) => fleet.region(r)) : fleet.regions;
  if (options.tenants) assertTenantIds(options.tenants);
  const wanted = options.tenants && options.tenants.length > 0 ? new Set(options.tenants) : undefined;
  const plans = (await Promise.all(regions.map((region) => planRegionPurge(fleet, region, now)))).map((p) =>
    wanted ? { ...p, due: p.due.filter((d) => wanted.has(d.tenant)), aside: p.aside.filter((a) => wanted.has(a.tenant)) } : p,
  );
  const notDue = wanted
    ? await whyNotDue(
        regions,
        [...wanted].filter((id) => !plans.some((p) => p.due.some((d) => d.tenant === id))),
        now,
      )
    : [];
  const brake = evaluateBrake(
    plans.map((p) => ({ region: p.region, due: p.due.length, nonPurged: p.nonPurged })),
    fleet.config.lifecycle.purgeMaxShare,
    options.max,
  );
  const due = plans.flatMap((p) => p.due);
  const held = await heldTenants(
    fleet.regions,
    plans.flatMap((p) => p.aside.map((a) => a.tenant)),
  );
  const aside = plans.flatMap((p) => p.aside).filter((a) => !held.has(a.tenant));
  const base = {
    now: now.toISOString(),
    allowMass: options.allowMass ?? false,
    brake,
    databases: regions.map((r) => ({ region: r.name, database: r.description })),
    regions: plans.map((p) => ({ region: p.region, nonPurged: p.nonPurged, due: p.due.length })),
    due,
    dueSummary: summarizeDue(due),
    notDue,
    aside,
  };
  const approxBytes = (list: readonly { approxBytes?: number }[]) => list.reduce((n, d) => n + (d.approxBytes ?? 0), 0);

  if (!options.execute) {
    return {
      ok: true,
      dryRun: true,
      ...base,
      results: [],
      asideResults: [],
      summary: {
        due: due.length,
        purged: 0,
        skipped: 0,
        busy: 0,
        interrupted: 0,
        failed: 0,
        approxBytes: approxBytes(due),
        asideDue: aside.length,
        asideDropped: 0,
        asideFailed: 0,
      },
      durationMs: Math.round(performance.now() - started),
    };
  }
  if (brake.tripped && !options.allowMass) {
    const exceeded = brake.limits.filter((l) => l.exceeded);
    throw new BrakeRefusal(
      `the mass-deletion brake refused this purge: ${due.length} tenant(s) due; nothing was purged. If this many tenants really are gone, run again with --allow-mass; if not, find out why they were marked disconnected (fleet tenants list --json) before anything is deleted.`,
      exceeded.map((l) => l.message),
      due,
      base.dueSummary,
    );
  }

  const emit = options.onEvent ?? (() => undefined);
  emit({ type: 'start', tenants: due.length });
  const perRegion = await Promise.all(
    plans.map(async (plan) => {
      const region = regions.find((r) => r.name === plan.region) as RegionDatabase;
      const asideResults = await dropRegionAside(
        fleet,
        region,
        aside.filter((a) => a.region === region.name),
        now,
        options.signal,
      );
      return { asideResults, results: await purgeRegion(fleet, region, plan, now, emit, options.signal) };
    }),
  );
  const results = perRegion.flatMap((r) => r.results);
  const asideResults = perRegion.flatMap((r) => r.asideResults);
  const count = (status: PurgeResult['status']) => results.filter((r) => r.status === status).length;
  const summary = {
    due: due.length,
    purged: count('purged'),
    skipped: count('skipped'),
    busy: results.filter((r) => r.busy === true).length,
    interrupted: results.filter((r) => r.interrupted === true).length,
    failed: count('failed'),
    approxBytes: approxBytes(results.filter((r) => r.status === 'purged')),
    asideDue: aside.length,
    asideDropped: asideResults.filter((r) => r.status === 'dropped').length,
    asideFailed: asideResults.filter((r) => r.status === 'failed').length,
  };
  const asideUndone = asideResults.some((r) => r.busy === true || r.interrupted === true);
  return {
    ok: summary.failed === 0 && summary.busy === 0 && summary.interrupted === 0 && summary.asideFailed === 0 && !asideUndone,
    dryRun: false,
    ...base,
    results,
    asideResults,
    summary,
    durationMs: Math.round(performance.now() - started),
  };
}

async function purgeRegion(
  fleet: Fleet,
  region: RegionDatabase,
  plan: RegionPurgePlan,
  now: Date,
  emit: (event: PurgeEvent) => void,
  signal?: AbortSignal,
): Promise<PurgeResult[]> {
  const results: PurgeResult[] = [];
  for (const tenant of plan.due) {
    const started = performance.now();
    const base = { tenant: tenant.tenant, region: region.name, schema: tenant.schema };
    if (signal?.aborted) {
      const result: PurgeResult = {
        ...base,
        status: 'skipped',
        reason: 'not started: interrupted; run the purge again to finish',
        interrupted: true,
        durationMs: 0,
      };
      results.push(result);
      emit({ type: 'tenant', result });
      continue;
    }
    let result: PurgeResult;
    try {
      const outcome = await withClient(region.tenantPool, (client) => purgeTenant(fleet, client, tenant.tenant, now));
      const durationMs = Math.round(performance.now() - started);
      result =
        outcome.status === 'purged'
          ? { ...base, ...outcome, durationMs }
          : { ...base, status: 'skipped', reason: outcome.reason, ...(outcome.busy ? { busy: true } : {}), durationMs };
    } catch (error) {
      const { message, code } = error as { message?: string; code?: string };
      result = {
        ...base,
        status: 'failed',
        error: { message: message ?? String(error), ...(typeof code === 'string' ? { code } : {}) },
        durationMs: Math.round(performance.now() - started),
      };
    }
    results.push(result);
    emit({ type: 'tenant', result });
  }
  return results;
}

/**
 * Of these tenants, those on legal hold in any region: a tenant moved since a restore keeps its
 * aside schemas in the region it left, and its hold is in the region it lives in now.
 */
async function heldTenants(regions: readonly RegionDatabase[], ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await Promise.all(
    regions.map(async (region) =>
      (
        await region.query<{ id: string }>('SELECT id FROM fleet.tenants WHERE hold_reason IS NOT NULL AND id = ANY($1::text[])', [
          [...new Set(ids)],
        ])
      ).rows.map((r) => r.id),
    ),
  );
  return new Set(found.flat());
}

/** Drop a region's due aside schemas, one transaction each. */
async function dropRegionAside(
  fleet: Fleet,
  region: RegionDatabase,
  due: readonly DueAside[],
  now: Date,
  signal?: AbortSignal,
): Promise<AsidePurgeResult[]> {
  const results: AsidePurgeResult[] = [];
  for (const aside of due) {
    const started = performance.now();
    const base = { tenant: aside.tenant, region: region.name, schema: aside.schema };
    if (signal?.aborted) {
      results.push({
        ...base,
        status: 'skipped',
        reason: 'not started: interrupted; run the purge again to finish',
        interrupted: true,
        durationMs: 0,
      });
      continue;
    }
    try {
      const outcome = await withClient(region.tenantPool, (client) => purgeAsideSchema(fleet, client, aside.schema, now));
      results.push({ ...base, ...outcome, durationMs: Math.round(performance.now() - started) });
    } catch (error) {
      const { message, code } = error as { message?: string; code?: string };
      results.push({
        ...base,
        status: 'failed',
        error: { message: message ?? String(error), ...(typeof code === 'string' ? { code } : {}) },
        durationMs: Math.round(performance.now() - started),
      });
    }
  }
  return results;
}

/** Why each listed tenant is not due: the same rule as the plan (notDueReason), or unknown. */
async function whyNotDue(
  regions: readonly RegionDatabase[],
  ids: readonly string[],
  now: Date,
): Promise<{ tenant: string; reason: string }[]> {
  if (ids.length === 0) return [];
  const found = new Map<string, string>();
  for (const region of regions) {
    const { rows } = await region.query<{ id: string; status: string; purge_after: Date | null; hold_reason: string | null }>(
      'SELECT id, status, purge_after, hold_reason FROM fleet.tenants WHERE id = ANY($1::text[])',
      [ids],
    );
    for (const row of rows) found.set(row.id, `region ${region.name}: ${notDueReason(row, now) ?? 'due'}`);
  }
  return ids.map((tenant) => ({ tenant, reason: found.get(tenant) ?? `no such tenant in ${regions.map((r) => r.name).join(', ')}` }));
}
