import type pg from 'pg';
import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { recordAudit } from '../audit.ts';
import { quoteIdent } from '../db/quote.ts';
import { tenantSearchPath } from '../db/search-path.ts';
import { withTransaction } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { lockTenantForTransaction } from '../tenants/tenant-lock.ts';
import { regionOfTenant } from '../tenants/tenant-row.ts';
import { assertTenantId } from '../tenants/ids.ts';
import { MAX_SUPPORT_TTL_MS, MIN_SUPPORT_TTL_MS, formatDuration } from './duration.ts';
import { FLEET_ROLE_PATTERN } from './cleanup.ts';
import { isFleetRole, readRolePrefix } from './names.ts';
import { generatePassword, scramVerifier } from './scram.ts';
import { GRANT_CONNECT_LOCK_SQL } from './tenant-role.ts';

/**
 * Support access, time-boxed and ticket-bound. A grant is a role `<prefix>_support_<n>` that may
 * read one tenant's schema (USAGE, SELECT on its tables and sequences, and on tables a migration
 * adds meanwhile) and nothing else: no write privilege at all, and `default_transaction_read_only`
 * on for its sessions. It expires after its ttl (at most 8 hours): `sweepSupportGrants`, safe to run
 * every minute, revokes every expired grant (drops the role, ends its sessions).
 *
 * - Without `to`: a LOGIN role with a generated password, `VALID UNTIL` its expiry, the tenant's
 *   schema as its search_path. The password is returned once and stored nowhere.
 * - With `to`: a NOLOGIN role granted to that database user (e.g. a staff member's IAM user): the
 *   user runs `SET ROLE <role>`. Revoking drops the role, and with it the membership.
 *
 * Every grant and revoke is an audit event (`support.granted`, `support.revoked`) naming the ticket.
 * Grant ids are `<region>-<n>`, e.g. `eu-12`.
 */
export interface GrantSupportOptions {
  readonly tenantId: string;
  readonly ticket: string;
  /** Milliseconds, from 1 minute to 8 hours (parseTtl reads "2h", "90m"). */
  readonly ttlMs: number;
  /** A database user to grant the role to, instead of a login of its own. */
  readonly to?: string;
}

export type GrantState = 'active' | 'expired' | 'revoked';

export interface SupportGrant {
  readonly id: string;
  readonly region: string;
  readonly tenant: string;
  readonly schema: string;
  readonly role: string;
  readonly ticket: string;
  readonly grantedTo: string | null;
  readonly grantedBy: string;
  readonly grantedAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
  readonly revokeReason: string | null;
  /** active until it expires; expired until a sweep revokes it; then revoked. */
  readonly state: GrantState;
}

export interface SupportLogin {
  readonly user: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** postgres://user:password@host:port/database */
  readonly url: string;
}

export interface GrantSupportResult {
  readonly grant: SupportGrant;
  /** Only for a grant without `to`: how to log in. Shown once, stored nowhere. */
  readonly login?: SupportLogin;
}

export interface RevokeResult {
  readonly grant: SupportGrant;
  /** False when it was already revoked. */
  readonly changed: boolean;
}

const TICKET_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]{0,198}[\x21-\x7e])?$/;
const GRANT_ID_PATTERN = /^(?:([a-z][a-z0-9]{0,15})-)?([1-9][0-9]{0,17})$/;

interface GrantRow {
  id: string;
  tenant_id: string;
  schema_name: string;
  role_name: string;
  ticket: string;
  granted_to: string | null;
  granted_by: string;
  granted_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_by: string | null;
  revoke_reason: string | null;
}

const GRANT_COLUMNS =
  'id::text AS id, tenant_id, schema_name, role_name, ticket, granted_to, granted_by, granted_at, expires_at, revoked_at, revoked_by, revoke_reason';

