import { createHmac } from 'node:crypto';
import path from 'node:path';
import type pg from 'pg';
import type { Clock } from '../clock.ts';
import { fleetHome } from '../config/home.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import type { AuthTokenSigner } from '../db/iam-auth.ts';
import { quoteIdent } from '../db/quote.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { connectionConfig } from '../db/targets.ts';
import { FleetError } from '../errors.ts';
import { generatePassword, scramVerifier } from './scram.ts';
import { credentialsFile, readCredentials, writeCredentials } from './credentials.ts';

/**
 * How the tenants' session roles (`<prefix>_l_<schema>`, see tenant-role.ts) authenticate.
 *
 * - AWS (a region with a `database` endpoint): IAM database authentication. Each session role is
 *   granted `rds_iam` and connects with an IAM auth token signed for that user; the application's
 *   IAM policy allows `rds-db:connect` on `dbuser:<resource-id>/<prefix>_l_*`. No password exists.
 * - Otherwise (FLEET_DATABASE_URL, the embedded default): a password derived from the application
 *   secret, `base64url(HMAC-SHA256(secret, role name))`, stored nowhere; the server only ever
 *   receives its SCRAM-SHA-256 verifier. The secret is FLEET_APP_SECRET (`appSecret`; give every
 *   application host the same one), else a generated one kept in `<credentialsDir>/<key>.json`
 *   (0600, credentials.ts).
 *
 * A session role gets its credentials when the application first connects as it (the migrator
 * that provisions tenants never sees the secret): fleet.session_roles.login_auth records which
 * ones it has ('iam', or 'scram:<key id>', the key id being an HMAC of a fixed string under the
 * secret, which tells secrets apart without revealing them). A different secret (a lost file,
 * another host with another secret) re-sets the verifier at the next new connection.
 */
export type SignerFactory = (options: { hostname: string; port: number; username: string; region: string }) => Promise<AuthTokenSigner>;

export type SessionAuth =
  | { readonly kind: 'iam'; readonly id: 'iam' }
  | { readonly kind: 'scram'; readonly id: string; readonly secret: string; readonly credentialsFile?: string };

export interface SessionAuthOptions {
  readonly clock: Clock;
  /** The application secret (FLEET_APP_SECRET): at least 32 characters. Default: the credentials file. */
  readonly appSecret?: string;
  /** Default `credentials/` under fleetHome(): FLEET_HOME, else `.fleet/` in the working directory. */
  readonly credentialsDir?: string;
}

export const MIN_SECRET_LENGTH = 32;

// A row lock on the control schema's settings, not an advisory lock: any session could hold an advisory key.
const SECRET_LOCK_SQL = 'SELECT 1 FROM fleet.access_settings FOR UPDATE';

/** The password of a session role: HMAC-SHA256(secret, role name), base64url (43 characters). */
export function deriveSessionPassword(secret: string, role: string): string {
  return createHmac('sha256', secret).update(role, 'utf8').digest('base64url');
}

/** Tells secrets apart without revealing them: recorded in fleet.session_roles.login_auth. */
export function secretKeyId(secret: string): string {
  return createHmac('sha256', secret).update('tenant-fleet session secret key id', 'utf8').digest('hex').slice(0, 16);
}

export function scramAuth(secret: string, file?: string): SessionAuth {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new FleetError(
      'CONFIG_INVALID',
      `the application secret (FLEET_APP_SECRET) has ${secret.length} characters; it needs at least ${MIN_SECRET_LENGTH}: generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`,
    );
  }
  return { kind: 'scram', id: `scram:${secretKeyId(secret)}`, secret, ...(file !== undefined ? { credentialsFile: file } : {}) };
}

/** How a region's session roles authenticate; makes (once, under a lock) the secret file if needed. */
export async function resolveSessionAuth(region: RegionDatabase, options: SessionAuthOptions): Promise<SessionAuth> {
  const target = region.target;
  if (target.kind === 'iam') return { kind: 'iam', id: 'iam' };
  if (options.appSecret !== undefined) return scramAuth(options.appSecret);
  const dir = options.credentialsDir ?? path.join(fleetHome(), 'credentials');
  let key: string;
  if (target.kind === 'embedded') {
    key = `embedded_${target.database}`;
  } else {
    const u = new URL(target.url);
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
    key = `${u.hostname}_${u.port || '5432'}_${database}`;
  }
  const file = credentialsFile(dir, key);
  const stored = await readCredentials(file);
  if (stored) return scramAuth(stored.secret, file);
  // Under a lock on the database: a second process starting at the same moment reads this secret
  // instead of making another.
  return withClient(region.controlPool, async (client) => {
    return await withTransaction(client, async () => {
      await client.query(SECRET_LOCK_SQL);
      const again = await readCredentials(file);
      if (again) return scramAuth(again.secret, file);
      const secret = generatePassword();
      await writeCredentials(file, { version: 2, secret, createdAt: options.clock.now().toISOString() });
      return scramAuth(secret, file);
    });
  });
}

