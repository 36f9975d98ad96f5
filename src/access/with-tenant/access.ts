import pg from 'pg';
import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { quoteIdent } from '../db/quote.ts';
import { isConnectionError, withTransaction } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { touchTenant } from '../lifecycle/touch.ts';
import { assertTenantId, schemaNameFor } from '../tenants/ids.ts';
import { lockTenantForTransaction } from '../tenants/tenant-lock.ts';
import { readRolePrefix, sessionRoleName, tenantRoleName } from './names.ts';
import { notActive, prepareSessionLogin, resolveSessionAuth, sessionConnectionConfig, type SessionAuth, type SignerFactory } from './session-login.ts';
import { SessionPool, type SessionPoolStats } from './session-pool.ts';
import { createTenantRole, missingRolesCondition } from './tenant-role.ts';

/**
 * `withTenant(tenantId, fn)`: one unit of work in one tenant's scope, enforced by PostgreSQL.
 *
 * On a connection logged in as THAT tenant's session role (`<prefix>_l_<schema>`: LOGIN,
 * NOINHERIT, a member of that tenant's role only; never an administrator), in ONE transaction:
 *   1. one simple query (one round trip): BEGIN (READ ONLY when asked); the session's tenant and
 *      its status through fleet_access.session_tenant() (no argument: a session learns only its
 *      own tenant); SET LOCAL ROLE <tenant role>; SET LOCAL search_path TO "<schema>", pg_temp
 *      (identifiers quoted, no value in the text). Status is never cached: it is read in the very
 *      transaction that does the work, so a tenant disconnected a moment ago is refused;
 *   2. unless the tenant is this one and active (else ROLLBACK, before any of fn runs):
 *   3. fn(client);
 *   4. a check that fn left the role and search_path as they were (else ROLLBACK and REFUSED);
 *   5. COMMIT (ROLLBACK when fn throws).
 * Unknown ids: TENANT_NOT_FOUND; provisioning, disconnected or purged: TENANT_NOT_ACTIVE; an id
 * that breaks the id rules: INPUT_INVALID, before anything is sent.
 *
 * What PostgreSQL then guarantees, whatever SQL fn runs: SET ROLE is checked against the session
 * user, which is a member of this tenant's role only, so no other tenant's role (nor its session
 * role, nor any other role) can be entered; RESET ROLE lands on the session role, which holds no
 * privilege; SET SESSION AUTHORIZATION needs a superuser session.
 *
 * Connections: one pool per tenant (a login per tenant), all of a region's under one cap
 * (`maxConnections`, default 20): a tenant without an idle connection takes a free slot or the
 * least recently used idle connection's. A unit on a warm connection costs what it did with a shared
 * login; the first unit of a tenant (or after eviction) also pays a connection and its SCRAM (or
 * IAM) authentication, and one query as the administrator (the tenant, its session role and
 * whether that login has this application's credentials yet: session-login.ts).
 *
 * Contact is recorded for stale detection (lifecycle `touchTenant`: at most one write per tenant
 * per minute) unless `recordContact: false` (operator and support work is not the tenant's contact).
 */
export interface WithTenantOptions {
  /** BEGIN READ ONLY: PostgreSQL refuses every write in the unit. */
  readonly readOnly?: boolean;
  /** Record the tenant's contact (default true). */
  readonly recordContact?: boolean;
}

export type TenantWork<T> = (client: pg.ClientBase) => Promise<T>;

export const DEFAULT_MAX_CONNECTIONS = 20;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export interface TenantAccessOptions {
  /** Open connections per region, all tenants together (default 20); idle ones of other tenants are closed least recently used first. */
  readonly maxConnections?: number;
  /** Idle connections close after this long (default 30 s). */
  readonly idleTimeoutMs?: number;
  /** The application secret (FLEET_APP_SECRET) from which session passwords are derived; default: the credentials file. */
  readonly appSecret?: string;
  /** Where a generated application secret lives; default `<package>/.fleet/credentials`. */
  readonly credentialsDir?: string;
  /** IAM token signers (AWS regions); tests inject one. */
  readonly signerFactory?: SignerFactory;
}

export interface RegionAccessInfo {
  readonly region: string;
  readonly prefix: string;
  /** 'scram' (a password derived from the application secret) or 'iam'. */
  readonly auth: SessionAuth['kind'];
  /** Where the generated application secret is kept, when the tool made it. */
  readonly credentialsFile?: string;
  readonly maxConnections: number;
}

export interface TenantAccess {
  readonly fleet: Fleet;
  withTenant<T>(tenantId: string, fn: TenantWork<T>, options?: WithTenantOptions): Promise<T>;
  /** A region's role prefix and how its session roles authenticate. */
  info(region: string): RegionAccessInfo;
  /** The name of a tenant's session role (the login withTenant uses for it) in a region. */
  sessionRole(region: string, tenantId: string): string;
  /** Connections of a region's session pools (tests and benchmarks). */
  stats(region: string): SessionPoolStats;
  close(): Promise<void>;
}