export async function grantSupport(fleet: Fleet, options: GrantSupportOptions): Promise<GrantSupportResult> {
  assertTenantId(options.tenantId);
  const problems: string[] = [];
  if (!TICKET_PATTERN.test(options.ticket))
    problems.push(
      `ticket ${JSON.stringify(options.ticket)} is not a ticket reference: 1-200 visible characters (e.g. SUP-1234 or a ticket URL)`,
    );
  if (!Number.isFinite(options.ttlMs) || options.ttlMs < MIN_SUPPORT_TTL_MS || options.ttlMs > MAX_SUPPORT_TTL_MS)
    problems.push(`ttl ${formatDuration(options.ttlMs)} is outside 1m..8h: support access is time-boxed to at most 8 hours`);
  if (options.to !== undefined && (options.to.length === 0 || Buffer.byteLength(options.to) > 63 || options.to.includes('\u0000')))
    problems.push(`--to ${JSON.stringify(options.to)} is not a database user name (1-63 bytes)`);
  if (problems.length > 0) throw new FleetError('INPUT_INVALID', 'support grant refused; nothing was changed:', problems);

  const region = await tenantRegion(fleet, options.tenantId);
  const client = await region.controlPool.connect();
  let password: string | undefined;
  let row: GrantRow;
  try {
    row = await withTransaction(client, async () => {
      await lockTenantForTransaction(client, options.tenantId);
      const tenant = (
        await client.query<{ status: string; schema_name: string }>(
          'SELECT status, schema_name FROM fleet.tenants WHERE id = $1 FOR SHARE',
          [options.tenantId],
        )
      ).rows[0];
      if (!tenant) throw notFound(options.tenantId, fleet);
      if (tenant.status !== 'active' && tenant.status !== 'disconnected') {
        throw new FleetError(
          'TENANT_NOT_ACTIVE',
          `tenant ${JSON.stringify(options.tenantId)} is ${tenant.status}: there is no data to support (only active or disconnected tenants can get a support grant)`,
        );
      }
      const prefix = await readRolePrefix(client);
      const who = (await client.query<{ me: string; db: string }>('SELECT current_user::text AS me, current_database()::text AS db'))
        .rows[0] as { me: string; db: string };
      const me = who.me;
      if (options.to !== undefined) await assertStaffLogin(client, prefix, options.to);
      const now = fleet.clock.now();
      const expires = new Date(now.getTime() + options.ttlMs);
      const inserted = await client.query<GrantRow>(
        `WITH next AS (SELECT nextval(pg_catalog.pg_get_serial_sequence('fleet.support_grants', 'id')) AS id)
         INSERT INTO fleet.support_grants (id, tenant_id, schema_name, role_name, ticket, granted_to, granted_by, granted_at, expires_at)
         OVERRIDING SYSTEM VALUE
         SELECT next.id, $1, $2, $3 || '_support_' || next.id, $4, $5, $6, $7, $8 FROM next
         RETURNING ${GRANT_COLUMNS}`,
        [options.tenantId, tenant.schema_name, prefix, options.ticket, options.to ?? null, fleet.actor, now, expires],
      );
      const grant = inserted.rows[0] as GrantRow;
      const r = quoteIdent(grant.role_name);
      const s = quoteIdent(grant.schema_name);
      if (options.to === undefined) {
        password = generatePassword();
        const sql = await client.query<{ sql: string }>(
          `SELECT format('CREATE ROLE %I WITH LOGIN NOINHERIT CONNECTION LIMIT 5 VALID UNTIL %L PASSWORD %L', $1::text, $2::text, $3::text) AS sql`,
          [grant.role_name, expires.toISOString(), scramVerifier(password)],
        );
        await client.query(sql.rows[0]?.sql as string);
      } else {
        await client.query(`CREATE ROLE ${r} WITH NOLOGIN NOINHERIT`);
      }
      await client.query(
        [
          `ALTER ROLE ${r} SET default_transaction_read_only = on`,
          `ALTER ROLE ${r} SET search_path TO ${tenantSearchPath(grant.schema_name)}`,
          `GRANT USAGE ON SCHEMA ${s} TO ${r}`,
          `GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${r}`,
          `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`,
          `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(me)} IN SCHEMA ${s} GRANT SELECT ON TABLES TO ${r}`,
          ...(options.to !== undefined ? [`GRANT ${r} TO ${quoteIdent(options.to)}`] : []),
          // PUBLIC has no CONNECT on a fleet database (control migration 0006).
          GRANT_CONNECT_LOCK_SQL,
          `GRANT CONNECT ON DATABASE ${quoteIdent(who.db)} TO ${options.to !== undefined ? quoteIdent(options.to) : r}`,
        ].join(';\n'),
      );
      await recordAudit(client, {
        at: now,
        tenantId: options.tenantId,
        action: 'support.granted',
        reason: `ticket ${options.ticket}`,
        actor: fleet.actor,
        details: {
          grantId: grantId(region.name, grant.id),
          ticket: options.ticket,
          role: grant.role_name,
          to: options.to ?? null,
          readOnly: true,
          ttl: formatDuration(options.ttlMs),
          expiresAt: expires.toISOString(),
        },
      });
      return grant;
    });
  } finally {
    client.release();
  }
  const grant = toGrant(region.name, row, fleet.clock.now());
  if (password === undefined) return { grant };
  return { grant, login: loginFor(region, row.role_name, password) };
}

