import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { FleetError } from '../errors.ts';
import { readMigrationFiles, type MigrationFile } from './migration-files.ts';
import { checkExtensions } from './file-checks.ts';
import { checkLedgerAgainstFiles, readRegionState, type RegionState } from './plan.ts';
import type { WorkItem } from './run-fleet.ts';

export interface FleetPlan {
  readonly files: readonly MigrationFile[];
  readonly states: readonly { readonly region: RegionDatabase; readonly state: RegionState }[];
}

/**
 * Everything checked before anything changes: the files (names, duplicate versions, directives,
 * extensions the fleet does not install), every region's registry and ledger (one query each),
 * and the ledger against the files (`allowChangedFiles`: a rollback, which reverts an edited file
 * with the down SQL the ledger recorded).
 */
export async function loadFleetPlan(fleet: Fleet, options: { allowChangedFiles?: boolean } = {}): Promise<FleetPlan> {
  const files = readMigrationFiles(fleet.migrationsDir);
  checkExtensions(files, fleet.config.extensions);
  const states = await Promise.all(fleet.regions.map(async (region) => ({ region, state: await readRegionState(region) })));
  checkLedgerAgainstFiles(
    states.map((s) => s.state),
    files,
    fleet.migrationsDir,
    options,
  );
  return { files, states };
}

export function assertMigrationName(files: readonly MigrationFile[], name: string, option = 'to'): void {
  if (files.some((f) => f.name === name)) return;
  throw FleetError.forOption(
    'INPUT_INVALID',
    option,
    (o) => `${o} ${JSON.stringify(name)} is not a migration; known: ${files.map((f) => f.name).join(', ')}`,
  );
}

/** All tenants of the plan as work items, in a stable order (region order, then id). */
export function workItems(plan: FleetPlan, tenantIds?: readonly string[]): WorkItem[] {
  const items = plan.states.flatMap(({ region, state }) => state.tenants.map((tenant) => ({ region, tenant })));
  if (!tenantIds || tenantIds.length === 0) return items;
  const wanted = new Set(tenantIds);
  const found = items.filter((i) => wanted.has(i.tenant.id));
  const foundIds = new Set(found.map((i) => i.tenant.id));
  const missing = [...wanted].filter((id) => !foundIds.has(id));
  if (missing.length > 0) {
    throw new FleetError(
      'INPUT_INVALID',
      `not registered in the selected regions: ${missing.map((m) => JSON.stringify(m)).join(', ')}; see \`fleet tenants list\``,
    );
  }
  return found;
}
