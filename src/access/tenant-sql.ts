import type pg from 'pg';
import { recordAudit } from '../audit.ts';
import { FleetError } from '../errors.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { withClient } from '../db/scoped.ts';
import { splitStatements } from '../db/split-statements.ts';
import { regionOfTenant } from '../tenants/tenant-row.ts';
import { assertTenantId } from '../tenants/ids.ts';
import type { TenantAccess } from './with-tenant.ts';

/** What to run for runTenantSql, and where it came from. */
export interface TenantSqlOptions {
  readonly tenantId: string;
  readonly sql: string;
  readonly write?: boolean;
  /** Where the SQL came from, for the audit trail: `-c` or the file path. */
  readonly source?: string;
}

export interface StatementResult {
  readonly command: string;
  readonly rowCount: number | null;
  readonly fields: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
}

export interface TenantSqlResult {
  readonly tenant: string;
  readonly region: string;
  readonly write: boolean;
  readonly statements: readonly StatementResult[];
}

const MAX_AUDITED_SQL = 20_000;
const TRANSACTION_CONTROL = /^(begin|start\s+transaction|commit|end|abort|rollback(?!\s+to\b)|prepare\s+transaction)\b/i;

/**
 * `fleet sql`: an operator's SQL in one tenant's scope, through withTenant (the application role,
 * SET LOCAL ROLE to the tenant's role, its schema on the search_path), read-only (BEGIN READ
 * ONLY) unless `write`. Written to the audit log before it runs (action `sql`, with the text) and
 * after (`sql.done`, or `sql.failed` with the SQLSTATE only: see safeFailure). The statements run
 * in order in one transaction: all commit, or none. Each is sent as one protocol message of the
 * extended protocol, so PostgreSQL refuses one that holds two; before each, the transaction is
 * checked to be the one that began; before COMMIT, withTenant checks it is still read-only. So
 * transaction control cannot smuggle a write past a read-only run, whatever the splitter makes of
 * the text. Transaction control the splitter does see is refused before anything runs, as a
 * courtesy: the tool owns the transaction.
 */
export async function runTenantSql(access: TenantAccess, options: TenantSqlOptions): Promise<TenantSqlResult> {
  assertTenantId(options.tenantId);
  const statements = splitSql(options.sql);
  if (statements.length === 0)
    throw new FleetError('INPUT_INVALID', 'no SQL given: pass -c "SELECT ..." or -f FILE with at least one statement');
  const control = statements.filter(isTransactionControl);
  if (control.length > 0) {
    throw new FleetError(
      'INPUT_INVALID',
      'fleet sql runs your statements in a transaction of its own; remove the transaction control (nothing was run):',
      control.map((s) => s.slice(0, 120)),
    );
  }
  const write = options.write === true;
  const region = await regionOf(access, options.tenantId);
  const fleet = access.fleet;
  const audit = (action: string, details: Record<string, unknown>) =>
    withClient(region.controlPool, (client) =>
      recordAudit(client, {
        at: fleet.clock.now(),
        tenantId: options.tenantId,
        action,
        reason: write ? 'operator SQL, read-write' : 'operator SQL, read-only',
        actor: fleet.actor,
        details,
      }),
    );
  await audit('sql', {
    write,
    source: options.source ?? null,
    statements: statements.length,
    sql: options.sql.slice(0, MAX_AUDITED_SQL),
    truncated: options.sql.length > MAX_AUDITED_SQL,
  });
  let current = -1;
  try {
    const results = await access.withTenant(
      options.tenantId,
      async (client) => {
        const out: StatementResult[] = [];
        const began = (await client.query<{ began: string }>(BEGAN_SQL)).rows[0]?.began;
        for (const [i, statement] of statements.entries()) {
          current = i;
          // Still the transaction withTenant began? A COMMIT (or ROLLBACK, PREPARE TRANSACTION,
          // ... AND CHAIN) in the statement before would have ended it: nothing more may run.
          if (i > 0 && (await client.query<{ same: boolean }>(SAME_TRANSACTION_SQL, [began])).rows[0]?.same !== true) {
            throw new FleetError(
              'REFUSED',
              `statement ${i} of the operator's SQL ended the transaction fleet sql began: nothing after it was run, and the unit is rolled back`,
            );
          }
          // One statement per protocol message (the extended protocol): PostgreSQL itself refuses
          // a "statement" that holds more than one, whatever the splitter made of the text.
          // (pg supports queryMode; its type definitions do not list it yet.)
          const message = { text: statement, queryMode: 'extended' } as unknown as pg.QueryConfig;
          const result = (await client.query(message)) as unknown as {
            command: string;
            rowCount: number | null;
            fields?: { name: string }[];
            rows?: Record<string, unknown>[];
          };
          out.push({
            command: result.command,
            rowCount: result.rowCount,
            fields: (result.fields ?? []).map((f) => f.name),
            rows: result.rows ?? [],
          });
        }
        current = -1;
        return out;
      },
      { readOnly: !write, recordContact: false },
    );
    await audit('sql.done', { write, results: results.map((r) => ({ command: r.command, rowCount: r.rowCount })) });
    return { tenant: options.tenantId, region: region.name, write, statements: results };
  } catch (error) {
    await audit('sql.failed', { write, ...safeFailure(error, current) }).catch(() => undefined);
    throw error;
  }
}

