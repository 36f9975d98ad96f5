import pg from 'pg';
import type { Fleet } from '../../fleet.ts';
import type { RegionDatabase } from '../../db/region-database.ts';
import { FleetError } from '../../errors.ts';
import { touchTenant } from '../../tenants/touch.ts';
import { assertTenantId, schemaNameFor } from '../../tenants/ids.ts';
import { sessionRoleName, tenantRoleName } from '../names.ts';
import { prepareSessionLogin, sessionConnectionConfig, type SessionAuth, type SignerFactory } from '../session-login.ts';
import { MoveRefused, SessionPool, type SessionPoolStats } from '../session-pool.ts';
import { claimGateway, GatewayTenantNotFound, moveGateway, scrubGateway, type Gateway } from '../gateways.ts';
import { loginFailed, notFound } from './errors.ts';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  type RegionAccessInfo,
  type TenantAccess,
  type TenantAccessOptions,
  type TenantWork,
  type WithTenantOptions,
} from './types.ts';
import { runUnit, UnitFailed, type UnitOutcome } from './unit.ts';
import { SQLSTATE, sqlStateOf } from '../../db/sqlstate.ts';

interface RegionAccess {
  readonly region: RegionDatabase;
  readonly auth: SessionAuth;
  readonly prefix: string;
  readonly pool: SessionPool;
  /** logins 'gateway': the administrator's connections that move gateways between tenants. */
  readonly movers?: pg.Pool;
}

/** Administrator connections per region for gateway moves: a move is one short round trip. */
const MOVER_CONNECTIONS = 8;

class NotFound extends Error {}

/** The TenantAccess openTenantAccess returns: one session pool per region, units of work through runUnit. */
export class Access implements TenantAccess {
  readonly fleet: Fleet;
  readonly #regions: Map<string, RegionAccess>;
  readonly #maxConnections: number;
  /** Tenant → region. A tenant is pinned to one region, so this mapping (never the status) is cached. */
  readonly #home = new Map<string, RegionAccess>();
  /** Session role → connection settings (IAM: one token signer per role, reused). Bounded. */
  readonly #configs = new Map<string, Promise<pg.ClientConfig>>();
  /** Gateway connections → their gateway (logins: 'gateway'). */
  readonly #gateways = new WeakMap<pg.Client, Gateway>();
  #closed = false;

