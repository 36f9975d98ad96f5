import type pg from 'pg';
import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { asideSchemaOf, type AsideRow as AsideRegistryRow, type AsideSchema } from '../tenants/aside.ts';
import { backupExpiry } from './backup-expiry.ts';

/** A tenant due for purge: disconnected, its purge date passed, no legal hold. */
export interface DueTenant {
  readonly tenant: string;
  readonly region: string;
  readonly schema: string;
  /** Tables in the schema now. */
  readonly tables: number;
  /** Approximate size: pg_total_relation_size (with indexes and TOAST) summed over the schema's tables. */
  readonly approxBytes: number;
  readonly disconnectedAt: string | null;
  readonly disconnectCause: string | null;
  readonly purgeAfter: string;
  /** When the last backup holding the tenant would expire if it were purged at `now`. */
  readonly backupExpiresAt: string;
  /** The tenant's aside schemas in this database (restores set them aside): the purge drops them with it. */
  readonly asideSchemas: readonly string[];
}

/** An aside schema whose drop date has passed and whose tenant is not on legal hold: the purge drops it, whatever the tenant's state. */
export interface DueAside extends AsideSchema {
  readonly tables: number;
  readonly approxBytes: number;
}

export interface RegionPurgePlan {
  readonly region: string;
  readonly nonPurged: number;
  readonly due: readonly DueTenant[];
  readonly aside: readonly DueAside[];
}

interface DueRow {
  id: string;
  schema_name: string;
  disconnected_at: Date | null;
  disconnect_cause: string | null;
  purge_after: Date;
  tables: number;
  bytes: string;
  aside: string[];
}

interface AsideRow extends AsideRegistryRow {
  tables: number;
  bytes: string;
}

/**
 * Why a tenant is not due at `now`, or null when it is: disconnected, its purge date passed, no
 * legal hold. The same rule as the listing's WHERE clause; the purge checks it again under the lock.
 */
export function notDueReason(row: { status: string; purge_after: Date | null; hold_reason: string | null }, now: Date): string | null {
  if (row.status === 'purged') return 'already purged';
  if (row.status !== 'disconnected') return `${row.status} (reinstalled or reconnected since the plan)`;
  if (row.hold_reason !== null) return `on legal hold: ${row.hold_reason}`;
  if (row.purge_after === null || row.purge_after.getTime() > now.getTime())
    return `not due until ${row.purge_after?.toISOString() ?? '?'}`;
  return null;
}

/** Tables and size of one schema; used for the listing and again for the tombstone. */
export const SCHEMA_SIZE_SQL = `
SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p'))::int AS tables,
       coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relkind IN ('r', 'm')), 0)::bigint AS bytes
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'm')`;

const SIZE_LATERAL = (schema: string) => `
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p'))::int AS tables,
           coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relkind IN ('r', 'm')), 0)::bigint AS bytes
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p', 'm')
  ) s`;

const DUE_SQL = `
SELECT t.id, t.schema_name, t.disconnected_at, t.disconnect_cause, t.purge_after, s.tables, s.bytes,
       array(SELECT a.schema_name FROM fleet.aside_schemas a WHERE a.tenant_id = t.id ORDER BY a.schema_name) AS aside
  FROM fleet.tenants t ${SIZE_LATERAL('t.schema_name')}
 WHERE t.status = 'disconnected' AND t.purge_after <= $1 AND t.hold_reason IS NULL
 ORDER BY t.purge_after, t.id`;

const DUE_ASIDE_SQL = `
SELECT a.schema_name, a.tenant_id, a.set_aside_at, a.drop_after, a.actor, s.tables, s.bytes
  FROM fleet.aside_schemas a ${SIZE_LATERAL('a.schema_name')}
 WHERE a.drop_after <= $1
   AND NOT EXISTS (SELECT 1 FROM fleet.tenants t WHERE t.id = a.tenant_id AND t.hold_reason IS NOT NULL)
 ORDER BY a.drop_after, a.schema_name`;

export async function schemaSize(client: pg.ClientBase, schema: string): Promise<{ tables: number; bytes: number }> {
  const { rows } = await client.query<{ tables: number; bytes: string }>(SCHEMA_SIZE_SQL, [schema]);
  return { tables: rows[0]?.tables ?? 0, bytes: Number(rows[0]?.bytes ?? 0) };
}

/**
 * One region's due tenants (oldest purge date first), its count of tenants not purged, and its
 * aside schemas past their drop date: three reads, no writes.
 */
export async function planRegionPurge(fleet: Fleet, region: RegionDatabase, now: Date): Promise<RegionPurgePlan> {
  const [due, count, aside] = await Promise.all([
    region.query<DueRow>(DUE_SQL, [now]),
    region.query<{ n: number }>(`SELECT count(*)::int AS n FROM fleet.tenants WHERE status <> 'purged'`),
    region.query<AsideRow>(DUE_ASIDE_SQL, [now]),
  ]);
  const expires = backupExpiry(fleet.config, now).toISOString();
  return {
    region: region.name,
    nonPurged: count.rows[0]?.n ?? 0,
    due: due.rows.map((r) => ({
      tenant: r.id,
      region: region.name,
      schema: r.schema_name,
      tables: r.tables,
      approxBytes: Number(r.bytes),
      disconnectedAt: r.disconnected_at?.toISOString() ?? null,
      disconnectCause: r.disconnect_cause,
      purgeAfter: r.purge_after.toISOString(),
      backupExpiresAt: expires,
      asideSchemas: r.aside,
    })),
    aside: aside.rows.map((r) => ({ ...asideSchemaOf(region.name, r), tables: r.tables, approxBytes: Number(r.bytes) })),
  };
}