interface StaffLoginRow {
  rolcanlogin: boolean;
  rolsuper: boolean;
  rolinherit: boolean;
  powers: boolean;
  member_of: string[] | null;
  has_members: boolean;
}

/**
 * A `--to` login must be a staff member's plain login: LOGIN, NOINHERIT (so the grant's privileges
 * are used only after SET ROLE, and end with the role), a member of no role (but rds_iam), no
 * powers, and none of any fleet's roles on this server (tenant, session or support roles of this
 * database or of another one: their names have the shape of FLEET_ROLE_PATTERN).
 */
async function assertStaffLogin(client: pg.ClientBase, prefix: string, to: string): Promise<void> {
  const user = (
    await client.query<StaffLoginRow>(
      `SELECT r.rolcanlogin, r.rolsuper, r.rolinherit,
              (r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls) AS powers,
              (SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                WHERE m.member = r.oid AND g.rolname <> 'rds_iam') AS member_of,
              EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE m.roleid = r.oid) AS has_members
         FROM pg_catalog.pg_roles r WHERE r.rolname = $1`,
      [to],
    )
  ).rows[0];
  const name = JSON.stringify(to);
  const refuse = !user
    ? `no database user ${name} exists: create the staff member's login first (in AWS, an IAM database user granted rds_iam)`
    : isFleetRole(prefix, to) || new RegExp(FLEET_ROLE_PATTERN).test(to)
      ? `${name} is one of a fleet's own roles (tenant, session or support role, of this database or another): name a staff member's login`
      : !user.rolcanlogin
        ? `${name} cannot log in: name a staff member's login role`
        : user.rolsuper
          ? `${name} is a superuser, who reads every tenant anyway: a support grant would be meaningless; name a staff member's ordinary login`
          : user.rolinherit
            ? `${name} is INHERIT: it would read the tenant's tables without SET ROLE and keep doing so in open sessions; make it NOINHERIT (ALTER ROLE ${quoteIdent(to)} NOINHERIT) or name another login`
            : user.powers
              ? `${name} has CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS: name a staff member's ordinary login`
              : user.member_of !== null
                ? `${name} is a member of ${user.member_of.join(', ')}: a support login must be a member of nothing else (revoke those, or name another login)`
                : user.has_members
                  ? `${name} has members (other roles inherit or SET ROLE through it): name a staff member's own login`
                  : undefined;
  if (refuse) throw new FleetError('INPUT_INVALID', `support grant refused, nothing was changed: ${refuse}`);
}

/**
 * Revoke every grant whose time is up, as a side effect of any fleet work (opening the tenant
 * access, every fleet command): support access ends when it says even with no sweep scheduled.
 * Cheap when nothing is due: one indexed query per region. `fleet support sweep` on a schedule is
 * the second line.
 */
