import type { Fleet } from '../fleet.ts';
import { loadFleetPlan } from './load-plan.ts';
import { pendingFor } from './plan.ts';

export interface TenantStatusRow {
  readonly id: string;
  readonly region: string;
  readonly schema: string;
  readonly status: string;
  readonly lastApplied: string | null;
  readonly pending: number;
}

export interface RegionVersionSummary {
  readonly region: string;
  readonly database: string;
  readonly tenants: number;
  /** Tenants per last applied migration ("(none)" for a tenant with none). */
  readonly versions: Readonly<Record<string, number>>;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly pendingTenants: number;
}

export interface FleetStatus {
  readonly latest: string | null;
  readonly regions: readonly RegionVersionSummary[];
  readonly tenants: readonly TenantStatusRow[];
}

/** Where every tenant stands, from the same single query per region the runner plans with. */
export async function fleetStatus(fleet: Fleet): Promise<FleetStatus> {
  const plan = await loadFleetPlan(fleet);
  const tenants: TenantStatusRow[] = [];
  const regions: RegionVersionSummary[] = [];
  for (const { region, state } of plan.states) {
    const versions: Record<string, number> = {};
    const byStatus: Record<string, number> = {};
    let pendingTenants = 0;
    for (const tenant of state.tenants) {
      const lastApplied = tenant.applied.at(-1) ?? null;
      const pending = pendingFor(tenant, plan.files).length;
      tenants.push({ id: tenant.id, region: region.name, schema: tenant.schema, status: tenant.status, lastApplied, pending });
      const key = lastApplied ?? '(none)';
      versions[key] = (versions[key] ?? 0) + 1;
      byStatus[tenant.status] = (byStatus[tenant.status] ?? 0) + 1;
      if (pending > 0) pendingTenants += 1;
    }
    regions.push({ region: region.name, database: region.description, tenants: state.tenants.length, versions, byStatus, pendingTenants });
  }
  return { latest: plan.files.at(-1)?.name ?? null, regions, tenants };
}
