import type pg from 'pg';
import { quoteIdent } from '../db/quote.ts';

export interface SchemaTarget {
  readonly id: string;
  readonly schema: string;
}

/**
 * Create what a tenant needs before its first migration. Idempotent: an interrupted provisioning
 * is completed by running it again.
 */
export async function prepareTenantSchema(client: pg.ClientBase, tenant: SchemaTarget): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(tenant.schema)}`);
}
