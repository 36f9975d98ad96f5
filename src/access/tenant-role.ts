import type pg from 'pg';
import { quoteIdent } from '../db/quote.ts';
import { FleetError } from '../errors.ts';
import { SQLSTATE, sqlStateOf } from '../db/sqlstate.ts';
import { withTransaction } from '../db/scoped.ts';
import { readRolePrefix, sessionRoleName, tenantRoleName, tenantRoleNameSql } from './names.ts';

/**
 * Two PostgreSQL roles per tenant:
 *
 * - the privilege role `<prefix>_<schema>`: NOLOGIN, NOINHERIT, owning nothing, granted its own
 *   schema (USAGE) and the data in it (SELECT, INSERT, UPDATE, DELETE on tables; USAGE, SELECT,
 *   UPDATE on sequences), now and, through default privileges of the role that runs migrations,
 *   for every table and sequence a later migration creates. No CREATE: only migrations change
 *   structure.
 * - the session role `<prefix>_l_<schema>`: LOGIN, NOINHERIT, owning nothing, holding no privilege
 *   of its own, a member of exactly one role: the privilege role of its tenant. withTenant connects
 *   as it and does SET LOCAL ROLE to the privilege role. PostgreSQL checks SET ROLE against the
 *   session user, so from that session no other tenant's role (nor any other role) is reachable;
 *   RESET ROLE lands on the session role, which reads nothing. Its credentials are set when the
 *   application first connects (src/access/session-login.ts): the migrator that provisions
 *   tenants never needs the application secret. It is registered in fleet.session_roles, which
 *   fleet_access.session_tenant() reads to tell a session its own tenant (and only that).
 */
/** Serializes GRANTs on the database row (pg_database.datacl): take it in the GRANT's transaction. */
export const GRANT_CONNECT_LOCK_SQL = 'SELECT 1 FROM fleet.access_settings FOR UPDATE';

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

interface RoleState {
  me: string;
  db: string;
  schema_exists: boolean;
  role_exists: boolean;
  login_exists: boolean;
  login_bad_attributes: boolean;
  login_noinherit: boolean;
  login_can_login: boolean;
  /** The login already holds CONNECT on this database (granted in bulk by createSessionLogins). */
  login_can_connect: boolean;
  /** Roles the login is a member of, other than the tenant role and rds_iam. */
  login_other_memberships: string[] | null;
  registered_to: string | null;
  registered_schema: string | null;
}

export interface TenantRoleOptions {
  /**
   * Create the tenant's schema too when it does not exist, in the same transaction as its roles
   * (provisioning). Without it the schema must exist.
   */
  readonly createSchema?: boolean;
}

// The prefix is set once per database (control migration 0003) and a connection stays in its
// database, so a pooled connection that provisions thousands of tenants reads it once.
const rolePrefixes = new WeakMap<pg.ClientBase, string>();

async function rolePrefixOf(client: pg.ClientBase): Promise<string> {
  let prefix = rolePrefixes.get(client);
  if (prefix === undefined) {
    prefix = await readRolePrefix(client);
    rolePrefixes.set(client, prefix);
  }
  return prefix;
}

/**
 * Create the tenant's privilege role, its grants and default privileges, and its session role.
 * Idempotent (an interrupted provisioning is completed by calling it again). The schema must exist,
 * unless `createSchema`. Run it as the role that runs the tenant's migrations (the migrator): the
 * default privileges are that role's. Runs in the caller's transaction if there is one, else the
 * schema and role statements are one implicit transaction (and the registration, when it is not
 * already right, another).
 *
 * Refuses (REFUSED) rather than repairs an existing session role that is a member of any other
 * role, has powers (superuser, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS), or is registered to
 * another tenant: that is a name collision or tampering, and granting it this tenant would join
 * two tenants.
 */
