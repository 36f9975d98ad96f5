import pg from 'pg';
import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import type { AuthTokenSigner } from '../db/iam-auth.ts';
import { quoteIdent } from '../db/quote.ts';
import { isConnectionError } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { touchTenant } from '../lifecycle/touch.ts';
import { assertTenantId, schemaNameFor } from '../tenants/ids.ts';
import { ensureAppRole, type AppConnection } from './app-role.ts';
import { tenantRoleName } from './names.ts';

/**
 * `withTenant(tenantId, fn)`: one unit of work in one tenant's scope, enforced by PostgreSQL.
 *
 * On a pool connected as the application's login role (never an administrator), in ONE transaction:
 *   1. BEGIN (READ ONLY when asked);
 *   2. one statement that reads the tenant's status through fleet.tenant_status(id) and, only when
 *      it is `active`, does `set_config('role', <tenant role>, true)` and
 *      `set_config('search_path', '"<schema>", pg_temp', true)`: SET LOCAL ROLE and SET LOCAL
 *      search_path, values bound as parameters. Status is never cached: it is read in the very
 *      transaction that does the work, so a tenant disconnected a moment ago is refused;
 *   3. fn(client);
 *   4. a check that fn left the role and search_path as they were (else ROLLBACK and REFUSED);
 *   5. COMMIT (ROLLBACK when fn throws).
 * Unknown ids: TENANT_NOT_FOUND; provisioning, disconnected or purged: TENANT_NOT_ACTIVE; an id
 * that breaks the id rules: INPUT_INVALID, before anything is sent. The tenant role is NOLOGIN
 * and holds only its schema, so SQL that names another tenant's schema gets `permission denied`
 * from PostgreSQL; `RESET ROLE` lands on the login role, which reads no tenant.
 *
 * Contact is recorded for stale detection (lifecycle `touchTenant`: at most one write per tenant
 * per minute) unless `recordContact: false` (operator and support work is not the tenant's contact).
 *
 * Limit (inherent to one login role for all tenants): the login role may SET ROLE to any tenant
 * role, so code running inside fn that issues `SET ROLE <another tenant's role>` is not stopped by
 * PostgreSQL. The check in step 4 rolls back a unit that ends in another role, but reads made
 * before switching back cannot be undone. fn must be trusted application code with parameterised
 * queries; docs/access.md says more.
 */
export interface WithTenantOptions {
  /** BEGIN READ ONLY: PostgreSQL refuses every write in the unit. */
  readonly readOnly?: boolean;
  /** Record the tenant's contact (default true). */
  readonly recordContact?: boolean;
}

export type TenantWork<T> = (client: pg.ClientBase) => Promise<T>;

export interface TenantAccessOptions {
  /** Connections per region for tenant work; default the fleet's runner.concurrency. */
  readonly poolSize?: number;
  /** Where generated application credentials live; default `<package>/.fleet/credentials`. */
  readonly credentialsDir?: string;
  /** Connect as this application user (FLEET_APP_DATABASE_URL); one-region fleets only. */
  readonly appUrl?: string;
  readonly signerFactory?: (options: { hostname: string; port: number; username: string; region: string }) => Promise<AuthTokenSigner>;
}

export interface TenantAccess {
  readonly fleet: Fleet;
  withTenant<T>(tenantId: string, fn: TenantWork<T>, options?: WithTenantOptions): Promise<T>;
  /** How a region's application role connects (role name, connection settings). */
  app(region: string): AppConnection;
  /** The pool of a region's application role (benchmarks and tests; do tenant work through withTenant). */
  pool(region: string): pg.Pool;
  close(): Promise<void>;
}

/** Set up (idempotently) and connect the application role of every region of the fleet. */
export async function openTenantAccess(fleet: Fleet, options: TenantAccessOptions = {}): Promise<TenantAccess> {
  if (options.appUrl !== undefined && fleet.regions.length !== 1) {
    throw new FleetError('CONFIG_INVALID', `FLEET_APP_DATABASE_URL names one database, but this fleet has ${fleet.regions.length} regions: open one region (FLEET_DATABASE_URL) or unset it`);
  }
  const apps = await Promise.all(
    fleet.regions.map((region) =>
      ensureAppRole(region, {
        clock: fleet.clock,
        iamAppUser: fleet.config.databaseUsers.app,
        ...(options.credentialsDir !== undefined ? { credentialsDir: options.credentialsDir } : {}),
        ...(options.appUrl !== undefined ? { appUrl: options.appUrl } : {}),
        ...(options.signerFactory ? { signerFactory: options.signerFactory } : {}),
      }),
    ),
  );
  return new Access(fleet, apps, options.poolSize ?? fleet.config.runner.concurrency);
}

const ENTER_SQL = `
SELECT s.status, s.schema_name,
       CASE WHEN current_user <> session_user THEN NULL
            WHEN s.status = 'active' AND s.schema_name = $2
              THEN set_config('role', $3, true) || set_config('search_path', $4, true)
            ELSE '' END AS entered
  FROM fleet.tenant_status($1) AS s`;