export async function enforceSupportExpiry(fleet: Fleet): Promise<number> {
  const { revoked } = await sweepSupportGrants(fleet);
  return revoked.length;
}

/** Grants of every region, newest first: open ones (active or expired, not yet swept), or all. */
export async function listSupportGrants(fleet: Fleet, options: { all?: boolean; tenantId?: string } = {}): Promise<SupportGrant[]> {
  const now = fleet.clock.now();
  const lists = await Promise.all(
    fleet.regions.map(async (region) => {
      const { rows } = await region.query<GrantRow>(
        `SELECT ${GRANT_COLUMNS} FROM fleet.support_grants
          WHERE ($1::boolean OR revoked_at IS NULL) AND ($2::text IS NULL OR tenant_id = $2)
          ORDER BY granted_at DESC, id DESC`,
        [options.all === true, options.tenantId ?? null],
      );
      return rows.map((row) => toGrant(region.name, row, now));
    }),
  );
  return lists.flat().sort((a, b) => b.grantedAt.getTime() - a.grantedAt.getTime());
}

/** Revoke one grant now: its sessions end, its role and privileges go. Idempotent. */
export async function revokeSupportGrant(
  fleet: Fleet,
  id: string,
  options: { reason?: 'revoked' | 'expired' } = {},
): Promise<RevokeResult> {
  const { region, n } = parseGrantId(fleet, id);
  return revokeIn(fleet, region, n, options.reason ?? 'revoked');
}

/**
 * Revoke every grant whose time is up. Safe to run every minute and from several places at once:
 * each grant is revoked under its row lock, and one already revoked is left alone.
 */
export async function sweepSupportGrants(fleet: Fleet): Promise<{ revoked: SupportGrant[] }> {
  const now = fleet.clock.now();
  const revoked: SupportGrant[] = [];
  for (const region of fleet.regions) {
    const due = await region.query<{ id: string }>(
      'SELECT id::text AS id FROM fleet.support_grants WHERE revoked_at IS NULL AND expires_at <= $1 ORDER BY id',
      [now],
    );
    for (const { id } of due.rows) {
      const result = await revokeIn(fleet, region, id, 'expired');
      if (result.changed) revoked.push(result.grant);
    }
  }
  return { revoked };
}

async function revokeIn(fleet: Fleet, region: RegionDatabase, n: string, reason: 'revoked' | 'expired'): Promise<RevokeResult> {
  const client = await region.controlPool.connect();
  let oid: string | undefined;
  try {
    const result = await withTransaction(client, async (): Promise<RevokeResult> => {
      const row = (await client.query<GrantRow>(`SELECT ${GRANT_COLUMNS} FROM fleet.support_grants WHERE id = $1 FOR UPDATE`, [n])).rows[0];
      if (!row) throw new FleetError('INPUT_INVALID', `no support grant ${grantId(region.name, n)}: see fleet support list --all`);
      const now = fleet.clock.now();
      if (row.revoked_at !== null) return { grant: toGrant(region.name, row, now), changed: false };
      const role = (
        await client.query<{ oid: string; me: string }>(
          'SELECT oid::text AS oid, current_user::text AS me FROM pg_catalog.pg_roles WHERE rolname = $1',
          [row.role_name],
        )
      ).rows[0];
      if (role) {
        oid = role.oid;
        await terminateSessions(client, role.oid);
        const r = quoteIdent(row.role_name);
        // Nothing is reassigned: what the grant's role made (a large object) goes with it.
        await client.query([`DROP OWNED BY ${r}`, `DROP ROLE ${r}`].join(';\n'));
      }
      const updated = (
        await client.query<GrantRow>(
          `UPDATE fleet.support_grants SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 WHERE id = $1 RETURNING ${GRANT_COLUMNS}`,
          [n, now, fleet.actor, reason],
        )
      ).rows[0] as GrantRow;
      await recordAudit(client, {
        at: now,
        tenantId: row.tenant_id,
        action: 'support.revoked',
        reason: `ticket ${row.ticket}: ${reason === 'expired' ? `expired ${row.expires_at.toISOString()}` : 'revoked before expiry'}`,
        actor: fleet.actor,
        details: {
          grantId: grantId(region.name, n),
          ticket: row.ticket,
          role: row.role_name,
          to: row.granted_to,
          cause: reason,
          expiresAt: row.expires_at.toISOString(),
        },
      });
      return { grant: toGrant(region.name, updated, now), changed: true };
    });
    // A login that slipped in before the DROP committed: the role is gone now, end it too.
    if (oid !== undefined) await terminateSessions(client, oid);
    return result;
  } finally {
    client.release();
  }
}

