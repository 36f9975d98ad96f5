import type pg from 'pg';
import { lockTenantForTransaction } from '../../tenants/tenant-lock.ts';
import { createTenantRole, missingRolesCondition } from '../tenant-role.ts';
import { SQLSTATE, sqlStateOf } from '../../db/sqlstate.ts';

/** How long the backfill waits for one tenant's lease row before leaving that tenant for the next time. */
export const BACKFILL_LOCK_TIMEOUT_MS = 2_000;

export interface BackfillResult {
  /** Tenants whose roles were created. */
  readonly created: string[];
  /** Tenants left as they were because a runner or a purge held them: the next opening tries again. */
  readonly busy: string[];
}

/**
 * Tenants provisioned before session roles existed (or whose roles went missing): active or
 * disconnected, schema present, a role missing. Create their roles now, each under the tenant's
 * lease row with its status re-read, in a savepoint of the caller's transaction. The wait for a
 * tenant is bounded (BACKFILL_LOCK_TIMEOUT_MS): a tenant a runner holds is left for later, so
 * one busy tenant never holds up the access of every other. createTenantRole is idempotent, so a
 * disagreement costs a no-op. Call inside a transaction.
 */
export async function backfillTenantRoles(client: pg.ClientBase, prefix: string): Promise<BackfillResult> {
  const missing = missingRolesCondition(prefix);
  const { rows } = await client.query<{ id: string; schema_name: string }>(
    `SELECT t.id, t.schema_name FROM fleet.tenants t
      WHERE t.status IN ('active', 'disconnected')
        AND EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = t.schema_name)
        AND ${missing.sql}
      ORDER BY t.id`,
    missing.params,
  );
  const created: string[] = [];
  const busy: string[] = [];
  if (rows.length === 0) return { created, busy };
  await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${BACKFILL_LOCK_TIMEOUT_MS}ms`]);
  for (const tenant of rows) {
    await client.query('SAVEPOINT fleet_backfill');
    try {
      await lockTenantForTransaction(client, tenant.id);
      const still = await client.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1', [tenant.id]);
      const status = still.rows[0]?.status;
      if (status === 'active' || status === 'disconnected') {
        await createTenantRole(client, { id: tenant.id, schema: tenant.schema_name });
        created.push(tenant.id);
      }
      await client.query('RELEASE SAVEPOINT fleet_backfill');
    } catch (error) {
      if (sqlStateOf(error) !== SQLSTATE.LOCK_NOT_AVAILABLE) throw error;
      await client.query('ROLLBACK TO SAVEPOINT fleet_backfill');
      busy.push(tenant.id);
    }
  }
  return { created, busy };
}
