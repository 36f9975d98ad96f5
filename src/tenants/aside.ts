import type pg from 'pg';
import type { RegionDatabase } from '../db/region-database.ts';
import { quoteIdent } from '../db/quote.ts';

/**
 * A tenant's former live schema, renamed aside by a restore that replaced it (fleet.aside_schemas,
 * control migration 0009). The tenant's role has no privilege on it. It is kept until
 * `drop_after` (the restore's time plus `lifecycle.graceDays`) and then dropped by the purge, or
 * earlier by `fleet tenants restore <id> --discard-aside`; a purge of the tenant drops it with
 * the tenant.
 */
export interface AsideSchema {
  readonly tenant: string;
  readonly region: string;
  readonly schema: string;
  readonly setAsideAt: string;
  readonly dropAfter: string;
  /** Who ran the restore that set it aside. */
  readonly actor: string;
}

/** A row of fleet.aside_schemas as the queries here read it. */
export interface AsideRow {
  schema_name: string;
  tenant_id: string;
  set_aside_at: Date;
  drop_after: Date;
  actor: string;
}

export function asideSchemaOf(region: string, row: AsideRow): AsideSchema {
  return {
    tenant: row.tenant_id,
    region,
    schema: row.schema_name,
    setAsideAt: row.set_aside_at.toISOString(),
    dropAfter: row.drop_after.toISOString(),
    actor: row.actor,
  };
}

/** A region's aside schemas, oldest drop date first. */
export async function listAsideSchemas(region: RegionDatabase): Promise<AsideSchema[]> {
  const { rows } = await region.query<AsideRow>(
    'SELECT schema_name, tenant_id, set_aside_at, drop_after, actor FROM fleet.aside_schemas ORDER BY drop_after, schema_name',
  );
  return rows.map((r) => asideSchemaOf(region.name, r));
}

/**
 * Drop an aside schema and its row, on `client`'s transaction (the caller's: the row and the
 * schema go together or not at all).
 */
export async function dropAsideSchema(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  await client.query('DELETE FROM fleet.aside_schemas WHERE schema_name = $1', [schema]);
}

/** Drop every aside schema of a tenant in this database, on `client`'s transaction; the schemas dropped. */
export async function dropTenantAsideSchemas(client: pg.ClientBase, tenantId: string): Promise<string[]> {
  const { rows } = await client.query<{ schema_name: string }>(
    'SELECT schema_name FROM fleet.aside_schemas WHERE tenant_id = $1 ORDER BY schema_name FOR UPDATE',
    [tenantId],
  );
  for (const r of rows) await dropAsideSchema(client, r.schema_name);
  return rows.map((r) => r.schema_name);
}
