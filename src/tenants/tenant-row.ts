import type pg from 'pg';
import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { assertTenantId } from './ids.ts';

/** A tenant's place in its lifecycle: the status column of fleet.tenants. */
/** Every status a registry row can have; `moving` and `restoring` while a tenant copy runs. */
export const TENANT_STATUSES = ['provisioning', 'active', 'disconnected', 'purged', 'moving', 'restoring'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];
export type DisconnectCause = 'uninstalled' | 'stale';

/** A tenant's registry row as the lifecycle reads it. */
export interface TenantRow {
  readonly id: string;
  readonly schema_name: string;
  readonly region: string;
  readonly status: TenantStatus;
  readonly created_at: Date;
  readonly updated_at: Date;
  readonly last_contact_at: Date | null;
  readonly disconnected_at: Date | null;
  readonly disconnect_cause: DisconnectCause | null;
  readonly purge_after: Date | null;
  readonly hold_reason: string | null;
  readonly held_at: Date | null;
  readonly held_by: string | null;
  readonly purged_at: Date | null;
}

export const TENANT_COLUMNS =
  'id, schema_name, region, status, created_at, updated_at, last_contact_at, disconnected_at, disconnect_cause, purge_after, hold_reason, held_at, held_by, purged_at';

export interface LocatedTenant {
  readonly region: RegionDatabase;
  readonly row: TenantRow;
}

/** The region whose registry has the tenant, or undefined: one query per region, in parallel. */
export async function regionOfTenant(regions: readonly RegionDatabase[], id: string): Promise<RegionDatabase | undefined> {
  const hits = await Promise.all(
    regions.map(async (region) => ((await region.query('SELECT 1 FROM fleet.tenants WHERE id = $1', [id])).rowCount ?? 0) > 0),
  );
  return regions.find((_, i) => hits[i]);
}

/** The tenant's row and the region whose database holds it, or undefined when no region knows the id. */
export async function findTenant(fleet: Fleet, id: string): Promise<LocatedTenant | undefined> {
  assertTenantId(id);
  const found = await Promise.all(
    fleet.regions.map(async (region) => {
      const { rows } = await region.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM fleet.tenants WHERE id = $1`, [id]);
      return rows[0] ? { region, row: rows[0] } : undefined;
    }),
  );
  return found.find((f): f is LocatedTenant => f !== undefined);
}

/** As findTenant, but an unknown id is bad input: refused before anything changes. */
export async function requireTenant(fleet: Fleet, id: string): Promise<LocatedTenant> {
  const located = await findTenant(fleet, id);
  if (!located) {
    throw new FleetError(
      'INPUT_INVALID',
      `tenant ${JSON.stringify(id)} is not registered in any region of this fleet (${fleet.regions.map((r) => r.name).join(', ')}); check the id with \`fleet tenants list\``,
    );
  }
  return located;
}

/**
 * Run fn in one transaction holding the tenant's row lock (SELECT ... FOR UPDATE), so a transition
 * and a purge of the same tenant never interleave: whichever commits first wins and the other
 * sees its result. fn gets the row as it is under the lock.
 */
export async function withLockedTenant<T>(
  region: RegionDatabase,
  id: string,
  fn: (client: pg.PoolClient, row: TenantRow) => Promise<T>,
): Promise<T> {
  return withClient(region.controlPool, (client) =>
    withTransaction(client, async () => {
      const { rows } = await client.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM fleet.tenants WHERE id = $1 FOR UPDATE`, [id]);
      const row = rows[0];
      if (!row) throw new FleetError('INPUT_INVALID', `tenant ${JSON.stringify(id)} is no longer registered in region ${region.name}`);
      return fn(client, row);
    }),
  );
}

export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** Back to active from disconnected: the purge date and the disconnect cause are cleared. */
export async function markReactivated(client: pg.ClientBase, id: string, now: Date): Promise<void> {
  await client.query(
    `UPDATE fleet.tenants SET status = 'active', disconnected_at = NULL, disconnect_cause = NULL, purge_after = NULL, last_contact_at = $2, updated_at = $2 WHERE id = $1`,
    [id, now],
  );
}