/** Set up (idempotently) every region's access: the secret, missing tenant roles; no connection is opened yet. */
export async function openTenantAccess(fleet: Fleet, options: TenantAccessOptions = {}): Promise<TenantAccess> {
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new FleetError('CONFIG_INVALID', `maxConnections ${maxConnections} is not a positive integer`);
  const regions = await Promise.all(
    fleet.regions.map(async (region) => {
      const auth = await resolveSessionAuth(region, {
        clock: fleet.clock,
        ...(options.appSecret !== undefined ? { appSecret: options.appSecret } : {}),
        ...(options.credentialsDir !== undefined ? { credentialsDir: options.credentialsDir } : {}),
      });
      const prefix = await withClientTx(region, async (client) => {
        const p = await readRolePrefix(client);
        await backfillTenantRoles(client, p);
        return p;
      });
      return { region, auth, prefix };
    }),
  );
  return new Access(fleet, regions, { ...options, maxConnections });
}

async function withClientTx<T>(region: RegionDatabase, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await region.controlPool.connect();
  try {
    return await withTransaction(client, () => fn(client));
  } finally {
    client.release();
  }
}

/**
 * Tenants provisioned before session roles existed (or whose roles went missing): active or
 * disconnected, schema present, a role missing. Create their roles now, each under the tenant's
 * lock with its status re-read. createTenantRole is idempotent, so a disagreement costs a no-op.
 */
export async function backfillTenantRoles(client: pg.ClientBase, prefix: string): Promise<string[]> {
  const missing = missingRolesCondition(prefix);
  const { rows } = await client.query<{ id: string; schema_name: string }>(
    `SELECT t.id, t.schema_name FROM fleet.tenants t
      WHERE t.status IN ('active', 'disconnected')
        AND EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = t.schema_name)
        AND ${missing.sql}
      ORDER BY t.id`,
    missing.params,
  );
  const created: string[] = [];
  for (const tenant of rows) {
    await lockTenantForTransaction(client, tenant.id);
    const still = await client.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1', [tenant.id]);
    const status = still.rows[0]?.status;
    if (status === 'active' || status === 'disconnected') {
      await createTenantRole(client, { id: tenant.id, schema: tenant.schema_name });
      created.push(tenant.id);
    }
  }
  return created;
}

/**
 * BEGIN, the session's tenant and status, SET LOCAL ROLE and SET LOCAL search_path: one simple
 * query, one round trip. Only identifiers reach the text (quoted); no value does. The role is
 * taken before the status is known, but nothing runs in it: a tenant that is not active (or a
 * dirty connection) is rolled back before fn is called.
 */
function enterSql(readOnly: boolean, role: string, schema: string): string {
  return [
    readOnly ? 'BEGIN READ ONLY' : 'BEGIN',
    'SELECT s.tenant_id, s.status, s.schema_name, current_user <> session_user AS dirty FROM fleet_access.session_tenant() AS s',
    `SET LOCAL ROLE ${quoteIdent(role)}`,
    `SET LOCAL search_path TO ${quoteIdent(schema)}, pg_temp`,
    // As the server spells it: what the check after fn compares with.
    `SELECT current_setting('search_path') AS path`,
  ].join('; ');
}

const CHECK_SQL = `SELECT current_user::text = $1 AS role_ok, current_setting('search_path') = $2 AS path_ok,
                          current_user::text AS role, pg_catalog.pg_my_temp_schema() <> 0 AS has_temp`;

interface EnterRow {
  tenant_id: string;
  status: string;
  schema_name: string;
  dirty: boolean;
}

interface RegionAccess {
  readonly region: RegionDatabase;
  readonly auth: SessionAuth;
  readonly prefix: string;
  readonly pool: SessionPool;
}

type Outcome<T> = { kind: 'done'; value: T } | { kind: 'not-found' | 'dirty'; error: FleetError };

class NotFound extends Error {}

class Access implements TenantAccess {
  readonly fleet: Fleet;
  readonly #regions: Map<string, RegionAccess>;
  readonly #maxConnections: number;
  /** Tenant → region. A tenant is pinned to one region, so this mapping (never the status) is cached. */
  readonly #home = new Map<string, RegionAccess>();
  /** Session role → connection settings (IAM: one token signer per role, reused). Bounded. */
  readonly #configs = new Map<string, Promise<pg.ClientConfig>>();
  #closed = false;

