import type pg from 'pg';
import { readRolePrefix, tenantsGroupName } from './names.ts';
import { dropRoleStatements } from './tenant-role.ts';

/**
 * Drop every role this database's fleet made (tenant roles, support roles, the generated
 * application role, the tenants group): for decommissioning a database, and for test databases,
 * whose roles would otherwise outlive them (roles are cluster-wide). Run it as an administrator
 * connected to that database, before dropping it. The group goes last; an IAM application role
 * named by the fleet description has no prefix and is left alone. Returns the roles dropped.
 */
export async function dropAccessRoles(client: pg.ClientBase): Promise<string[]> {
  const prefix = await readRolePrefix(client);
  const group = tenantsGroupName(prefix);
  const { rows } = await client.query<{ rolname: string; me: string }>(
    `SELECT rolname, current_user::text AS me FROM pg_catalog.pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname = $2, rolname`,
    [`${prefix}_`, group],
  );
  for (const row of rows) {
    await client.query(`SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()`, [row.rolname]);
    await dropRoleStatements(client, row.rolname, row.me);
  }
  return rows.map((r) => r.rolname);
}
