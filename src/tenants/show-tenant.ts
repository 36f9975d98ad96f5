import type { Fleet } from '../fleet.ts';
import { FleetError } from '../errors.ts';
import { queryAudit, type AuditRecord } from '../audit-query.ts';
import { assertTenantId } from './ids.ts';

/** Everything an on-call engineer asks about one tenant, from its region's control schema. */
export interface TenantDetails {
  readonly id: string;
  readonly region: string;
  readonly schema: string;
  readonly status: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastContactAt: string | null;
  readonly disconnectedAt: string | null;
  readonly disconnectCause: string | null;
  readonly purgeAfter: string | null;
  readonly purgedAt: string | null;
  readonly hold: { readonly reason: string; readonly at: string | null; readonly by: string | null } | null;
  /** The ledger: each migration applied to its schema, oldest first. */
  readonly migrations: readonly {
    readonly name: string;
    readonly appliedAt: string;
    readonly durationMs: number;
    readonly checksum: string;
  }[];
  /** Its audit events, newest first (at most `auditLimit`). */
  readonly audit: readonly AuditRecord[];
}

interface Row {
  id: string;
  schema_name: string;
  status: string;
  created_at: Date;
  updated_at: Date;
  last_contact_at: Date | null;
  disconnected_at: Date | null;
  disconnect_cause: string | null;
  purge_after: Date | null;
  purged_at: Date | null;
  hold_reason: string | null;
  held_at: Date | null;
  held_by: string | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** One tenant in full; TENANT_NOT_FOUND (naming the regions searched) when no region has it. */
export async function showTenant(fleet: Fleet, id: string, options: { auditLimit?: number } = {}): Promise<TenantDetails> {
  assertTenantId(id);
  for (const region of fleet.regions) {
    const { rows } = await region.query<Row>(
      `SELECT id, schema_name, status, created_at, updated_at, last_contact_at, disconnected_at, disconnect_cause, purge_after, purged_at, hold_reason, held_at, held_by
         FROM fleet.tenants WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) continue;
    const ledger = await region.query<{ name: string; applied_at: Date; duration_ms: number; checksum: string }>(
      'SELECT name, applied_at, duration_ms, checksum FROM fleet.migrations WHERE tenant_id = $1 ORDER BY name',
      [id],
    );
    const audit = (await queryAudit(fleet, { tenant: id, limit: options.auditLimit ?? 50 })).filter((e) => e.region === region.name);
    return {
      id: row.id,
      region: region.name,
      schema: row.schema_name,
      status: row.status,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      lastContactAt: iso(row.last_contact_at),
      disconnectedAt: iso(row.disconnected_at),
      disconnectCause: row.disconnect_cause,
      purgeAfter: iso(row.purge_after),
      purgedAt: iso(row.purged_at),
      hold: row.hold_reason === null ? null : { reason: row.hold_reason, at: iso(row.held_at), by: row.held_by },
      migrations: ledger.rows.map((m) => ({
        name: m.name,
        appliedAt: m.applied_at.toISOString(),
        durationMs: m.duration_ms,
        checksum: m.checksum,
      })),
      audit,
    };
  }
  throw new FleetError(
    'INPUT_INVALID',
    `tenant ${JSON.stringify(id)} is not registered in ${fleet.regions.map((r) => r.name).join(', ')}: check the id (fleet tenants list), or the region's database (FLEET_DATABASE_URL)`,
  );
}