const BEGAN_SQL = `SELECT extract(epoch FROM transaction_timestamp())::text AS began`;
const SAME_TRANSACTION_SQL = `SELECT extract(epoch FROM transaction_timestamp()) = $1::numeric AS same`;

/**
 * What the audit trail keeps of a failure: the SQLSTATE and which statement, never PostgreSQL's
 * message or detail (they can quote row values: "Key (email)=(...) already exists"), and the
 * toolkit's own refusals (which name ids and roles, not data) as they are. The audit trail
 * outlives a purge, so no tenant value may reach it.
 */
export function safeFailure(error: unknown, statement: number): { code: string | null; statement: number | null; message: string } {
  const at = statement >= 0 ? statement + 1 : null;
  if (error instanceof FleetError) return { code: error.code, statement: at, message: error.message.slice(0, 1_000) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code))
    return { code, statement: at, message: `PostgreSQL refused${at !== null ? ` statement ${at}` : ''} with SQLSTATE ${code}` };
  return { code: null, statement: at, message: 'failed before or outside the statements (no database error)' };
}

/** The statements of an operator's SQL, blank ones dropped. */
export function splitSql(sql: string): string[] {
  return splitStatements(sql)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** BEGIN, COMMIT, ROLLBACK (not ROLLBACK TO), END, ABORT, START TRANSACTION, PREPARE TRANSACTION. */
export function isTransactionControl(statement: string): boolean {
  return TRANSACTION_CONTROL.test(statement.replace(/^[\s(]+/, ''));
}

async function regionOf(access: TenantAccess, tenantId: string): Promise<RegionDatabase> {
  const regions = access.fleet.regions;
  const found = await regionOfTenant(regions, tenantId);
  if (!found) {
    throw new FleetError(
      'TENANT_NOT_FOUND',
      `tenant ${JSON.stringify(tenantId)} is not registered in ${regions.length === 1 ? `region ${regions[0]?.name}` : `any region (${regions.map((r) => r.name).join(', ')})`}: check the id (fleet tenants list)`,
    );
  }
  return found;
}

/** A PostgreSQL refusal (an error with a SQLSTATE), as opposed to a bug or a usage error. */
export function isDatabaseRefusal(error: unknown): error is Error & { code: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    !(error instanceof FleetError) &&
    /^[0-9A-Z]{5}$/.test(String((error as { code?: unknown }).code ?? ''))
  );
}
