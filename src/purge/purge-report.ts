import type { Fleet } from '../fleet.ts';
import { FleetError } from '../errors.ts';

/** One purge, as an auditor reads it. */
export interface PurgeRecord {
  readonly tenant: string;
  readonly region: string;
  readonly schema: string;
  readonly disconnectedAt: string | null;
  /** What disconnected it: an uninstall event, or silence found by a sweep. */
  readonly disconnectCause: string | null;
  readonly purgeAfter: string;
  readonly purgedAt: string;
  readonly backupExpiresAt: string;
  /** True when the last backup holding the tenant has expired (as of the report's time). */
  readonly backupsExpired: boolean;
  readonly tables: number;
  readonly approxBytes: number;
  /** Who ran the purge. */
  readonly actor: string;
  /** The tenant's status now: `purged`, or `active` etc. when it was installed again later as a fresh tenant. */
  readonly currentStatus: string | null;
  /** The schema is gone from the database now (false only for a tenant installed again since). */
  readonly schemaGone: boolean;
}

export interface PurgeReportOptions {
  /** Only purges at or after this time. */
  readonly since?: Date;
  readonly regions?: readonly string[];
}

export interface PurgeEvidence {
  readonly generatedAt: string;
  readonly since: string | null;
  readonly purges: readonly PurgeRecord[];
  readonly summary: { readonly purges: number; readonly tenants: number; readonly backupsStillHolding: number };
}

interface Row {
  tenant_id: string;
  region: string;
  schema_name: string;
  disconnected_at: Date | null;
  disconnect_cause: string | null;
  purge_after: Date;
  purged_at: Date;
  backup_expires_at: Date;
  tables: number;
  approx_bytes: string;
  actor: string;
  current_status: string | null;
  schema_exists: boolean;
}

/**
 * Evidence for an auditor: every purge (from the tombstones, which are never deleted) with its
 * dates, what disconnected the tenant, who purged it, when the last backup holding it expires,
 * and a check against the database as it is now that the schema is gone.
 */
export async function purgeEvidence(fleet: Fleet, options: PurgeReportOptions = {}): Promise<PurgeEvidence> {
  if (options.since && Number.isNaN(options.since.getTime()))
    throw FleetError.forOption('INPUT_INVALID', 'since', (o) => `${o} is not a valid date: pass an ISO date such as 2026-01-01`);
  const now = fleet.clock.now();
  const regions = options.regions && options.regions.length > 0 ? options.regions.map((r) => fleet.region(r)) : fleet.regions;
  const perRegion = await Promise.all(
    regions.map(async (region) => {
      const { rows } = await region.query<Row>(
        `SELECT b.tenant_id, b.region, b.schema_name, b.disconnected_at, b.disconnect_cause, b.purge_after, b.purged_at, b.backup_expires_at,
                b.tables, b.approx_bytes, b.actor, t.status AS current_status,
                EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = b.schema_name) AS schema_exists
           FROM fleet.tombstones b LEFT JOIN fleet.tenants t ON t.id = b.tenant_id
          WHERE $1::timestamptz IS NULL OR b.purged_at >= $1
          ORDER BY b.purged_at, b.tenant_id`,
        [options.since ?? null],
      );
      return rows.map((r): PurgeRecord => ({
        tenant: r.tenant_id,
        region: r.region,
        schema: r.schema_name,
        disconnectedAt: r.disconnected_at?.toISOString() ?? null,
        disconnectCause: r.disconnect_cause,
        purgeAfter: r.purge_after.toISOString(),
        purgedAt: r.purged_at.toISOString(),
        backupExpiresAt: r.backup_expires_at.toISOString(),
        backupsExpired: r.backup_expires_at.getTime() <= now.getTime(),
        tables: r.tables,
        approxBytes: Number(r.approx_bytes),
        actor: r.actor,
        currentStatus: r.current_status,
        schemaGone: !r.schema_exists,
      }));
    }),
  );
  const purges = perRegion
    .flat()
    .sort((a, b) => (a.purgedAt < b.purgedAt ? -1 : a.purgedAt > b.purgedAt ? 1 : a.tenant < b.tenant ? -1 : 1));
  return {
    generatedAt: now.toISOString(),
    since: options.since?.toISOString() ?? null,
    purges,
    summary: {
      purges: purges.length,
      tenants: new Set(purges.map((p) => `${p.region}/${p.tenant}`)).size,
      backupsStillHolding: purges.filter((p) => !p.backupsExpired).length,
    },
  };
}
