import path from 'node:path';
import pg from 'pg';
import type { Clock } from '../clock.ts';
import { PACKAGE_ROOT } from '../config/load.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import type { AuthTokenSigner } from '../db/iam-auth.ts';
import { quoteIdent } from '../db/quote.ts';
import { withTransaction } from '../db/scoped.ts';
import { connectionConfig } from '../db/targets.ts';
import { FleetError } from '../errors.ts';
import { lockTenantForTransaction } from '../tenants/tenant-lock.ts';
import { credentialsFile, readCredentials, writeCredentials } from './credentials.ts';
import { MAX_IDENTIFIER_BYTES, appRoleName, readRolePrefix, tenantRoleName, tenantsGroupName } from './names.ts';
import { generatePassword, scramVerifier } from './scram.ts';
import { createTenantRole } from './tenant-role.ts';

/**
 * The application's login role: what `withTenant` and `fleet sql` connect as. It is LOGIN,
 * NOINHERIT, a member of the `<prefix>_tenants` group (itself NOINHERIT and a member of every
 * tenant role), and holds no privilege on any tenant schema: it can `SET ROLE` to a tenant role
 * and read nothing until it has. In the control schema it may only read the role prefix and call
 * fleet.tenant_status(id). It is never a superuser and never BYPASSRLS (refused).
 *
 * Which role, and its credentials:
 * - `appUrl` given (FLEET_APP_DATABASE_URL): that URL's user, with the password the operator chose;
 *   the tool only grants what the role needs.
 * - IAM target (AWS): `databaseUsers.app` of the fleet description, granted `rds_iam`, connecting with
 *   IAM auth tokens like the runner. No password exists anywhere.
 * - URL (FLEET_DATABASE_URL, an administrator's) or embedded target: `<prefix>_app`, created with a
 *   generated password stored in `<credentialsDir>/<key>.json` (0600; see credentials.ts). Its SCRAM
 *   verifier, not the password, is what the server receives. A missing or stale file (another
 *   machine, a new cluster) makes a new password.
 */
export interface AppRoleOptions {
  readonly clock: Clock;
  /** The IAM database user of the application (the fleet description's databaseUsers.app). */
  readonly iamAppUser: string;
  /** Default `<package>/.fleet/credentials`. */
  readonly credentialsDir?: string;
  /** Connect as this URL's user instead (one-region fleets only). */
  readonly appUrl?: string;
  readonly signerFactory?: (options: { hostname: string; port: number; username: string; region: string }) => Promise<AuthTokenSigner>;
}

export interface AppConnection {
  readonly region: string;
  readonly prefix: string;
  readonly role: string;
  readonly connection: pg.ClientConfig;
  /** Where the password is kept, when the tool made it. */
  readonly credentialsFile?: string;
}

export const DEFAULT_CREDENTIALS_DIR = path.join(PACKAGE_ROOT, '.fleet', 'credentials');