const CHECK_SQL = `SELECT current_user::text = $1 AS role_ok, current_setting('search_path') = $2 AS path_ok,
                          current_user::text AS role, pg_catalog.pg_my_temp_schema() <> 0 AS has_temp`;

interface EnterRow {
  status: string;
  schema_name: string;
  entered: string | null;
}

interface RegionAccess {
  readonly region: RegionDatabase;
  readonly app: AppConnection;
  readonly pool: pg.Pool;
}

class Access implements TenantAccess {
  readonly fleet: Fleet;
  readonly #regions: Map<string, RegionAccess>;
  /** Tenant → region. A tenant is pinned to one region, so this mapping (never the status) is cached. */
  readonly #home = new Map<string, RegionAccess>();
  #closed = false;

  constructor(fleet: Fleet, apps: readonly AppConnection[], poolSize: number) {
    this.fleet = fleet;
    this.#regions = new Map(
      apps.map((app) => {
        const pool = new pg.Pool({ ...app.connection, max: poolSize, idleTimeoutMillis: 10_000, application_name: 'fleet-app' });
        pool.on('error', () => undefined);
        return [app.region, { region: fleet.region(app.region), app, pool }];
      }),
    );
  }

  app(region: string): AppConnection {
    return this.#region(region).app;
  }

  pool(region: string): pg.Pool {
    return this.#region(region).pool;
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
    await Promise.all([...this.#regions.values()].map((r) => r.pool.end()));
  }

  #region(name: string): RegionAccess {
    const found = this.#regions.get(name);
    if (!found) throw new FleetError('INPUT_INVALID', `unknown region ${JSON.stringify(name)}: this fleet has ${[...this.#regions.keys()].join(', ')}`);
    return found;
  }

  async #homeOf(tenantId: string): Promise<RegionAccess> {
    const all = [...this.#regions.values()];
    if (all.length === 1) return all[0] as RegionAccess;
    const cached = this.#home.get(tenantId);
    if (cached) return cached;
    const hits = await Promise.all(all.map(async (r) => ((await r.pool.query('SELECT 1 FROM fleet.tenant_status($1)', [tenantId])).rowCount ?? 0) > 0));
    const found = all.find((_, i) => hits[i]);
    if (!found) throw notFound(tenantId, all.map((r) => r.region.name));
    if (this.#home.size >= 100_000) this.#home.clear();
    this.#home.set(tenantId, found);
    return found;
  }

  async #run<T>(home: RegionAccess, tenantId: string, schema: string, fn: TenantWork<T>, options: WithTenantOptions): Promise<{ kind: 'done'; value: T } | { kind: 'not-found' | 'dirty'; error: FleetError }> {
    const role = tenantRoleName(home.app.prefix, schema);
    const searchPath = `${quoteIdent(schema)}, pg_temp`;
    const client = await home.pool.connect();
    let discard = false;
    try {
      await client.query(options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
      let row: EnterRow | undefined;
      try {
        row = (await client.query<EnterRow>(ENTER_SQL, [tenantId, schema, role, searchPath])).rows[0];
      } catch (error) {
        throw enterFailed(tenantId, role, error);
      }
      if (!row) {
        await client.query('ROLLBACK');
        return { kind: 'not-found', error: notFound(tenantId, [home.region.name]) };
      }
      if (row.status !== 'active') throw notActive(tenantId, row.status);
      if (row.schema_name !== schema) throw new FleetError('REFUSED', `tenant ${JSON.stringify(tenantId)} is registered with schema ${JSON.stringify(row.schema_name)}, not ${JSON.stringify(schema)} as the id rule says: refusing to guess. Fix the registry row.`);
      if (row.entered === null) {
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
      client.release(discard ? true : undefined);
    }
  }
}

function notFound(tenantId: string, regions: readonly string[]): FleetError {
  return new FleetError('TENANT_NOT_FOUND', `tenant ${JSON.stringify(tenantId)} is not registered in ${regions.length === 1 ? `region ${regions[0]}` : `any region (${regions.join(', ')})`}: check the id (fleet tenants list), or add it (fleet tenants add)`);
}

function notActive(tenantId: string, status: string): FleetError {
  const fix =
    status === 'provisioning'
      ? 'its provisioning has not finished: run fleet tenants add or fleet migrate for it'
      : status === 'disconnected'
        ? 'it is disconnected (uninstalled or silent); a reinstall makes it active again'
        : 'its data has been deleted';
  return new FleetError('TENANT_NOT_ACTIVE', `tenant ${JSON.stringify(tenantId)} is ${status}, not active: ${fix}`);
}

function enterFailed(tenantId: string, role: string, error: unknown): unknown {
  const code = (error as { code?: string }).code;
  // 42501: not a member of the role; 22023: the role does not exist.
  if (code === '42501' || code === '22023') {
    return new FleetError('REFUSED', `tenant ${JSON.stringify(tenantId)} is active but its role ${JSON.stringify(role)} is missing or not granted to the application role (${(error as Error).message}). Opening the access again (any fleet sql) restores the roles of registered tenants.`);
  }
  return error;
}