  constructor(
    fleet: Fleet,
    regions: ReadonlyArray<{ region: RegionDatabase; auth: SessionAuth; prefix: string }>,
    options: TenantAccessOptions & { maxConnections: number },
  ) {
    this.fleet = fleet;
    this.#maxConnections = options.maxConnections;
    this.#regions = new Map(
      regions.map(({ region, auth, prefix }) => {
        const pool = new SessionPool({
          max: options.maxConnections,
          idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
          ...(options.logins === 'gateway'
            ? {
                open: (tenantId: string) =>
                  this.#openGateway(this.#regions.get(region.name) as RegionAccess, tenantId, options.signerFactory),
                move: (client: pg.Client, _from: string, tenantId: string) =>
                  this.#moveGateway(this.#regions.get(region.name) as RegionAccess, client, tenantId),
              }
            : {
                open: (tenantId: string) => this.#connect(this.#regions.get(region.name) as RegionAccess, tenantId, options.signerFactory),
              }),
        });
        const movers =
          options.logins === 'gateway'
            ? new pg.Pool({
                ...region.connectionConfig,
                max: Math.min(MOVER_CONNECTIONS, options.maxConnections),
                idleTimeoutMillis: 10_000,
                application_name: 'fleet-gateway-mover',
              })
            : undefined;
        movers?.on('error', () => undefined);
        return [region.name, { region, auth, prefix, pool, ...(movers ? { movers } : {}) }];
      }),
    );
  }

  /** A region's role prefix and how its session roles authenticate. */
  info(region: string): RegionAccessInfo {
    const r = this.#region(region);
    return {
      region: r.region.name,
      prefix: r.prefix,
      auth: r.auth.kind,
      maxConnections: this.#maxConnections,
      ...(r.auth.kind === 'scram' && r.auth.credentialsFile ? { credentialsFile: r.auth.credentialsFile } : {}),
    };
  }

  /** The name of a tenant's session role in a region. */
  sessionRole(region: string, tenantId: string): string {
    assertTenantId(tenantId);
    return sessionRoleName(this.#region(region).prefix, schemaNameFor(tenantId));
  }

  /** Connections of a region's session pools. */
  stats(region: string): SessionPoolStats {
    return this.#region(region).pool.stats();
  }

  /** One unit of work in one tenant's scope: the contract is on TenantAccess.withTenant (types.ts). */
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

  /** Close every pooled connection; later units are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      [...this.#regions.values()].map(async (r) => {
        await r.pool.close();
        await r.movers?.end();
      }),
    );
  }

  #region(name: string): RegionAccess {
    const found = this.#regions.get(name);
    if (!found)
      throw new FleetError(
        'INPUT_INVALID',
        `unknown region ${JSON.stringify(name)}: this fleet has ${[...this.#regions.keys()].join(', ')}`,
      );
    return found;
  }

  /** The tenant's region: the only one, or the one whose registry has it (read as the administrator: not tenant data). */
  async #homeOf(tenantId: string): Promise<RegionAccess> {
    const all = [...this.#regions.values()];
    if (all.length === 1) return all[0] as RegionAccess;
    const cached = this.#home.get(tenantId);
    if (cached) return cached;
    const hits = await Promise.all(
      all.map(async (r) => ((await r.region.query('SELECT 1 FROM fleet.tenants WHERE id = $1', [tenantId])).rowCount ?? 0) > 0),
    );
    const found = all.find((_, i) => hits[i]);
    if (!found)
      throw notFound(
        tenantId,
        all.map((r) => r.region.name),
      );
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
      if (sqlStateOf(error) !== SQLSTATE.INVALID_PASSWORD || home.auth.kind !== 'scram')
        throw loginFailed(home.region.name, home.auth.kind, tenantId, role, error);
      await prepareSessionLogin(home.region, home.auth, { id: tenantId, schema, role }, { force: true });
      return this.#login(home, tenantId, role, signerFactory).catch((again: unknown) => {
        throw loginFailed(home.region.name, home.auth.kind, tenantId, role, again);
      });
    }
  }

  /** A new gateway connection (claimed for this process), moved to the tenant. */
  async #openGateway(home: RegionAccess, tenantId: string, signerFactory: SignerFactory | undefined): Promise<pg.Client> {
    const gateway = await claimGateway({
      region: home.region,
      auth: home.auth.kind,
      connect: async (role, password) => {
        const base = await sessionConnectionConfig(home.region, home.auth, role, {
          clock: this.fleet.clock,
          ...(signerFactory ? { signerFactory } : {}),
        });
        const config =
          password === undefined
            ? base
            : base.connectionString
              ? { ...base, connectionString: withPassword(base.connectionString, password) }
              : { ...base, password };
        const client = new pg.Client({ ...config, application_name: 'fleet-tenant', connectionTimeoutMillis: 10_000 });
        client.on('error', () => undefined);
        try {
          await client.connect();
        } catch (error) {
          await client.end().catch(() => undefined);
          throw loginFailed(home.region.name, home.auth.kind, tenantId, role, error);
        }
        return client;
      },
    });
    this.#gateways.set(gateway.client, gateway);
    try {
      await this.#moveTo(home, gateway, tenantId);
    } catch (error) {
      await gateway.client.end().catch(() => undefined);
      throw error instanceof GatewayTenantNotFound ? new NotFound() : error;
    }
    return gateway.client;
  }

  /** An idle gateway connection of another tenant, scrubbed and moved to this one (the pool calls this). */
  async #moveGateway(home: RegionAccess, client: pg.Client, tenantId: string): Promise<void> {
    const gateway = this.#gateways.get(client);
    if (!gateway) throw new Error('not a gateway connection');
    // The scrub (on the gateway's connection) and the move (the administrator's) at once: the
    // connection is idle and serves nobody until both are done; a failure of either closes it.
    const [scrubbed, moved] = await Promise.allSettled([scrubGateway(client), this.#moveTo(home, gateway, tenantId)]);
    if (scrubbed.status === 'rejected') throw scrubbed.reason;
    if (moved.status === 'rejected') {
      const error: unknown = moved.reason;
      if (error instanceof GatewayTenantNotFound) throw new MoveRefused(new NotFound());
      if (error instanceof FleetError) throw new MoveRefused(error);
      throw error;
    }
  }

  async #moveTo(home: RegionAccess, gateway: Gateway, tenantId: string): Promise<void> {
    await moveGateway(home.movers ?? home.region, gateway, tenantId, tenantRoleName(home.prefix, schemaNameFor(tenantId)));
  }

  async #login(home: RegionAccess, tenantId: string, role: string, signerFactory: SignerFactory | undefined): Promise<pg.Client> {
    const key = `${home.region.name}\u0000${role}`;
    let config = this.#configs.get(key);
    if (!config) {
      if (this.#configs.size >= 10_000) this.#configs.clear();
      config = sessionConnectionConfig(home.region, home.auth, role, {
        clock: this.fleet.clock,
        ...(signerFactory ? { signerFactory } : {}),
      });
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

  async #run<T>(
    home: RegionAccess,
    tenantId: string,
    schema: string,
    fn: TenantWork<T>,
    options: WithTenantOptions,
  ): Promise<UnitOutcome<T>> {
    let client: pg.Client;
    try {
      client = (await home.pool.acquire(tenantId)).client;
    } catch (error) {
      if (error instanceof NotFound) return { kind: 'not-found', error: notFound(tenantId, [home.region.name]), discard: false };
      throw error;
    }
    const target = {
      tenantId,
      schema,
      role: tenantRoleName(home.prefix, schema),
      readOnly: options.readOnly === true,
      region: home.region.name,
    };
    let discard = true;
    try {
      const outcome = await runUnit(client, target, fn);
      discard = outcome.discard;
      return outcome;
    } catch (error) {
      if (!(error instanceof UnitFailed)) throw error;
      discard = error.discard;
      throw error.error;
    } finally {
      home.pool.release(tenantId, client, discard);
    }
  }
}

function withPassword(connectionString: string, password: string): string {
  const url = new URL(connectionString);
  url.password = encodeURIComponent(password);
  return url.toString();
}
