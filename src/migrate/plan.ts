import type pg from 'pg';
import type { RegionDatabase } from '../db/region-database.ts';
import type { MigrationFile, MigrationPhase } from './migration-files.ts';
import { FleetError } from '../errors.ts';
import type { TenantStatus } from '../tenants/tenant-row.ts';

/** A tenant as the plan query sees it. */
export interface TenantState {
  readonly id: string;
  readonly region: string;
  readonly schema: string;
  readonly status: TenantStatus;
  /** Names of applied migrations, sorted. */
  readonly applied: readonly string[];
}

export interface RegionState {
  readonly region: string;
  readonly tenants: readonly TenantState[];
  /** Every checksum the ledger holds for each migration name. */
  readonly checksums: ReadonlyMap<string, readonly string[]>;
}

/**
 * Registry and ledger of one region in a single query, so a run with nothing pending costs one
 * query per region however many tenants there are. Purged tenants are left out: they have no schema.
 * The checksums come from a hashed DISTINCT, a handful of rows: aggregating them with
 * array_agg(DISTINCT) sorted every ledger row (on disk past work_mem; 72 against 37 ms for the
 * whole query over 10,000 tenants on PostgreSQL 15). Each tenant's applied migrations come as a
 * JSON array, which V8's JSON.parse reads: pg's parser of text[] literals, with its garbage, took
 * 140 of the 490 ms of CPU of a nothing-pending `fleet migrate` over 10,000 tenants.
 */
const STATE_SQL = `
WITH per_tenant AS (
  SELECT tenant_id, json_agg(name ORDER BY name) AS applied FROM fleet.migrations GROUP BY tenant_id
), sums AS (
  SELECT name, array_agg(checksum) AS checksums FROM (SELECT DISTINCT name, checksum FROM fleet.migrations) AS d GROUP BY name
)
SELECT t.id, t.schema_name, t.status, coalesce(p.applied, '[]'::json) AS applied, NULL::text AS name, NULL::text[] AS checksums
  FROM fleet.tenants t LEFT JOIN per_tenant p ON p.tenant_id = t.id
 WHERE t.status <> 'purged'
UNION ALL
SELECT NULL, NULL, NULL, NULL, name, checksums FROM sums`;

interface StateRow {
  id: string | null;
  schema_name: string | null;
  status: TenantStatus | null;
  applied: string[] | null;
  name: string | null;
  checksums: string[] | null;
}

/** The region's registry and ledger; through `client` when given (to read inside its transaction), else the region's control connection. */
export async function readRegionState(region: RegionDatabase, client?: pg.ClientBase): Promise<RegionState> {
  const { rows } = client ? await client.query<StateRow>(STATE_SQL) : await region.query<StateRow>(STATE_SQL);
  const tenants: TenantState[] = [];
  const checksums = new Map<string, string[]>();
  for (const row of rows) {
    if (row.id !== null) {
      tenants.push({
        id: row.id,
        region: region.name,
        schema: row.schema_name as string,
        status: row.status as TenantStatus,
        applied: row.applied ?? [],
      });
    } else if (row.name !== null) {
      checksums.set(row.name, row.checksums ?? []);
    }
  }
  tenants.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { region: region.name, tenants, checksums };
}

/**
 * The ledger must agree with the files: an applied migration whose file is gone or whose content
 * changed stops the run before any tenant is touched, naming the file.
 */
export function checkLedgerAgainstFiles(
  states: readonly RegionState[],
  files: readonly MigrationFile[],
  migrationsDir: string,
  options: { allowChangedFiles?: boolean } = {},
): void {
  const byName = new Map(files.map((f) => [f.name, f]));
  const problems = new Set<string>();
  for (const state of states) {
    for (const [name, sums] of state.checksums) {
      const file = byName.get(name);
      if (!file) {
        problems.add(`${name}.sql is applied (region ${state.region}) but the file is gone from ${migrationsDir}; restore it`);
        continue;
      }
      if (!options.allowChangedFiles && sums.some((sum) => sum !== file.checksum)) {
        const holders = state.tenants.filter((t) => t.applied.includes(name)).map((t) => t.id);
        const before = files[files.indexOf(file) - 1]?.name ?? '0';
        problems.add(
          `${file.file} was changed after it was applied (region ${state.region}, tenant(s) ${holders.slice(0, 3).join(', ')}${holders.length > 3 ? ` and ${holders.length - 3} more` : ''}): checksum ${file.checksum.slice(0, 12)} differs from the ledger's ${sums.filter((s) => s !== file.checksum)[0]?.slice(0, 12)}. ` +
            `Either revert the edit and add a new migration instead, or keep the edit: revert it on each tenant that has it with the down SQL the ledger recorded at apply time (fleet rollback --tenant ID --to ${before}), then run fleet migrate to apply the edited file`,
        );
      }
    }
  }
  if (problems.size > 0) {
    throw new FleetError('LEDGER_MISMATCH', 'the ledger does not match the migration files; no tenant was touched:', [...problems]);
  }
}

/**
 * Migrations a tenant still needs, in order, up to and including `to` when given: the plan's
 * view, for choosing which tenants to start and for --dry-run. Under each tenant's lock Umzug
 * decides again from the ledger (tenant-migrator.ts). The plan does not ask Umzug because loading
 * it costs more than a whole run with nothing pending: `import('umzug')` took 440-640 ms in three
 * runs on the shared 2-core machine (its CLI dependencies load with it), against 0.65 s for
 * `fleet migrate` over 10,000 tenants with nothing pending, process start included (BENCHMARKS.md);
 * Umzug's pending() itself adds 13-80 ms per 2,500 tenants against about 1 ms for this filter.
 */
export function pendingFor(tenant: TenantState, files: readonly MigrationFile[], to?: string, phase?: MigrationPhase): MigrationFile[] {
  const applied = new Set(tenant.applied);
  const limit = to === undefined ? files.length : files.findIndex((f) => f.name === to) + 1;
  return cutAtPhase(
    files.slice(0, limit).filter((f) => !applied.has(f.name)),
    phase,
  );
}

/**
 * The pending migrations a phase runs. `pre-deploy`: every one before the first pending
 * post-deploy migration (which waits for the release, and so does everything after it: files
 * run in order). `post-deploy` (or none): all of them.
 */
export function cutAtPhase<T extends Pick<MigrationFile, 'phase'>>(pending: readonly T[], phase?: MigrationPhase): T[] {
  if (phase !== 'pre-deploy') return [...pending];
  const first = pending.findIndex((f) => f.phase === 'post-deploy');
  return first === -1 ? [...pending] : pending.slice(0, first);
}
