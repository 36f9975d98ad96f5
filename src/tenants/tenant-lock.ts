import type pg from 'pg';

/**
 * One advisory-lock key per tenant, derived in the database from the tenant id (64-bit, so two
 * tenants practically never share a key). The runner takes it per session while it migrates a
 * tenant; the purge takes the transaction-level form in the transaction that drops the schema.
 * Both forms conflict with each other, so a migration and a purge of one tenant never overlap.
 */
export const TENANT_LOCK_KEY_SQL = `hashtextextended('fleet:tenant:' || $1::text, 0)`;

export async function tryTenantLock(client: pg.ClientBase, tenantId: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${TENANT_LOCK_KEY_SQL}) AS locked`, [tenantId]);
  return rows[0]?.locked === true;
}

export async function releaseTenantLock(client: pg.ClientBase, tenantId: string): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock(${TENANT_LOCK_KEY_SQL})`, [tenantId]);
}

/** Waits for the tenant's lock until the transaction ends; call inside a transaction. */
export async function lockTenantForTransaction(client: pg.ClientBase, tenantId: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(${TENANT_LOCK_KEY_SQL})`, [tenantId]);
}

/** Run fn holding the tenant's session lock, or return undefined when another runner holds it. */
export async function withTenantLock<T>(client: pg.ClientBase, tenantId: string, fn: () => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }> {
  if (!(await tryTenantLock(client, tenantId))) return { locked: false };
  try {
    return { locked: true, value: await fn() };
  } finally {
    await releaseTenantLock(client, tenantId).catch(() => undefined);
  }
}
