import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { FleetError } from '../errors.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { recordAuditMany } from '../audit.ts';
import { migrateFleet, type MigrateReport } from '../migrate/migrate-fleet.ts';
import type { RunEvent } from '../migrate/run-fleet.ts';
import { preloadMigrator } from '../migrate/tenant-migrator.ts';
import { assertTenantIds, findSchemaCollisions, schemaNameFor } from '../tenants/ids.ts';
import { prepareTenantSchema } from './prepare-schema.ts';
import { createSessionLogins } from '../access/tenant-role.ts';

export interface AddTenantsOptions {
  readonly region?: string;
  readonly concurrency?: number;
  readonly onEvent?: (event: RunEvent) => void;
  readonly signal?: AbortSignal;
}

export interface AlreadyRegistered {
  readonly id: string;
  readonly region: string;
  readonly status: string;
}

export interface AddTenantsReport {
  readonly region: string;
  /** Newly registered in this run. */
  readonly registered: readonly string[];
  /** Registered before, provisioning interrupted: completed now. */
  readonly resumed: readonly string[];
  readonly alreadyRegistered: readonly AlreadyRegistered[];
  readonly migrate: MigrateReport;
}

/** The region new tenants go to: the one named, or the only one. */
export function chooseRegion(fleet: Fleet, name?: string): RegionDatabase {
  if (name !== undefined) return fleet.region(name);
  if (fleet.regions.length === 1) return fleet.regions[0] as RegionDatabase;
  throw FleetError.forOption(
    'INPUT_INVALID',
    'region',
    (o) => `this fleet has ${fleet.regions.length} regions (${fleet.regions.map((r) => r.name).join(', ')}): name one with ${o}`,
  );
}

interface ExistingRow {
  id: string;
  schema_name: string;
  status: string;
  region: string;
}

/**
 * Register tenants, create their schemas and migrate them to latest, in parallel like `migrate`.
 * Every id is checked first (format, schema collisions within the list and with registered
 * tenants of any region); a bad one and nothing is changed. Rerunning an interrupted bulk add
 * completes it: registered tenants still provisioning are finished, active ones are reported.
 */
export async function addTenants(fleet: Fleet, rawIds: readonly string[], options: AddTenantsOptions = {}): Promise<AddTenantsReport> {
  const ids = [...new Set(rawIds)];
  if (ids.length === 0) throw new FleetError('INPUT_INVALID', 'no tenant ids given: pass at least one id');
  assertTenantIds(ids);
  const collisions = findSchemaCollisions(ids);
  if (collisions.length > 0) {
    throw new FleetError(
      'INPUT_INVALID',
      'these ids would share one schema (each "-" becomes "_"); nothing was changed:',
      collisions.map(([a, b]) => `${a} and ${b} → ${schemaNameFor(a)}`),
    );
  }
  const region = chooseRegion(fleet, options.region);
  const schemas = ids.map(schemaNameFor);

  const existing = (
    await Promise.all(
      fleet.regions.map(async (r) =>
        (
          await r.query<ExistingRow>(
            'SELECT id, schema_name, status, region FROM fleet.tenants WHERE id = ANY($1) OR schema_name = ANY($2)',
            [ids, schemas],
          )
        ).rows.map((row) => ({ ...row, db: r })),
      ),
    )
  ).flat();
  const wanted = new Set(ids);
  const existingIds = new Set(existing.filter((row) => wanted.has(row.id)).map((row) => row.id));
  // A registered tenant of this region whose schema one of our new ids would take.
  const schemaOwners = new Map(existing.filter((row) => row.db === region && !wanted.has(row.id)).map((row) => [row.schema_name, row.id]));
  const clashes = ids.filter((id) => !existingIds.has(id) && schemaOwners.has(schemaNameFor(id)));
  if (clashes.length > 0) {
    throw new FleetError(
      'INPUT_INVALID',
      'these ids map to the schema of a registered tenant; nothing was changed:',
      clashes.map((id) => `${id} → ${schemaNameFor(id)}, already used by ${schemaOwners.get(schemaNameFor(id))}`),
    );
  }

  const alreadyRegistered: AlreadyRegistered[] = [];
  const resumed: string[] = [];
  for (const row of existing) {
    if (!wanted.has(row.id)) continue;
    if (row.db === region && row.status === 'provisioning') resumed.push(row.id);
    else alreadyRegistered.push({ id: row.id, region: row.db.name, status: row.status });
  }
  alreadyRegistered.sort((a, b) => (a.id < b.id ? -1 : 1));
  const fresh = ids.filter((id) => !existingIds.has(id));
  if (fresh.length > 0 || resumed.length > 0) preloadMigrator();
  const now = fleet.clock.now();
  let registered: string[] = [];
  if (fresh.length > 0) {
    registered = await withClient(region.controlPool, (client) =>
      withTransaction(client, async () => {
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO fleet.tenants (id, schema_name, region, status, created_at, updated_at)
           SELECT id, schema_name, $3, 'provisioning', $4, $4 FROM unnest($1::text[], $2::text[]) AS u(id, schema_name)
           ON CONFLICT DO NOTHING RETURNING id`,
          [fresh, fresh.map(schemaNameFor), region.name, now],
        );
        const ids = inserted.rows.map((r) => r.id);
        await recordAuditMany(
          client,
          ids.map((id) => ({
            at: now,
            tenantId: id,
            action: 'registered',
            fromState: null,
            toState: 'provisioning',
            actor: fleet.actor,
            details: { region: region.name },
          })),
        );
        return ids;
      }),
    );
  }
  // A concurrent add may have registered some of ours first: those are its to finish, and ours too
  // if it was interrupted; migrating them again is safe under the per-tenant lock.
  const toProvision = [...new Set([...fresh, ...resumed])];
  // The session logins first, many per transaction: their CONNECT grants rewrite the database's
  // ACL once per chunk instead of once per tenant (createSessionLogins).
  await withClient(region.controlPool, (client) =>
    createSessionLogins(
      client,
      toProvision.map((id) => ({ id, schema: schemaNameFor(id) })),
    ),
  );
  const migrate = await migrateFleet(fleet, {
    tenants: toProvision,
    prepare: prepareTenantSchema,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { region: region.name, registered, resumed, alreadyRegistered, migrate };
}
