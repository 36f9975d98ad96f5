import type pg from 'pg';

/**
 * A tenant is held by a lease row in fleet.tenant_leases (control migration 0006), not by an
 * advisory lock: advisory lock keys are public and need no privilege, so any tenant session could
 * take another tenant's key. No tenant role can read or write the lease table.
 *
 * - The runner takes the lease for its backend (`tryTenantLock`, or inside
 *   fleet.lock_tenant_state in the same round trip as the tenant's state) and keeps it across the
 *   tenant's per-migration transactions. The lease ends when the runner releases it or when its
 *   backend is gone (a crashed runner's connection closes): a holder is a pid and that backend's
 *   start time, checked against pg_stat_activity, so it behaves like a session lock.
 * - The purge (and the role backfill, and support grants) lock the lease row in their own
 *   transaction (`lockTenantForTransaction`): it waits at most lock_timeout for the row and fails
 *   with 55P03 when a live runner holds the lease. A runner trying meanwhile finds the row locked
 *   and skips the tenant. So a migration and a purge of one tenant never overlap.
 */

/** Take the tenant's lease for this connection's backend without waiting; false when another runner (or a purge in progress) holds it. */
export async function tryTenantLock(client: pg.ClientBase, tenantId: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>({
    name: 'fleet-try-tenant-lease',
    text: 'SELECT fleet.try_tenant_lease($1) AS locked',
    values: [tenantId],
  });
  return rows[0]?.locked === true;
}

/** Give the tenant's lease back (a no-op when this backend does not hold it). */
export async function releaseTenantLock(client: pg.ClientBase, tenantId: string): Promise<void> {
  await client.query({ name: 'fleet-release-tenant-lease', text: 'SELECT fleet.release_tenant_lease($1)', values: [tenantId] });
}

/**
 * Lock the tenant's lease row until the transaction ends; call inside a transaction. Waits for
 * the row at most the transaction's lock_timeout; fails with SQLSTATE 55P03 when a live runner
 * holds the lease.
 */
export async function lockTenantForTransaction(client: pg.ClientBase, tenantId: string): Promise<void> {
  await client.query('SELECT fleet.lock_tenant_for_transaction($1)', [tenantId]);
}

/** Run fn holding the tenant's lease, or return undefined when another runner holds it. */
export async function withTenantLock<T>(
  client: pg.ClientBase,
  tenantId: string,
  fn: () => Promise<T>,
): Promise<{ locked: true; value: T } | { locked: false }> {
  if (!(await tryTenantLock(client, tenantId))) return { locked: false };
  try {
    return { locked: true, value: await fn() };
  } finally {
    await releaseTenantLock(client, tenantId).catch(() => undefined);
  }
}
