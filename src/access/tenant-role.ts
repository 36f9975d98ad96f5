import type pg from 'pg';
import { quoteIdent } from '../db/quote.ts';
import { readRolePrefix, tenantRoleName, tenantsGroupName } from './names.ts';

/**
 * One PostgreSQL role per tenant: NOLOGIN, owning nothing, granted its own schema (USAGE) and the
 * data in it (SELECT, INSERT, UPDATE, DELETE on tables; USAGE, SELECT, UPDATE on sequences), now
 * and, through default privileges of the role that runs migrations, for every table and sequence
 * a later migration creates. It gets no CREATE on the schema: only migrations change structure.
 *
 * The role is granted to the database's `<prefix>_tenants` group (NOLOGIN NOINHERIT), which the
 * application's login role is a NOINHERIT member of: the login role can `SET ROLE` to a tenant
 * role, but holds no privilege of any tenant while it has not.
 */
export interface TenantRoleTarget {
  readonly id: string;
  readonly schema: string;
}

const TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE';
const SEQUENCE_PRIVILEGES = 'USAGE, SELECT, UPDATE';

/** The role name of a tenant in the database this client is connected to. */
export async function tenantRoleFor(client: pg.ClientBase, tenant: TenantRoleTarget): Promise<string> {
  return tenantRoleName(await readRolePrefix(client), tenant.schema);
}

/**
 * Create the tenant's role, its grants and its default privileges. Idempotent (an interrupted
 * provisioning is completed by calling it again). The schema must exist. Run it as the role that
 * runs the tenant's migrations (the migrator): the default privileges are that role's. Runs in
 * the caller's transaction if there is one, else as one implicit transaction.
 */
export async function createTenantRole(client: pg.ClientBase, tenant: TenantRoleTarget): Promise<void> {
  const prefix = await readRolePrefix(client);
  const name = tenantRoleName(prefix, tenant.schema);
  const { rows } = await client.query<{ me: string; exists: boolean }>(
    'SELECT current_user::text AS me, EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1) AS exists',
    [name],
  );
  const row = rows[0];
  if (!row) throw new Error('unreachable: a SELECT without FROM returns one row');
  const role = quoteIdent(name);
  const schema = quoteIdent(tenant.schema);
  const me = quoteIdent(row.me);
  const statements = [
    ...(row.exists ? [] : [`CREATE ROLE ${role} NOLOGIN NOINHERIT`]),
    `GRANT ${role} TO ${quoteIdent(tenantsGroupName(prefix))}`,
    `GRANT USAGE ON SCHEMA ${schema} TO ${role}`,
    `GRANT ${TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA ${schema} TO ${role}`,
    `GRANT ${SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${me} IN SCHEMA ${schema} GRANT ${TABLE_PRIVILEGES} ON TABLES TO ${role}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${me} IN SCHEMA ${schema} GRANT ${SEQUENCE_PRIVILEGES} ON SEQUENCES TO ${role}`,
  ];
  // One round trip; a multi-statement simple query is one implicit transaction.
  await client.query(statements.join(';\n'));
}

/**
 * Drop the tenant's role: whatever it owns is reassigned to the current user and dropped, its
 * privileges and default-privilege entries in this database revoked, its memberships removed.
 * Idempotent: a no-op when the role is gone. Call it after (or in the transaction of) the DROP
 * SCHEMA; it also works while the schema exists.
 */
export async function dropTenantRole(client: pg.ClientBase, tenant: TenantRoleTarget): Promise<void> {
  const prefix = await readRolePrefix(client);
  const name = tenantRoleName(prefix, tenant.schema);
  const { rows } = await client.query<{ me: string; exists: boolean }>(
    'SELECT current_user::text AS me, EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1) AS exists',
    [name],
  );
  const row = rows[0];
  if (!row?.exists) return;
  await dropRoleStatements(client, name, row.me);
}

/** REASSIGN OWNED + DROP OWNED + DROP ROLE in one round trip (memberships go with the role). */
export async function dropRoleStatements(client: pg.ClientBase, role: string, reassignTo: string): Promise<void> {
  const r = quoteIdent(role);
  await client.query([`REASSIGN OWNED BY ${r} TO ${quoteIdent(reassignTo)}`, `DROP OWNED BY ${r}`, `DROP ROLE ${r}`].join(';\n'));
}