async function terminateSessions(client: pg.ClientBase, oid: string): Promise<void> {
  await client.query(
    'SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usesysid = $1::oid AND pid <> pg_catalog.pg_backend_pid()',
    [oid],
  );
}

function parseGrantId(fleet: Fleet, id: string): { region: RegionDatabase; n: string } {
  const match = GRANT_ID_PATTERN.exec(id);
  if (!match)
    throw new FleetError(
      'INPUT_INVALID',
      `${JSON.stringify(id)} is not a support grant id: <region>-<number> as fleet support list prints it, e.g. eu-12`,
    );
  const [, regionName, n] = match;
  if (regionName === undefined) {
    if (fleet.regions.length !== 1)
      throw new FleetError(
        'INPUT_INVALID',
        `grant id ${JSON.stringify(id)} names no region, and this fleet has ${fleet.regions.length}: write <region>-${n}`,
      );
    return { region: fleet.regions[0] as RegionDatabase, n: n as string };
  }
  return { region: fleet.region(regionName), n: n as string };
}

export function grantId(region: string, n: string | number): string {
  return `${region}-${n}`;
}

function toGrant(region: string, row: GrantRow, now: Date): SupportGrant {
  const state: GrantState = row.revoked_at !== null ? 'revoked' : row.expires_at.getTime() <= now.getTime() ? 'expired' : 'active';
  return {
    id: grantId(region, row.id),
    region,
    tenant: row.tenant_id,
    schema: row.schema_name,
    role: row.role_name,
    ticket: row.ticket,
    grantedTo: row.granted_to,
    grantedBy: row.granted_by,
    grantedAt: row.granted_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    revokeReason: row.revoke_reason,
    state,
  };
}

async function tenantRegion(fleet: Fleet, tenantId: string): Promise<RegionDatabase> {
  const found = await regionOfTenant(fleet.regions, tenantId);
  if (!found) throw notFound(tenantId, fleet);
  return found;
}

function notFound(tenantId: string, fleet: Fleet): FleetError {
  return new FleetError(
    'TENANT_NOT_FOUND',
    `tenant ${JSON.stringify(tenantId)} is not registered in ${fleet.regions.length === 1 ? `region ${fleet.regions[0]?.name}` : 'any region'}: check the id (fleet tenants list)`,
  );
}

function loginFor(region: RegionDatabase, user: string, password: string): SupportLogin {
  const target = region.target;
  let host = '127.0.0.1';
  let port = 5432;
  let database = 'postgres';
  if (target.kind === 'iam') {
    host = target.host;
    port = target.port;
    database = target.database;
  } else {
    const raw = region.connectionConfig.connectionString;
    if (raw) {
      const u = new URL(raw);
      host = u.hostname;
      port = Number(u.port || 5432);
      database = decodeURIComponent(u.pathname.replace(/^\//, '')) || database;
    }
  }
  const url = new URL(`postgres://${host}:${port}/`);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  url.pathname = `/${encodeURIComponent(database)}`;
  if (target.kind === 'iam') url.searchParams.set('sslmode', 'verify-full');
  return { user, password, host, port, database, url: url.toString() };
}
