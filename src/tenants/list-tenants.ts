import type { Fleet } from '../fleet.ts';
import { FleetError } from '../errors.ts';
import { TENANT_STATUSES } from './tenant-row.ts';

export interface TenantRecord {
  readonly id: string;
  readonly region: string;
  readonly schema: string;
  readonly status: string;
  readonly createdAt: string;
  readonly lastContactAt: string | null;
  readonly disconnectedAt: string | null;
  /** `uninstalled` (an uninstall event) or `stale` (the sweep: no contact), when disconnected or purged. */
  readonly disconnectCause: string | null;
  readonly purgeAfter: string | null;
  readonly holdReason: string | null;
}

export interface ListTenantsOptions {
  /** Only tenants in these states. */
  readonly status?: readonly string[];
}

const STATUSES: readonly string[] = TENANT_STATUSES;

interface Row {
  id: string;
  schema_name: string;
  status: string;
  created_at: Date;
  last_contact_at: Date | null;
  disconnected_at: Date | null;
  disconnect_cause: string | null;
  purge_after: Date | null;
  hold_reason: string | null;
}

/** Every registered tenant of every region (purged ones too: their tombstone is part of the record). */
export async function listTenants(fleet: Fleet, options: ListTenantsOptions = {}): Promise<TenantRecord[]> {
  const unknown = (options.status ?? []).filter((s) => !STATUSES.includes(s));
  if (unknown.length > 0) {
    throw FleetError.forOption(
      'INPUT_INVALID',
      'status',
      (o) => `${o} ${unknown.map((s) => JSON.stringify(s)).join(', ')} is not a tenant status: one of ${STATUSES.join(', ')}`,
    );
  }
  const status = options.status && options.status.length > 0 ? [...options.status] : null;
  const perRegion = await Promise.all(
    fleet.regions.map(async (region) => {
      const { rows } = await region.query<Row>(
        `SELECT id, schema_name, status, created_at, last_contact_at, disconnected_at, disconnect_cause, purge_after, hold_reason
           FROM fleet.tenants WHERE ($1::text[] IS NULL OR status = ANY($1::text[])) ORDER BY id`,
        [status],
      );
      return rows.map((row) => ({
        id: row.id,
        region: region.name,
        schema: row.schema_name,
        status: row.status,
        createdAt: row.created_at.toISOString(),
        lastContactAt: row.last_contact_at?.toISOString() ?? null,
        disconnectedAt: row.disconnected_at?.toISOString() ?? null,
        disconnectCause: row.disconnect_cause,
        purgeAfter: row.purge_after?.toISOString() ?? null,
        holdReason: row.hold_reason,
      }));
    }),
  );
  return perRegion.flat();
}