const APP_ROLE_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('fleet:access:app-role', 0))`;
const INVALID_PASSWORD = '28P01';

type Mode = { kind: 'generated'; file: string } | { kind: 'iam' } | { kind: 'given'; url: URL };

/** Create or check the application role of a region, and return how to connect as it. */
export async function ensureAppRole(region: RegionDatabase, options: AppRoleOptions): Promise<AppConnection> {
  const mode = modeFor(region, options);
  let app = await setUp(region, options, mode, false);
  try {
    await probe(app.connection);
  } catch (error) {
    // A password file another run replaced, or a role re-created elsewhere: make a new password once.
    if ((error as { code?: string }).code !== INVALID_PASSWORD || mode.kind !== 'generated') throw unreachable(region, app, error);
    app = await setUp(region, options, mode, true);
    await probe(app.connection).catch((again: unknown) => {
      throw unreachable(region, app, again);
    });
  }
  return app;
}

function modeFor(region: RegionDatabase, options: AppRoleOptions): Mode {
  if (options.appUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.appUrl);
    } catch {
      throw new FleetError('CONFIG_INVALID', 'FLEET_APP_DATABASE_URL is not a URL: expected postgres://app_user:password@host:port/database');
    }
    if (!url.username) throw new FleetError('CONFIG_INVALID', 'FLEET_APP_DATABASE_URL names no user: expected postgres://app_user:password@host:port/database');
    return { kind: 'given', url };
  }
  const target = region.target;
  switch (target.kind) {
    case 'iam':
      return { kind: 'iam' };
    case 'embedded':
      return { kind: 'generated', file: credentialsFile(options.credentialsDir ?? DEFAULT_CREDENTIALS_DIR, `embedded_${target.database}`) };
    case 'url': {
      const u = new URL(target.url);
      const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
      return { kind: 'generated', file: credentialsFile(options.credentialsDir ?? DEFAULT_CREDENTIALS_DIR, `${u.hostname}_${u.port || '5432'}_${database}`) };
    }
  }
}

interface RoleRow {
  rolinherit: boolean;
  rolsuper: boolean;
  rolbypassrls: boolean;
  rolcanlogin: boolean;
  in_group: boolean;
}

async function setUp(region: RegionDatabase, options: AppRoleOptions, mode: Mode, forceNewPassword: boolean): Promise<AppConnection> {
  const client = await region.controlPool.connect();
  let password: string | undefined;
  try {
    return await withTransaction(client, async () => {
      await client.query(APP_ROLE_LOCK_SQL);
      const prefix = await readRolePrefix(client);
      const group = tenantsGroupName(prefix);
      const role = mode.kind === 'generated' ? appRoleName(prefix) : mode.kind === 'iam' ? options.iamAppUser : decodeURIComponent(mode.url.username);
      const r = quoteIdent(role);
      const found = await client.query<RoleRow>(
        `SELECT r.rolinherit, r.rolsuper, r.rolbypassrls, r.rolcanlogin,
                EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                         WHERE m.member = r.oid AND g.rolname = $2) AS in_group
           FROM pg_catalog.pg_roles r WHERE r.rolname = $1`,
        [role, group],
      );
      let row = found.rows[0];
      if (row && (row.rolsuper || row.rolbypassrls)) {
        throw new FleetError('CONFIG_INVALID', `the application role ${JSON.stringify(role)} is a superuser or has BYPASSRLS: it would read every tenant. Use a plain LOGIN role (ALTER ROLE ${r} NOSUPERUSER NOBYPASSRLS) or another user.`);
      }

      if (mode.kind === 'generated') {
        const stored = forceNewPassword ? undefined : await readCredentials(mode.file);
        if (row && stored && stored.role === role && stored.prefix === prefix) {
          password = stored.password;
        } else {
          password = generatePassword();
          const verb = row ? 'ALTER' : 'CREATE';
          const { rows } = await client.query<{ sql: string }>(`SELECT format('${verb} ROLE %I WITH LOGIN NOINHERIT PASSWORD %L', $1::text, $2::text) AS sql`, [role, scramVerifier(password)]);
          await client.query(rows[0]?.sql as string);
          row = { rolinherit: false, rolsuper: false, rolbypassrls: false, rolcanlogin: true, in_group: row?.in_group ?? false };
        }
      } else if (mode.kind === 'iam') {
        if (!row) {
          await client.query(`CREATE ROLE ${r} WITH LOGIN NOINHERIT`);
          row = { rolinherit: false, rolsuper: false, rolbypassrls: false, rolcanlogin: true, in_group: false };
        }
        const iam = await client.query<{ missing: boolean }>(
          `SELECT NOT pg_catalog.pg_has_role($1, 'rds_iam', 'MEMBER') AS missing FROM pg_catalog.pg_roles WHERE rolname = 'rds_iam'`,
          [role],
        );
        if (iam.rows[0]?.missing) await client.query(`GRANT rds_iam TO ${r}`);
      } else if (!row) {
        throw new FleetError('CONFIG_INVALID', `FLEET_APP_DATABASE_URL names the user ${JSON.stringify(role)}, which does not exist in region ${region.name}. Create it (CREATE ROLE ${r} LOGIN NOINHERIT PASSWORD '...') or unset FLEET_APP_DATABASE_URL to let the tool make one.`);
      }

      const statements: string[] = [];
      if (row.rolinherit) statements.push(`ALTER ROLE ${r} NOINHERIT`);
      if (!row.rolcanlogin) statements.push(`ALTER ROLE ${r} LOGIN`);
      if (!row.in_group) statements.push(`GRANT ${quoteIdent(group)} TO ${r}`);
      statements.push(
        `GRANT USAGE ON SCHEMA fleet TO ${r}`,
        `GRANT SELECT ON fleet.access_settings TO ${r}`,
        `GRANT EXECUTE ON FUNCTION fleet.tenant_status(text) TO ${r}`,
      );
      await client.query(statements.join(';\n'));
      await client.query('UPDATE fleet.access_settings SET app_role = $1', [role]);
      await backfillTenantRoles(client, prefix);

      if (mode.kind === 'generated' && password !== undefined) {
        // Written while the lock is held, before COMMIT: a process waiting for the lock then reads
        // this password instead of making another. Should the COMMIT fail, the next start finds the
        // password refused and makes a new one.
        const stored = await readCredentials(mode.file);
        if (stored?.password !== password || stored.role !== role || stored.prefix !== prefix) {
          await writeCredentials(mode.file, { version: 1, prefix, role, password, createdAt: options.clock.now().toISOString() });
        }
      }
      const connection = await appConnectionConfig(region, options, mode, role, password);
      return { region: region.name, prefix, role, connection, ...(mode.kind === 'generated' ? { credentialsFile: mode.file } : {}) };
    });
  } finally {
    client.release();
  }
}

async function appConnectionConfig(region: RegionDatabase, options: AppRoleOptions, mode: Mode, role: string, password: string | undefined): Promise<pg.ClientConfig> {
  if (mode.kind === 'given') return { connectionString: mode.url.toString() };
  if (mode.kind === 'iam') {
    return connectionConfig(region.target, { clock: options.clock, iamUser: role, ...(options.signerFactory ? { signerFactory: options.signerFactory } : {}) });
  }
  const admin = region.connectionConfig;
  if (admin.connectionString) {
    const url = new URL(admin.connectionString);
    url.username = encodeURIComponent(role);
    url.password = encodeURIComponent(password ?? '');
    return { ...admin, connectionString: url.toString() };
  }
  return { ...admin, user: role, password: password ?? '' };
}

async function probe(connection: pg.ClientConfig): Promise<void> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 10_000, application_name: 'fleet-access-probe' });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

function unreachable(region: RegionDatabase, app: AppConnection, error: unknown): FleetError {
  return new FleetError(
    'DATABASE_UNAVAILABLE',
    `cannot connect to region ${region.name} as the application role ${JSON.stringify(app.role)}: ${(error as Error).message}. ` +
      (app.credentialsFile ? `Its password is in ${app.credentialsFile}; delete that file to make a new one.` : 'Check the role can log in (IAM: rds_iam and an rds-db:connect policy; FLEET_APP_DATABASE_URL: its password).'),
  );
}

/**
 * Tenants registered before tenant roles existed (or whose role went missing): active or
 * disconnected, schema present, no role. Create their roles now, each under the tenant's lock with
 * its status re-read. One query finds them (the naming rule of names.ts, written in SQL); names.ts
 * then names each role, and createTenantRole is idempotent, so a disagreement costs a no-op.
 */
export async function backfillTenantRoles(client: pg.ClientBase, prefix: string): Promise<string[]> {
  const keep = MAX_IDENTIFIER_BYTES - prefix.length - 2 - 12;
  const missing = await client.query<{ id: string; schema_name: string }>(
    `SELECT t.id, t.schema_name FROM fleet.tenants t
      WHERE t.status IN ('active', 'disconnected')
        AND EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = t.schema_name)
        AND NOT EXISTS (
          SELECT 1 FROM pg_catalog.pg_roles r
           WHERE r.rolname = CASE WHEN octet_length($1 || '_' || t.schema_name) <= ${MAX_IDENTIFIER_BYTES}
                                  THEN $1 || '_' || t.schema_name
                                  ELSE $1 || '_' || left(t.schema_name, $2) || '_' || left(encode(sha256(convert_to(t.schema_name, 'UTF8')), 'hex'), 12) END)
      ORDER BY t.id`,
    [prefix, keep],
  );
  const created: string[] = [];
  for (const tenant of missing.rows) {
    await lockTenantForTransaction(client, tenant.id);
    const still = await client.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1', [tenant.id]);
    const status = still.rows[0]?.status;
    if (status === 'active' || status === 'disconnected') {
      await createTenantRole(client, { id: tenant.id, schema: tenant.schema_name });
      created.push(tenantRoleName(prefix, tenant.schema_name));
    }
  }
  return created;
}