export async function createTenantRole(client: pg.ClientBase, tenant: TenantRoleTarget, options: TenantRoleOptions = {}): Promise<void> {
  const prefix = await rolePrefixOf(client);
  const name = tenantRoleName(prefix, tenant.schema);
  const login = sessionRoleName(prefix, tenant.schema);
  // The login's name twice: $2 meets pg_roles.rolname and is typed name, and a name (or a name cast
  // to text, collation "C") cannot use session_roles' text index: that was a sequential scan of
  // session_roles per provisioned tenant. $3 is text, in the column's collation. Named: parsed and
  // planned once per connection, not once per tenant.
  const { rows } = await client.query<RoleState>({
    name: 'fleet-tenant-role-state',
    text: `SELECT current_user::text AS me, current_database()::text AS db,
            EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $4) AS schema_exists,
            EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1) AS role_exists,
            l.oid IS NOT NULL AS login_exists,
            coalesce(l.rolsuper OR l.rolcreaterole OR l.rolcreatedb OR l.rolreplication OR l.rolbypassrls, false) AS login_bad_attributes,
            coalesce(NOT l.rolinherit, false) AS login_noinherit,
            coalesce(l.rolcanlogin, false) AS login_can_login,
            coalesce(has_database_privilege(l.oid, current_database(), 'CONNECT'), false) AS login_can_connect,
            (SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
              WHERE m.member = l.oid AND g.rolname NOT IN ($1, 'rds_iam')) AS login_other_memberships,
            s.tenant_id AS registered_to, s.schema_name AS registered_schema
       FROM (SELECT 1) AS one LEFT JOIN pg_catalog.pg_roles l ON l.rolname = $2
            LEFT JOIN fleet.session_roles s ON s.role_name = $3`,
    values: [name, login, login, tenant.schema],
  });
  const row = rows[0];
  if (!row) throw new Error('unreachable: a SELECT from one row returns one row');
  const problems = [
    ...(row.login_bad_attributes ? ['it has superuser, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS'] : []),
    ...(row.login_other_memberships ? [`it is a member of ${row.login_other_memberships.join(', ')}`] : []),
    ...(row.registered_to !== null && row.registered_to !== tenant.id
      ? [`it is registered to tenant ${JSON.stringify(row.registered_to)}`]
      : []),
  ];
  if (problems.length > 0) {
    throw new FleetError(
      'REFUSED',
      `the session role ${JSON.stringify(login)} of tenant ${JSON.stringify(tenant.id)} already exists and must not be used as is (a name collision or tampering); nothing was granted. Inspect it, drop it (DROP ROLE ${quoteIdent(login)}) and provision again:`,
      problems,
    );
  }
  const role = quoteIdent(name);
  const l = quoteIdent(login);
  const schema = quoteIdent(tenant.schema);
  const me = quoteIdent(row.me);
  const newSchema = options.createSchema === true && !row.schema_exists;
  const statements = [
    ...(newSchema ? [`CREATE SCHEMA ${schema}`] : []),
    ...(row.role_exists ? [] : [`CREATE ROLE ${role} NOLOGIN NOINHERIT`]),
    `GRANT USAGE ON SCHEMA ${schema} TO ${role}`,
    // A schema created by this very statement list holds no table or sequence yet, so these two
    // would grant nothing; and each reads the whole of pg_class (there is no index on the
    // namespace alone), a cost that grows with every tenant of the database.
    ...(newSchema
      ? []
      : [
          `GRANT ${TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA ${schema} TO ${role}`,
          `GRANT ${SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`,
        ]),
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${me} IN SCHEMA ${schema} GRANT ${TABLE_PRIVILEGES} ON TABLES TO ${role}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${me} IN SCHEMA ${schema} GRANT ${SEQUENCE_PRIVILEGES} ON SEQUENCES TO ${role}`,
    ...(row.login_exists ? [] : [`CREATE ROLE ${l} LOGIN NOINHERIT`]),
    ...(row.login_exists && !row.login_noinherit ? [`ALTER ROLE ${l} NOINHERIT`] : []),
    ...(row.login_exists && !row.login_can_login ? [`ALTER ROLE ${l} LOGIN`] : []),
    `GRANT ${role} TO ${l}`,
    // PUBLIC has no CONNECT on a fleet database (control migration 0006): the login may connect
    // to this database only, so it cannot own anything elsewhere that would block its DROP ROLE.
    // Two GRANTs on the database at once fail ("tuple concurrently updated"): serialized on the
    // settings row, held to the end of this (implicit or the caller's) transaction.
    // Each GRANT on the database rewrites its whole ACL (one entry per login): skipped when the
    // login has CONNECT already, as after createSessionLogins.
    ...(row.login_can_connect ? [] : [GRANT_CONNECT_LOCK_SQL, `GRANT CONNECT ON DATABASE ${quoteIdent(row.db)} TO ${l}`]),
  ];
  // One round trip; a multi-statement simple query is one implicit transaction.
  await client.query(statements.join(';\n'));
  // createSessionLogins registers the logins it makes: then there is nothing to write here.
  if (row.registered_to === tenant.id && row.registered_schema === tenant.schema) return;
  await client.query(
    `INSERT INTO fleet.session_roles (role_name, tenant_id, schema_name) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET role_name = excluded.role_name, schema_name = excluded.schema_name, login_auth = NULL
       WHERE fleet.session_roles.role_name IS DISTINCT FROM excluded.role_name OR fleet.session_roles.schema_name IS DISTINCT FROM excluded.schema_name`,
    [login, tenant.id, tenant.schema],
  );
}

/** Logins per transaction in createSessionLogins: one ACL rewrite of the database per chunk. */
const SESSION_LOGIN_CHUNK = 500;

/**
 * Create the session logins of tenants about to be provisioned, many at a time, each with CONNECT
 * on this database: `GRANT CONNECT ON DATABASE` rewrites the database's ACL, which holds one entry
 * per login, so a grant per tenant costs O(logins) and a fleet O(logins²) (at 5,000 logins one
 * grant takes about 5 ms on PostgreSQL 15, serialized across sessions); one GRANT for a chunk of
 * logins rewrites it once. Only logins that do not exist yet are created, granted and registered in
 * fleet.session_roles, in one transaction per chunk; an existing login is left to createTenantRole,
 * which checks it before it grants anything. createTenantRole completes each tenant (its privilege
 * role, the membership, the registration if not made here) and skips the CONNECT grant of a login
 * that has it. A chunk that meets a login another process created meanwhile is rolled back and left
 * to createTenantRole. Returns how many logins were created.
 */
export async function createSessionLogins(client: pg.ClientBase, tenants: readonly TenantRoleTarget[]): Promise<number> {
  if (tenants.length === 0) return 0;
  const prefix = await readRolePrefix(client);
  let created = 0;
  for (let start = 0; start < tenants.length; start += SESSION_LOGIN_CHUNK) {
    const chunk = tenants.slice(start, start + SESSION_LOGIN_CHUNK);
    const logins = chunk.map((t) => sessionRoleName(prefix, t.schema));
    try {
      created += await withTransaction(client, async () => {
        // The same lock as each tenant's CONNECT grant: two GRANTs on the database at once fail.
        await client.query(GRANT_CONNECT_LOCK_SQL);
        const { rows } = await client.query<{ db: string; existing: string[] | null }>(
          'SELECT current_database()::text AS db, (SELECT array_agg(rolname::text) FROM pg_catalog.pg_roles WHERE rolname = ANY($1::name[])) AS existing',
          [logins],
        );
        const existing = new Set(rows[0]?.existing ?? []);
        const fresh = chunk.map((t, i) => ({ ...t, login: logins[i] as string })).filter((t) => !existing.has(t.login));
        if (fresh.length === 0) return 0;
        await client.query(fresh.map((t) => `CREATE ROLE ${quoteIdent(t.login)} LOGIN NOINHERIT`).join(';\n'));
        await client.query(
          `GRANT CONNECT ON DATABASE ${quoteIdent(rows[0]?.db ?? '')} TO ${fresh.map((t) => quoteIdent(t.login)).join(', ')}`,
        );
        // Registered with them (a tenant still provisioning: no session serves it), so that
        // createTenantRole finds the registration right and writes nothing per tenant. A tenant
        // registered with another login keeps that row here; createTenantRole repairs it.
        await client.query(
          `INSERT INTO fleet.session_roles (role_name, tenant_id, schema_name)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
          [fresh.map((t) => t.login), fresh.map((t) => t.id), fresh.map((t) => t.schema)],
        );
        return fresh.length;
      });
    } catch (error) {
      const code = sqlStateOf(error);
      if (code !== SQLSTATE.DUPLICATE_OBJECT && code !== SQLSTATE.UNIQUE_VIOLATION) throw error;
    }
  }
  return created;
}

