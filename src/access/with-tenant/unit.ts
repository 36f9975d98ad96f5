import type pg from 'pg';
import { quoteIdent } from '../../db/quote.ts';
import { tenantSearchPath } from '../../db/search-path.ts';
import { isConnectionError } from '../../db/scoped.ts';
import { FleetError } from '../../errors.ts';
import { notActive } from '../session-login.ts';
import { enterFailed, notFound } from './errors.ts';
import { SQLSTATE, sqlStateOf } from '../../db/sqlstate.ts';
import { queryThenCommit } from '../../db/then-commit.ts';
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

/**
 * BEGIN, the session's tenant and status, SET LOCAL ROLE and SET LOCAL search_path, and the
 * unit's marks: one simple query, one round trip. Only identifiers reach the text (quoted); no
 * value does. The role is taken before the status is known, but nothing runs in it: a tenant that
 * is not active (or a dirty connection) is rolled back before fn is called. The marks
 * (fleet_access.unit_marks, control migration 0013) are what the check before COMMIT compares
 * with: the search_path as the server spells it; the transaction's start (a COMMIT inside fn
 * followed by a new BEGIN gets a new one, which fn cannot choose); and the large objects the
 * tenant's roles own already (none, unless made before they were refused), which fn may read,
 * write or unlink, never add to.
 */
export function enterSql(readOnly: boolean, role: string, schema: string): string {
  return [
    readOnly ? 'BEGIN READ ONLY' : 'BEGIN',
    'SELECT s.tenant_id, s.status, s.schema_name, current_user <> session_user AS dirty FROM fleet_access.session_tenant() AS s',
    `SET LOCAL ROLE ${quoteIdent(role)}`,
    `SET LOCAL search_path TO ${tenantSearchPath(schema)}, pg_temp`,
    "SELECT * FROM fleet_access.unit_marks(pg_catalog.current_setting('search_path'))",
  ].join('; ');
}

/**
 * The check before COMMIT (fleet_access.unit_check), sent with the COMMIT in one message: role
 * and search_path as entered, the same transaction, still read-only when it began so (and nothing
 * written: a unit could turn read-only off, write, and turn it on again; a transaction that wrote
 * anything has a transaction id), and no new large object owned by the tenant's roles (tenants may
 * not create large objects: the tenant copy and export know only schemas; the purge drops any the
 * roles own, never reassigns them). It raises SQLSTATE.UNIT_CHECK_FAILED with the failed checks as
 * DETAIL (the COMMIT is then skipped and the unit rolled back). It also lets go of session-level
 * advisory locks fn took (a pooled connection keeps none) and answers whether the session has a
 * temporary schema (read as text: no row or anything but 'f' discards the connection).
 */
export const CHECK_SQL =
  "SELECT fleet_access.unit_check($1::text, $2::text, $3::numeric, $4::boolean, $5::oid[], pg_catalog.current_setting('search_path')) AS has_temp";

const CHECK_PROBLEMS: Record<string, string> = {
  role: 'it ended as another role or with another search_path than withTenant set (do not SET ROLE or SET search_path inside withTenant)',
  transaction: 'it ended the transaction withTenant began and ran in another (do not COMMIT, ROLLBACK or BEGIN inside withTenant)',
  read_only: 'it turned read-only off (RESET or SET transaction_read_only) in a read-only unit',
  large_object:
    'it created a large object (lo_create, lo_import, lo_from_bytea): tenants may not create large objects; store bytes in a bytea column',
};

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

    let hasTemp: boolean;
    try {
      // The check and COMMIT in one round trip: a check that fails aborts the transaction before
      // the COMMIT behind it runs (the server skips to the Sync); the ROLLBACK below ends it.
      // Unnamed: the gateway scrub's DEALLOCATE ALL would drop a named statement.
      const { firstRow } = await queryThenCommit(client, {
        text: CHECK_SQL,
        values: [role, searchPath ?? null, began ?? null, readOnly, largeObjects ?? null],
      });
      hasTemp = firstRow?.[0] !== 'f';
    } catch (error) {
      if (sqlStateOf(error) !== SQLSTATE.UNIT_CHECK_FAILED) throw error;
      const failed = String((error as { detail?: unknown }).detail ?? '').split(',');
      discard = failed.includes('role') || failed.includes('transaction');
      throw new FleetError(
        'REFUSED',
        `the unit of work for tenant ${JSON.stringify(tenantId)} was rolled back:`,
        failed.map((key) => CHECK_PROBLEMS[key] ?? key),
      );
    }
    // Temporary objects outlive the transaction on a pooled connection: such a connection is not reused.
    if (hasTemp) discard = true;
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
