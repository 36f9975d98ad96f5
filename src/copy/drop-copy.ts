import type pg from 'pg';
import { dropTenantRole } from '../access/tenant-role.ts';
import { quoteIdent } from '../db/quote.ts';
import { withTransaction } from '../db/scoped.ts';

export interface CopyTarget {
  readonly id: string;
  readonly schema: string;
}

/**
 * Remove a tenant's schema, roles and ledger rows from the database client is on, as a purge does
 * (DROP SCHEMA ... CASCADE, then the roles with whatever they own, nothing reassigned), in one
 * transaction: a kill leaves all of it or none. Idempotent. The registry row is the caller's.
 */
export async function dropTenantData(client: pg.ClientBase, target: CopyTarget): Promise<void> {
  await withTransaction(client, async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(target.schema)} CASCADE`);
    await dropTenantRole(client, target);
    await client.query('DELETE FROM fleet.migrations WHERE tenant_id = $1', [target.id]);
  });
}
