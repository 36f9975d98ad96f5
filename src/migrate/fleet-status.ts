import type { Fleet } from '../fleet.ts';
import { listAsideSchemas, type AsideSchema } from '../tenants/aside.ts';
import { loadFleetPlan } from './load-plan.ts';
import { pendingFor } from './plan.ts';

export interface TenantStatusRow {
  readonly id: string;
  readonly region: string;
  readonly schema: string;
  readonly status: string;
  readonly lastApplied: string | null;
  readonly pending: number;
  /** Pending per phase: what `fleet migrate --phase pre-deploy` would apply, and what waits for the deploy. */
  readonly pendingByPhase: { readonly preDeploy: number; readonly postDeploy: number };
}

export interface RegionVersionSummary {
  readonly region: string;
  readonly database: string;
  readonly tenants: number;
  /** Tenants per last applied migration ("(none)" for a tenant with none). */
  readonly versions: Readonly<Record<string, number>>;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly pendingTenants: number;
  /** Tenants with something to apply before the deploy, and tenants with something only after it. */
  readonly pendingByPhase: { readonly preDeploy: number; readonly postDeploy: number };
  /** Schemas set aside by restores that replaced a tenant, not yet dropped. */
  readonly aside: number;
}

/** A schema a restore set aside; `due` once its drop date has passed (the next purge drops it). */
export interface AsideStatusRow extends AsideSchema {
  readonly due: boolean;
}

export interface FleetStatus {
  readonly latest: string | null;
  readonly regions: readonly RegionVersionSummary[];
  readonly tenants: readonly TenantStatusRow[];
  /** Every region's aside schemas, oldest drop date first. */
  readonly aside: readonly AsideStatusRow[];
}

/**
 * Where every tenant stands, from the same single query per region the runner plans with, and the
 * schemas restores set aside (one more query per region).
 */
export async function fleetStatus(fleet: Fleet): Promise<FleetStatus> {
  const plan = await loadFleetPlan(fleet);
  const now = fleet.clock.now().getTime();
  const asideByRegion = await Promise.all(plan.states.map(({ region }) => listAsideSchemas(region)));
  const order = new Map(plan.files.map((f, i) => [f.name, i]));
  const tenants: TenantStatusRow[] = [];
  const regions: RegionVersionSummary[] = [];
  for (const [i, { region, state }] of plan.states.entries()) {
    const versions: Record<string, number> = {};
    const byStatus: Record<string, number> = {};
    let pendingTenants = 0;
    const phaseTenants = { preDeploy: 0, postDeploy: 0 };
    for (const tenant of state.tenants) {
      // The newest in version order: the ledger's names sort as text, where 10_x < 9_x.
      const lastApplied = latestApplied(tenant.applied, order);
      const pending = pendingFor(tenant, plan.files).length;
      const preDeploy = pendingFor(tenant, plan.files, undefined, 'pre-deploy').length;
      const pendingByPhase = { preDeploy, postDeploy: pending - preDeploy };
      if (preDeploy > 0) phaseTenants.preDeploy += 1;
      if (pending - preDeploy > 0) phaseTenants.postDeploy += 1;
      tenants.push({
        id: tenant.id,
        region: region.name,
        schema: tenant.schema,
        status: tenant.status,
        lastApplied,
        pending,
        pendingByPhase,
      });
      const key = lastApplied ?? '(none)';
      versions[key] = (versions[key] ?? 0) + 1;
      byStatus[tenant.status] = (byStatus[tenant.status] ?? 0) + 1;
      if (pending > 0) pendingTenants += 1;
    }
    regions.push({
      region: region.name,
      database: region.description,
      tenants: state.tenants.length,
      versions,
      byStatus,
      pendingTenants,
      pendingByPhase: phaseTenants,
      aside: asideByRegion[i]?.length ?? 0,
    });
  }
  const aside = asideByRegion
    .flat()
    .map((a) => ({ ...a, due: Date.parse(a.dropAfter) <= now }))
    .sort((a, b) => (a.dropAfter < b.dropAfter ? -1 : a.dropAfter > b.dropAfter ? 1 : a.schema < b.schema ? -1 : 1));
  return { latest: plan.files.at(-1)?.name ?? null, regions, tenants, aside };
}

function latestApplied(applied: readonly string[], order: ReadonlyMap<string, number>): string | null {
  let best: string | null = null;
  for (const name of applied) if (best === null || (order.get(name) ?? -1) > (order.get(best) ?? -1)) best = name;
  return best;
}
