import type pg from 'pg';
import { quoteIdent } from '../../db/quote.ts';
import { tenantSearchPath } from '../../db/search-path.ts';
import { isConnectionError } from '../../db/scoped.ts';
import { FleetError } from '../../errors.ts';
import { notActive } from '../session-login.ts';
import { enterFailed, notFound } from './errors.ts';
import type { TenantWork } from './types.ts';

/** What one unit of work needs to know about its tenant. */
export interface UnitTarget {
  readonly tenantId: string;
  readonly schema: string;
  /** The tenant's privilege role, entered with SET LOCAL ROLE. */
  readonly role: string;
  readonly readOnly: boolean;
  /** The region's name, for messages. */
  readonly region: string;
}

export type UnitOutcome<T> =
  | { readonly kind: 'done'; readonly value: T; readonly discard: boolean }
  | { readonly kind: 'not-found' | 'dirty'; readonly error: FleetError; readonly discard: boolean };

interface EnterRow {
  tenant_id: string;
  status: string;
  schema_name: string;
  dirty: boolean;
}

interface CheckRow {
  role_ok: boolean;
  path_ok: boolean;
  same_transaction: boolean;
  read_only_ok: boolean;
  no_large_objects: boolean;
  role: string;
  has_temp: boolean;
}

/**
 * BEGIN, the session's tenant and status, SET LOCAL ROLE and SET LOCAL search_path, and the
 * transaction's identity: one simple query, one round trip. Only identifiers reach the text
 * (quoted); no value does. The role is taken before the status is known, but nothing runs in it:
 * a tenant that is not active (or a dirty connection) is rolled back before fn is called.
 */
export function enterSql(readOnly: boolean, role: string, schema: string): string {
  return [
    readOnly ? 'BEGIN READ ONLY' : 'BEGIN',
    'SELECT s.tenant_id, s.status, s.schema_name, current_user <> session_user AS dirty FROM fleet_access.session_tenant() AS s',
    `SET LOCAL ROLE ${quoteIdent(role)}`,
    `SET LOCAL search_path TO ${tenantSearchPath(schema)}, pg_temp`,
    // The search_path as the server spells it, and the transaction's start (an epoch, free of
    // DateStyle and TimeZone): what the check before COMMIT compares with. A COMMIT inside fn
    // followed by a new BEGIN gets a new start time; fn cannot choose it.
    // The large objects the tenant's roles own already (none, unless made before they were
    // refused): the check lets fn read, write or unlink those, never add one.
    `SELECT current_setting('search_path') AS path, extract(epoch FROM transaction_timestamp())::text AS began,
            (SELECT coalesce(array_agg(m.oid), '{}') FROM pg_catalog.pg_largeobject_metadata m
              WHERE m.lomowner IN (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname IN (current_user, session_user)))::text AS large_objects`,
  ].join('; ');
}

/**
 * The check before COMMIT, in one query: role and search_path as entered, the same transaction,
 * still read-only when it began so (and nothing written: a unit could turn read-only off, write,
 * and turn it on again; a transaction that wrote anything has a transaction id), and no new large object owned by the tenant's roles (tenants
 * may not create large objects: the tenant copy and export know only schemas; the purge drops
 * any the roles own, never reassigns them).
 * pg_largeobject_metadata is read by PUBLIC and has no owner index: a scan of a table that holds
 * no tenant's rows.
 */
export const CHECK_SQL = `SELECT current_user::text = $1 AS role_ok,
       current_setting('search_path') = $2 AS path_ok,
       extract(epoch FROM transaction_timestamp()) = $3::numeric AS same_transaction,
       (NOT $4::boolean OR (current_setting('transaction_read_only') = 'on' AND pg_catalog.pg_current_xact_id_if_assigned() IS NULL)) AS read_only_ok,
       NOT EXISTS (SELECT 1 FROM pg_catalog.pg_largeobject_metadata m
                    WHERE m.lomowner IN (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname IN ($1, session_user))
                      AND m.oid <> ALL ($5::oid[])) AS no_large_objects,
       current_user::text AS role, pg_catalog.pg_my_temp_schema() <> 0 AS has_temp`;

/** COMMIT, and any session-level advisory lock fn took let go: a pooled connection keeps none. */
const COMMIT_SQL = 'COMMIT; SELECT pg_catalog.pg_advisory_unlock_all()';
const ROLLBACK_SQL = 'ROLLBACK; SELECT pg_catalog.pg_advisory_unlock_all()';