/**
 * Drop the tenant's session role (its connections are ended) and privilege role: whatever they
 * own (large objects included) is dropped, never reassigned; their privileges and default-privilege entries
 * in this database revoked, their memberships removed, the registration deleted. Idempotent: a
 * no-op for roles already gone. Call it after (or in the transaction of) the DROP SCHEMA; it also
 * works while the schema exists.
 */
export async function dropTenantRole(client: pg.ClientBase, tenant: TenantRoleTarget): Promise<void> {
  const prefix = await readRolePrefix(client);
  const names = [sessionRoleName(prefix, tenant.schema), tenantRoleName(prefix, tenant.schema)];
  const { rows } = await client.query<{ me: string; existing: string[] | null }>(
    'SELECT current_user::text AS me, (SELECT array_agg(rolname::text) FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])) AS existing',
    [names],
  );
  const row = rows[0];
  await client.query('DELETE FROM fleet.session_roles WHERE tenant_id = $1 OR role_name = $2', [tenant.id, names[0]]);
  for (const name of names) {
    if (!row?.existing?.includes(name)) continue;
    await client.query(
      'SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()',
      [name],
    );
    await dropRoleStatements(client, name);
  }
}

/**
 * DROP OWNED + DROP ROLE in one round trip (memberships go with the role). Nothing is reassigned:
 * whatever the role owns in this database (large objects included) is the tenant's and is
 * dropped with it. A role that still owns something in another database cannot be dropped; the
 * error names those databases.
 */
