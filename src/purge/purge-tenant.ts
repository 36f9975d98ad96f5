import type pg from 'pg';
import type { Fleet } from '../fleet.ts';
import { recordAudit } from '../audit.ts';
import { quoteIdent } from '../db/quote.ts';
import { withTransaction } from '../db/scoped.ts';
import { SQLSTATE, sqlStateOf } from '../db/sqlstate.ts';
import { setLocalTimeouts } from '../db/timeouts.ts';
import { lockTenantForTransaction } from '../tenants/tenant-lock.ts';
import { dropTenantAsideSchemas } from '../tenants/aside.ts';
import { dropTenantRole } from '../access/tenant-role.ts';
import { TENANT_COLUMNS, type TenantRow } from '../tenants/tenant-row.ts';
import { backupExpiry } from './backup-expiry.ts';
import { notDueReason, schemaSize } from './plan.ts';

export type PurgeTenantOutcome =
  | {
      readonly status: 'purged';
      readonly schema: string;
      readonly tables: number;
      readonly approxBytes: number;
      readonly purgedAt: string;
      readonly backupExpiresAt: string;
      /** The tenant's aside schemas (restores set them aside), dropped with it. */
      readonly asideDropped: readonly string[];
    }
  | { readonly status: 'skipped'; readonly reason: string; readonly busy?: boolean };

/**
 * Purge one tenant, all in one transaction on `client`: lock the tenant's lease row (refused
 * while a migrating runner holds the lease, so a migration and a purge never overlap), lock its row and check again
 * that it is due (a reinstall or a hold that committed first wins), drop its schema, the schemas restores set aside for it, and its roles (whatever they own, large objects included: nothing is reassigned),
 * delete its ledger rows, mark it purged, write the tombstone and the audit event, commit.
 * Killed anywhere before COMMIT, nothing happened; after it, everything did: a rerun finds the
 * tenant purged, or still due, and finishes.
 */
export async function purgeTenant(fleet: Fleet, client: pg.ClientBase, tenantId: string, now: Date): Promise<PurgeTenantOutcome> {
  const { lockTimeoutMs, statementTimeoutMs } = fleet.config.runner;
  try {
    return await withTransaction(client, async (): Promise<PurgeTenantOutcome> => {
      await setLocalTimeouts(client, { lockTimeoutMs, statementTimeoutMs });
      await lockTenantForTransaction(client, tenantId);
      const { rows } = await client.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM fleet.tenants WHERE id = $1 FOR UPDATE`, [tenantId]);
      const row = rows[0];
      if (!row) return { status: 'skipped', reason: 'no longer registered' };
      const notDue = notDueReason(row, now);
      if (notDue) return { status: 'skipped', reason: notDue };

      const size = await schemaSize(client, row.schema_name);
      const purgedAt = fleet.clock.now();
      const expires = backupExpiry(fleet.config, purgedAt);
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(row.schema_name)} CASCADE`);
      const asideDropped = await dropTenantAsideSchemas(client, row.id);
      await dropTenantRole(client, { id: row.id, schema: row.schema_name });
      const ledger = await client.query('DELETE FROM fleet.migrations WHERE tenant_id = $1', [tenantId]);
      await client.query(`UPDATE fleet.tenants SET status = 'purged', purged_at = $2, updated_at = $2 WHERE id = $1`, [tenantId, purgedAt]);
      await client.query(
        `INSERT INTO fleet.tombstones (tenant_id, schema_name, region, disconnected_at, disconnect_cause, purge_after, purged_at, backup_expires_at, tables, approx_bytes, actor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          row.id,
          row.schema_name,
          row.region,
          row.disconnected_at,
          row.disconnect_cause,
          row.purge_after,
          purgedAt,
          expires,
          size.tables,
          size.bytes,
          fleet.actor,
        ],
      );
      await recordAudit(client, {
        at: purgedAt,
        tenantId,
        action: 'purged',
        fromState: 'disconnected',
        toState: 'purged',
        reason: `grace period ended ${row.purge_after?.toISOString() ?? '?'} (disconnected ${row.disconnected_at?.toISOString() ?? '?'}, ${row.disconnect_cause ?? 'unknown cause'})`,
        actor: fleet.actor,
        details: {
          schema: row.schema_name,
          tables: size.tables,
          approxBytes: size.bytes,
          ledgerRowsDeleted: ledger.rowCount ?? 0,
          backupExpiresAt: expires.toISOString(),
          asideDropped,
        },
      });
      return {
        status: 'purged',
        schema: row.schema_name,
        tables: size.tables,
        approxBytes: size.bytes,
        purgedAt: purgedAt.toISOString(),
        backupExpiresAt: expires.toISOString(),
        asideDropped,
      };
    });
  } catch (error) {
    if (sqlStateOf(error) === SQLSTATE.LOCK_NOT_AVAILABLE) {
      return {
        status: 'skipped',
        busy: true,
        reason: `busy: a runner (a migration?) holds the tenant, or another purge held it for longer than lock_timeout ${lockTimeoutMs} ms; it is still due: run the purge again`,
      };
    }
    throw error;
  }
}