/**
 * Run fn as one unit of work on `client` (logged in as the tenant's session role): enter, check
 * the session's tenant, fn, check, COMMIT. Returns whether the connection must be discarded
 * rather than pooled again; throws what fn throws (after ROLLBACK) and REFUSED when a check fails.
 */
export async function runUnit<T>(client: pg.ClientBase, target: UnitTarget, fn: TenantWork<T>): Promise<UnitOutcome<T>> {
  const { tenantId, schema, role, readOnly } = target;
  let discard = false;
  try {
    let row: EnterRow | undefined;
    let searchPath: string | undefined;
    let began: string | undefined;
    let largeObjects: string | undefined;
    try {
      const results = (await client.query(enterSql(readOnly, role, schema))) as unknown as pg.QueryResult[];
      row = results[1]?.rows[0] as EnterRow | undefined;
      const marks = results[4]?.rows[0] as { path?: string; began?: string; large_objects?: string } | undefined;
      searchPath = marks?.path;
      began = marks?.began;
      largeObjects = marks?.large_objects;
    } catch (error) {
      throw enterFailed(tenantId, role, error);
    }
    if (!row) {
      // The session role is no longer registered: the tenant was purged (its roles dropped).
      await client.query(ROLLBACK_SQL);
      return { kind: 'not-found', error: notFound(tenantId, [target.region]), discard: true };
    }
    if (row.tenant_id !== tenantId)
      throw new FleetError(
        'REFUSED',
        `the session role of tenant ${JSON.stringify(tenantId)} is registered to tenant ${JSON.stringify(row.tenant_id)}: refusing. Fix fleet.session_roles.`,
      );
    if (row.status !== 'active') throw notActive(tenantId, row.status);
    if (row.schema_name !== schema)
      throw new FleetError(
        'REFUSED',
        `tenant ${JSON.stringify(tenantId)} is registered with schema ${JSON.stringify(row.schema_name)}, not ${JSON.stringify(schema)} as the id rule says: refusing to guess. Fix the registry row.`,
      );
    if (row.dirty) {
      await client.query(ROLLBACK_SQL).catch(() => undefined);
      return {
        kind: 'dirty',
        error: new FleetError('REFUSED', 'a pooled connection was left in another role by an earlier unit of work; it was discarded'),
        discard: true,
      };
    }

    const value = await fn(client);

    const check = (await client.query<CheckRow>(CHECK_SQL, [role, searchPath, began, readOnly, largeObjects])).rows[0];
    const problems = [
      ...(!check?.role_ok || !check.path_ok
        ? [
            `it ended as role ${JSON.stringify(check?.role)} or with another search_path than withTenant set (do not SET ROLE or SET search_path inside withTenant)`,
          ]
        : []),
      ...(check && !check.same_transaction
        ? ['it ended the transaction withTenant began and ran in another (do not COMMIT, ROLLBACK or BEGIN inside withTenant)']
        : []),
      ...(check && !check.read_only_ok ? ['it turned read-only off (RESET or SET transaction_read_only) in a read-only unit'] : []),
      ...(check && !check.no_large_objects
        ? [
            'it created a large object (lo_create, lo_import, lo_from_bytea): tenants may not create large objects; store bytes in a bytea column',
          ]
        : []),
    ];
    if (problems.length > 0) {
      discard = !check?.role_ok || !check.path_ok || !check.same_transaction;
      throw new FleetError('REFUSED', `the unit of work for tenant ${JSON.stringify(tenantId)} was rolled back:`, problems);
    }
    // Temporary objects outlive the transaction on a pooled connection: such a connection is not reused.
    if (check?.has_temp) discard = true;
    await client.query(COMMIT_SQL);
    return { kind: 'done', value, discard };
  } catch (error) {
    if (isConnectionError(error)) discard = true;
    await client.query(ROLLBACK_SQL).catch(() => {
      discard = true;
    });
    if (discard) await client.query('ROLLBACK').catch(() => undefined);
    throw new UnitFailed(error, discard);
  }
}

/** fn's error (or a refusal), with whether the connection must be discarded. */
export class UnitFailed extends Error {
  constructor(
    readonly error: unknown,
    readonly discard: boolean,
  ) {
    super('unit of work failed');
  }
}
