import type { Fleet } from '../fleet.ts';

export interface TenantRecord {
  readonly id: string;
  readonly region: string;
  readonly schema: string;
  readonly status: string;
  readonly createdAt: string;
  readonly lastContactAt: string | null;
  readonly purgeAfter: string | null;
  readonly holdReason: string | null;
}

interface Row {
  id: string;
  schema_name: string;
  status: string;
  created_at: Date;
  last_contact_at: Date | null;
  purge_after: Date | null;
  hold_reason: string | null;
}

/** Every registered tenant of every region (purged ones too: their tombstone is part of the record). */
export async function listTenants(fleet: Fleet): Promise<TenantRecord[]> {
  const perRegion = await Promise.all(
    fleet.regions.map(async (region) => {
      const { rows } = await region.query<Row>(
        'SELECT id, schema_name, status, created_at, last_contact_at, purge_after, hold_reason FROM fleet.tenants ORDER BY id',
      );
      return rows.map((row) => ({
        id: row.id,
        region: region.name,
        schema: row.schema_name,
        status: row.status,
        createdAt: row.created_at.toISOString(),
        lastContactAt: row.last_contact_at?.toISOString() ?? null,
        purgeAfter: row.purge_after?.toISOString() ?? null,
        holdReason: row.hold_reason,
      }));
    }),
  );
  return perRegion.flat();
}