export async function dropRoleStatements(client: pg.ClientBase, role: string): Promise<void> {
  const r = quoteIdent(role);
  try {
    await client.query([`DROP OWNED BY ${r}`, `DROP ROLE ${r}`].join(';\n'));
  } catch (error) {
    if ((error as { code?: string }).code !== DEPENDENT_OBJECTS_STILL_EXIST) throw error;
    throw new FleetError(
      'REFUSED',
      `role ${JSON.stringify(role)} cannot be dropped: it owns objects or holds privileges in another database of this server (${(error as { detail?: string }).detail ?? (error as Error).message}). Connect to each database named there as an administrator and run DROP OWNED BY ${r}, then run the purge again. Nothing was dropped.`,
    );
  }
}

const DEPENDENT_OBJECTS_STILL_EXIST = '2BP01';

/**
 * The SQL condition "tenant t (a row of fleet.tenants) lacks its privilege role or its session
 * role": the privilege role's name by the rule of names.ts (tenantRoleNameSql), the session role
 * by its registration.
 */
export function missingRolesCondition(prefix: string): { sql: string; params: unknown[] } {
  return {
    sql: `(NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = ${tenantRoleNameSql(prefix, 't.schema_name')})
           OR NOT EXISTS (
             SELECT 1 FROM fleet.session_roles s JOIN pg_catalog.pg_roles r ON r.rolname = s.role_name
              WHERE s.tenant_id = t.id AND s.schema_name = t.schema_name))`,
    params: [],
  };
}
