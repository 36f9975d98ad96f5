import type pg from 'pg';
import type { Fleet } from '../../fleet.ts';
import type { SessionAuth, SignerFactory } from '../session-login.ts';
import type { SessionPoolStats } from '../session-pool.ts';

/** How one unit of work runs. */
export interface WithTenantOptions {
  /** BEGIN READ ONLY, and verified still read-only before COMMIT: PostgreSQL refuses every write in the unit. */
  readonly readOnly?: boolean;
  /** Record the tenant's contact (default true); operator and support work is not the tenant's contact. */
  readonly recordContact?: boolean;
}

/** The caller's work: runs on a connection in the tenant's role and schema, inside the unit's transaction. */
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
  /**
   * Which logins carry the units of work: 'tenant' (default), one login per tenant, a tenant
   * without an idle connection of its own pays a new connection; 'gateway', a fixed set of
   * gateway logins whose idle connections move between tenants (scrubbed, one administrator
   * round trip) instead (gateways.ts): the request path's choice.
   */
  readonly logins?: 'tenant' | 'gateway';
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
  /**
   * One unit of work in one tenant's scope, enforced by PostgreSQL.
   *
   * On a connection logged in as THAT tenant's session role (`<prefix>_l_<schema>`: LOGIN,
   * NOINHERIT, a member of that tenant's role only; never an administrator), in ONE transaction:
   *   1. one simple query (one round trip): BEGIN (READ ONLY when asked); the session's tenant and
   *      its status through fleet_access.session_tenant() (no argument: a session learns only its
   *      own tenant); SET LOCAL ROLE <tenant role>; SET LOCAL search_path TO "<schema>", pg_temp;
   *      the transaction's start time. Status is never cached: it is read in the very transaction
   *      that does the work, so a tenant disconnected a moment ago is refused;
   *   2. unless the tenant is this one and active (else ROLLBACK, before any of fn runs):
   *   3. fn(client);
   *   4. one check, before COMMIT, that fn left the role and search_path as they were, that the
   *      transaction is still the one that began (fn did not COMMIT or ROLLBACK and start another),
   *      that a read-only unit is still read-only (RESET transaction_read_only turns it off on
   *      some majors), and that the tenant's roles own no large object they did not own before
   *      (tenants may not create large objects; a purge drops any they own); else ROLLBACK and
   *      REFUSED;
   *   5. COMMIT (ROLLBACK when fn throws), and any session-level advisory lock fn took is released
   *      in the same round trip: a pooled connection holds no lock after its unit.
   * Unknown ids: TENANT_NOT_FOUND; provisioning, disconnected or purged: TENANT_NOT_ACTIVE; an id
   * that breaks the id rules: INPUT_INVALID, before anything is sent.
   *
   * What PostgreSQL then guarantees, whatever SQL fn runs: SET ROLE is checked against the session
   * user, which is a member of this tenant's role only, so no other tenant's role (nor its session
   * role, nor any other role) can be entered; RESET ROLE lands on the session role, which holds no
   * privilege; SET SESSION AUTHORIZATION needs a superuser session. SQL that fn runs after its own
   * COMMIT runs outside the unit (the check refuses afterwards, but cannot undo it): callers that
   * run SQL they did not write send one statement per protocol message (runTenantSql does).
   *
   * Connections: one pool per tenant (a login per tenant), all of a region's under one cap
   * (`maxConnections`, default 20). The first unit of a tenant (or after eviction) also pays a
   * connection and its SCRAM (or IAM) authentication, and one query as the administrator
   * (session-login.ts). Contact is recorded for stale detection (lifecycle `touchTenant`: at most
   * one write per tenant per minute) unless `recordContact: false`.
   */
  withTenant<T>(tenantId: string, fn: TenantWork<T>, options?: WithTenantOptions): Promise<T>;
  /** A region's role prefix and how its session roles authenticate. */
  info(region: string): RegionAccessInfo;
  /** The name of a tenant's session role (the login withTenant uses for it) in a region. */
  sessionRole(region: string, tenantId: string): string;
  /** Connections of a region's session pools (tests and benchmarks). */
  stats(region: string): SessionPoolStats;
  /** Close every pooled connection; later calls are refused. */
  close(): Promise<void>;
}
