import type pg from 'pg';
import { quoteIdent } from '../db/quote.ts';
import { readRolePrefix, tenantsGroupName } from './names.ts';
import { dropRoleStatements } from './tenant-role.ts';
import { SQLSTATE, sqlStateOf } from '../db/sqlstate.ts';

/**
 * The shapes of the roles a fleet makes: `<prefix>_` followed by a tenant role (`t_...`), a session
 * role (`l_t_...`), a gateway login (`l_gw_<n>`), a support grant, the bench role of scripts/bench, or the tenants group and app
 * role of databases from before control migration 0004. Anything else starting `f<8 hex>_` is not
 * ours and is never swept.
 */
export const FLEET_ROLE_PATTERN = '^f[0-9a-f]{8}_(t_|l_t_|l_gw_[0-9]+$|support_[0-9]+$|tenants$|app$|bench$)';

/**
 * Drop every role this database's fleet made (tenant and session roles, support roles, and any
 * left from before 0004): for decommissioning a database, and for test databases, whose roles
 * would otherwise outlive them (roles are cluster-wide). Run it as an administrator connected to
 * that database, before dropping it. Sessions of those roles are ended first. A database without
 * the control schema (or without its access settings) has none: nothing is done. Returns the roles
 * dropped.
 */
export async function dropAccessRoles(client: pg.ClientBase): Promise<string[]> {
  const has = await client.query<{ settings: boolean; sessions: boolean }>(
    `SELECT to_regclass('fleet.access_settings') IS NOT NULL AS settings, to_regclass('fleet.session_roles') IS NOT NULL AS sessions`,
  );
  if (!has.rows[0]?.settings) return [];
  if ((await client.query('SELECT 1 FROM fleet.access_settings')).rowCount === 0) return [];
  const prefix = await readRolePrefix(client);
  const group = tenantsGroupName(prefix);
  const { rows } = await client.query<{ rolname: string; me: string }>(
    `SELECT rolname, current_user::text AS me FROM pg_catalog.pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname = $2, rolname`,
    [`${prefix}_`, group],
  );
  if (has.rows[0].sessions) await client.query('DELETE FROM fleet.session_roles');
  for (const row of rows) {
    await client.query(
      `SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()`,
      [row.rolname],
    );
    await dropRoleStatements(client, row.rolname);
  }
  return rows.map((r) => r.rolname);
}

/**
 * Roles left behind by databases that no longer exist (a test database dropped without
 * dropAccessRoles, a region decommissioned): every role of a fleet's shapes (FLEET_ROLE_PATTERN)
 * whose prefix no live database of the server claims in its fleet.access_settings. `connect(database)` opens an
 * administrator's client to a database of the server (closed here). With `drop`, the orphans are
 * dropped (they own nothing anywhere: their database is gone); returns the orphans found.
 */
export async function sweepOrphanedAccessRoles(
  connect: (database: string) => Promise<pg.Client>,
  options: { drop?: boolean } = {},
): Promise<string[]> {
  const main = await connect('postgres');
  try {
    // Roles first: a role that exists now was made in the same transaction as its database's prefix,
    // so that prefix is visible below, unless the database is gone (a real orphan).
    const roles = (
      await main.query<{ rolname: string }>(`SELECT rolname FROM pg_catalog.pg_roles WHERE rolname ~ $1 ORDER BY rolname`, [
        FLEET_ROLE_PATTERN,
      ])
    ).rows.map((r) => r.rolname);
    const databases = (
      await main.query<{ datname: string; datallowconn: boolean }>('SELECT datname, datallowconn FROM pg_catalog.pg_database ORDER BY 1')
    ).rows;
    // A database nobody may connect to cannot be read: its prefix is unknown, so nothing is an orphan.
    if (databases.some((d) => !d.datallowconn && !d.datname.startsWith('template'))) return [];
    const live = new Set<string>();
    for (const { datname: database, datallowconn } of databases) {
      if (!datallowconn) continue;
      let client: pg.Client;
      try {
        client = database === 'postgres' ? main : await connect(database);
      } catch (error) {
        // Dropped since we listed it: its roles are orphans indeed. Anything else: stop, drop nothing.
        if (sqlStateOf(error) === SQLSTATE.INVALID_CATALOG_NAME) continue;
        throw error;
      }
      try {
        const found = await client.query<{ prefix: string | null }>(
          `SELECT CASE WHEN to_regclass('fleet.access_settings') IS NULL THEN NULL ELSE 'x' END AS prefix`,
        );
        if (found.rows[0]?.prefix === null) continue;
        for (const row of (await client.query<{ role_prefix: string }>('SELECT role_prefix FROM fleet.access_settings')).rows)
          live.add(row.role_prefix);
      } finally {
        if (client !== main) await client.end();
      }
    }
    const orphans = roles.filter((r) => !live.has(r.slice(0, 9)));
    if (options.drop) {
      // Members before groups: the tenants group last within its prefix.
      const ordered = [...orphans].sort((a, b) => Number(a.endsWith('_tenants')) - Number(b.endsWith('_tenants')));
      for (const role of ordered) {
        await main.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`).catch(() => undefined);
      }
    }
    return orphans;
  } finally {
    await main.end();
  }
}