/** pg settings to connect to a region as a session role (without pool settings). */
export async function sessionConnectionConfig(
  region: RegionDatabase,
  auth: SessionAuth,
  role: string,
  deps: { clock: Clock; signerFactory?: SignerFactory },
): Promise<pg.ClientConfig> {
  if (auth.kind === 'iam') {
    // IAM tokens are signed for one database user: one signer per session role.
    return connectionConfig(region.target, {
      clock: deps.clock,
      iamUser: role,
      ...(deps.signerFactory ? { signerFactory: deps.signerFactory } : {}),
    });
  }
  const password = deriveSessionPassword(auth.secret, role);
  const admin = region.connectionConfig;
  if (admin.connectionString) {
    const url = new URL(admin.connectionString);
    url.username = encodeURIComponent(role);
    url.password = encodeURIComponent(password);
    return { ...admin, connectionString: url.toString() };
  }
  return { ...admin, user: role, password };
}

interface TenantLoginRow {
  status: string;
  schema_name: string;
  role_name: string | null;
  login_auth: string | null;
  login_exists: boolean;
}

export type LoginCheck =
  { readonly kind: 'ready' } | { readonly kind: 'not-found' } | { readonly kind: 'refused'; readonly error: FleetError };

/**
 * Before opening a new connection for a tenant (never on a warm one): as the administrator, check
 * the tenant is registered and active, its session role exists and is the one expected, and has
 * this application's credentials (else give them, under the registration's row lock; `force`: give
 * them again, after the server refused them: the session itself may have changed its password). The status
 * is checked again, authoritatively, inside every unit of work.
 */
export async function prepareSessionLogin(
  region: RegionDatabase,
  auth: SessionAuth,
  tenant: { id: string; schema: string; role: string },
  options: { force?: boolean } = {},
): Promise<LoginCheck> {
  return withClient(region.controlPool, async (client) => {
    const row = await loginRow(client, tenant.id);
    if (!row) return { kind: 'not-found' };
    if (row.status !== 'active') return { kind: 'refused', error: notActive(tenant.id, row.status) };
    if (row.schema_name !== tenant.schema)
      return {
        kind: 'refused',
        error: new FleetError(
          'REFUSED',
          `tenant ${JSON.stringify(tenant.id)} is registered with schema ${JSON.stringify(row.schema_name)}, not ${JSON.stringify(tenant.schema)} as the id rule says: refusing to guess. Fix the registry row.`,
        ),
      };
    if (row.role_name === null || !row.login_exists || row.role_name !== tenant.role) {
      return {
        kind: 'refused',
        error: new FleetError(
          'REFUSED',
          `tenant ${JSON.stringify(tenant.id)} is active but its session role ${JSON.stringify(tenant.role)} is missing or not registered in fleet.session_roles. Opening the access again (any fleet sql) restores the roles of registered tenants.`,
        ),
      };
    }
    if (row.login_auth === auth.id && !options.force) return { kind: 'ready' };
    await withTransaction(client, async () => {
      const locked = (
        await client.query<{ login_auth: string | null }>(
          'SELECT login_auth FROM fleet.session_roles WHERE tenant_id = $1 AND role_name = $2 FOR UPDATE',
          [tenant.id, tenant.role],
        )
      ).rows[0];
      if (!locked || (locked.login_auth === auth.id && !options.force)) return;
      const r = quoteIdent(tenant.role);
      if (auth.kind === 'iam') {
        await client.query(`GRANT rds_iam TO ${r}`);
      } else {
        const sql = await client.query<{ sql: string }>(`SELECT format('ALTER ROLE %I WITH PASSWORD %L', $1::text, $2::text) AS sql`, [
          tenant.role,
          scramVerifier(deriveSessionPassword(auth.secret, tenant.role)),
        ]);
        await client.query(sql.rows[0]?.sql as string);
      }
      await client.query('UPDATE fleet.session_roles SET login_auth = $2 WHERE role_name = $1', [tenant.role, auth.id]);
    });
    return { kind: 'ready' };
  });
}

async function loginRow(client: pg.ClientBase, tenantId: string): Promise<TenantLoginRow | undefined> {
  const { rows } = await client.query<TenantLoginRow>(
    `SELECT t.status, t.schema_name, s.role_name, s.login_auth,
            EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = s.role_name) AS login_exists
       FROM fleet.tenants t LEFT JOIN fleet.session_roles s ON s.tenant_id = t.id
      WHERE t.id = $1`,
    [tenantId],
  );
  return rows[0];
}

export function notActive(tenantId: string, status: string): FleetError {
  const fix =
    status === 'provisioning'
      ? 'its provisioning has not finished: run fleet tenants add or fleet migrate for it'
      : status === 'disconnected'
        ? 'it is disconnected (uninstalled or silent); a reinstall makes it active again'
        : 'its data has been deleted';
  return new FleetError('TENANT_NOT_ACTIVE', `tenant ${JSON.stringify(tenantId)} is ${status}, not active: ${fix}`);
}
