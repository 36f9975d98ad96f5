import type pg from 'pg';
import { createTenantRole } from '../access/tenant-role.ts';

export interface SchemaTarget {
  readonly id: string;
  readonly schema: string;
}

/**
 * Create what a tenant needs before its first migration: its schema, and its role with the grants
 * and default privileges that cover tables made by later migrations (src/access/tenant-role.ts),
 * in one transaction. Idempotent: an interrupted provisioning is completed by running it again.
 */
export async function prepareTenantSchema(client: pg.ClientBase, tenant: SchemaTarget): Promise<void> {
  await createTenantRole(client, tenant, { createSchema: true });
}