  constructor(fleet: Fleet, regions: ReadonlyArray<{ region: RegionDatabase; auth: SessionAuth; prefix: string }>, options: TenantAccessOptions & { maxConnections: number }) {
    this.fleet = fleet;
    this.#maxConnections = options.maxConnections;
    this.#regions = new Map(
      regions.map(({ region, auth, prefix }) => {
        const pool = new SessionPool({
          max: options.maxConnections,
          idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
          open: (tenantId) => this.#connect(this.#regions.get(region.name) as RegionAccess, tenantId, options.signerFactory),
        });
        return [region.name, { region, auth, prefix, pool }];
      }),
    );
  }

  info(region: string): RegionAccessInfo {
    const r = this.#region(region);
    return { region: r.region.name, prefix: r.prefix, auth: r.auth.kind, maxConnections: this.#maxConnections, ...(r.auth.kind === 'scram' && r.auth.credentialsFile ? { credentialsFile: r.auth.credentialsFile } : {}) };
  }

  sessionRole(region: string, tenantId: string): string {
    assertTenantId(tenantId);
    return sessionRoleName(this.#region(region).prefix, schemaNameFor(tenantId));
  }

  stats(region: string): SessionPoolStats {
    return this.#region(region).pool.stats();
  }

  async withTenant<T>(tenantId: string, fn: TenantWork<T>, options: WithTenantOptions = {}): Promise<T> {
    if (this.#closed) throw new FleetError('REFUSED', 'this TenantAccess is closed: open another with openTenantAccess');
    assertTenantId(tenantId);
    const schema = schemaNameFor(tenantId);
    if (options.recordContact !== false) await touchTenant(this.fleet, tenantId);
    let home = await this.#homeOf(tenantId);
    for (let attempt = 0; ; attempt += 1) {
      const outcome = await this.#run(home, tenantId, schema, fn, options);
      if (outcome.kind === 'done') return outcome.value;
      // A stale cached region (tenant purged and registered elsewhere) or a connection some
      // earlier unit left in another role: look again / take another connection, once.
      if (attempt > 0) throw outcome.error;
      if (outcome.kind === 'not-found') {
        if (!this.#home.has(tenantId)) throw outcome.error;
        this.#home.delete(tenantId);
        home = await this.#homeOf(tenantId);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#regions.values()].map((r) => r.pool.close()));
  }

  #region(name: string): RegionAccess {
    const found = this.#regions.get(name);
    if (!found) throw new FleetError('INPUT_INVALID', `unknown region ${JSON.stringify(name)}: this fleet has ${[...this.#regions.keys()].join(', ')}`);
    return found;
  }

  /** The tenant's region: the only one, or the one whose registry has it (read as the administrator: not tenant data). */
  async #homeOf(tenantId: string): Promise<RegionAccess> {
    const all = [...this.#regions.values()];
    if (all.length === 1) return all[0] as RegionAccess;
    const cached = this.#home.get(tenantId);
    if (cached) return cached;
    const hits = await Promise.all(all.map(async (r) => ((await r.region.query('SELECT 1 FROM fleet.tenants WHERE id = $1', [tenantId])).rowCount ?? 0) > 0));
    const found = all.find((_, i) => hits[i]);
    if (!found) throw notFound(tenantId, all.map((r) => r.region.name));
    if (this.#home.size >= 100_000) this.#home.clear();
    this.#home.set(tenantId, found);
    return found;
  }

  /** A new connection as the tenant's session role (the pool calls this within its cap). */
  async #connect(home: RegionAccess, tenantId: string, signerFactory: SignerFactory | undefined): Promise<pg.Client> {
    const schema = schemaNameFor(tenantId);
    const role = sessionRoleName(home.prefix, schema);
    const check = await prepareSessionLogin(home.region, home.auth, { id: tenantId, schema, role });
    if (check.kind === 'not-found') throw new NotFound();
    if (check.kind === 'refused') throw check.error;
    try {
      return await this.#login(home, tenantId, role, signerFactory);
    } catch (error) {
      // Password refused though recorded as set: set it again, once (a session may ALTER its own password).
      if ((error as { code?: string }).code !== INVALID_PASSWORD || home.auth.kind !== 'scram') throw loginFailed(home, tenantId, role, error);
      await prepareSessionLogin(home.region, home.auth, { id: tenantId, schema, role }, { force: true });
      return this.#login(home, tenantId, role, signerFactory).catch((again: unknown) => {
        throw loginFailed(home, tenantId, role, again);
      });
    }
  }

  async #login(home: RegionAccess, tenantId: string, role: string, signerFactory: SignerFactory | undefined): Promise<pg.Client> {
    const key = `${home.region.name}\u0000${role}`;
    let config = this.#configs.get(key);
    if (!config) {
      if (this.#configs.size >= 10_000) this.#configs.clear();
      config = sessionConnectionConfig(home.region, home.auth, role, { clock: this.fleet.clock, ...(signerFactory ? { signerFactory } : {}) });
      config.catch(() => this.#configs.delete(key));
      this.#configs.set(key, config);
    }
    const client = new pg.Client({ ...(await config), application_name: 'fleet-tenant', connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  async #run<T>(home: RegionAccess, tenantId: string, schema: string, fn: TenantWork<T>, options: WithTenantOptions): Promise<Outcome<T>> {
    const role = tenantRoleName(home.prefix, schema);
    let client: pg.Client;
    try {
      client = (await home.pool.acquire(tenantId)).client;
    } catch (error) {
      if (error instanceof NotFound) return { kind: 'not-found', error: notFound(tenantId, [home.region.name]) };
      throw error;
    }
    let discard = false;
    try {
      let row: EnterRow | undefined;
      let searchPath: string | undefined;
      try {
        const results = (await client.query(enterSql(options.readOnly === true, role, schema))) as unknown as pg.QueryResult[];
        row = results[1]?.rows[0] as EnterRow | undefined;
        searchPath = (results[4]?.rows[0] as { path?: string } | undefined)?.path;
      } catch (error) {
        throw enterFailed(tenantId, role, error);
      }
      if (!row) {
        // The session role is no longer registered: the tenant was purged (its roles dropped).
        discard = true;
        await client.query('ROLLBACK');
        return { kind: 'not-found', error: notFound(tenantId, [home.region.name]) };
      }
      if (row.tenant_id !== tenantId) throw new FleetError('REFUSED', `the session role of tenant ${JSON.stringify(tenantId)} is registered to tenant ${JSON.stringify(row.tenant_id)}: refusing. Fix fleet.session_roles.`);
      if (row.status !== 'active') throw notActive(tenantId, row.status);
      if (row.schema_name !== schema) throw new FleetError('REFUSED', `tenant ${JSON.stringify(tenantId)} is registered with schema ${JSON.stringify(row.schema_name)}, not ${JSON.stringify(schema)} as the id rule says: refusing to guess. Fix the registry row.`);
      if (row.dirty) {
        discard = true;
        return { kind: 'dirty', error: new FleetError('REFUSED', 'a pooled connection was left in another role by an earlier unit of work; it was discarded') };
      }

      const value = await fn(client);

      const check = (await client.query<{ role_ok: boolean; path_ok: boolean; role: string; has_temp: boolean }>(CHECK_SQL, [role, searchPath])).rows[0];
      if (!check?.role_ok || !check.path_ok) {
        discard = true;
        throw new FleetError(
          'REFUSED',
          `the unit of work for tenant ${JSON.stringify(tenantId)} ended as role ${JSON.stringify(check?.role)} with another search_path than withTenant set (or ended the transaction itself): rolled back. Do not SET ROLE, SET search_path, COMMIT or ROLLBACK inside withTenant.`,
        );
      }
      // Temporary objects outlive the transaction on a pooled connection: such a connection is not reused.
      if (check.has_temp) discard = true;
      await client.query('COMMIT');
      return { kind: 'done', value };
    } catch (error) {
      if (isConnectionError(error)) discard = true;
      await client.query('ROLLBACK').catch(() => {
        discard = true;
      });
      throw error;
    } finally {
      if (discard) await client.query('ROLLBACK').catch(() => undefined);
      home.pool.release(tenantId, client, discard);
    }
  }
}

const INVALID_PASSWORD = '28P01';

function loginFailed(home: RegionAccess, tenantId: string, role: string, error: unknown): FleetError {
  return new FleetError(
    'DATABASE_UNAVAILABLE',
    `cannot connect to region ${home.region.name} as the session role ${JSON.stringify(role)} of tenant ${JSON.stringify(tenantId)}: ${(error as Error).message}. ${home.auth.kind === 'iam' ? 'Check the application may rds-db:connect as <prefix>_l_* database users.' : 'Every application host must use the same secret (FLEET_APP_SECRET, or the same credentials file).'}`,
  );
}

function notFound(tenantId: string, regions: readonly string[]): FleetError {
  return new FleetError('TENANT_NOT_FOUND', `tenant ${JSON.stringify(tenantId)} is not registered in ${regions.length === 1 ? `region ${regions[0]}` : `any region (${regions.join(', ')})`}: check the id (fleet tenants list), or add it (fleet tenants add)`);
}

function enterFailed(tenantId: string, role: string, error: unknown): unknown {
  const code = (error as { code?: string }).code;
  // 42501: not a member of the role; 22023: the role does not exist.
  if (code === '42501' || code === '22023') {
    return new FleetError('REFUSED', `tenant ${JSON.stringify(tenantId)} is active but its role ${JSON.stringify(role)} is missing or not granted to its session role (${(error as Error).message}). Opening the access again (any fleet sql) restores the roles of registered tenants.`);
  }
  return error;
}
