import { recordAudit } from '../audit.ts';
import { FleetError } from '../errors.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { withClient } from '../db/scoped.ts';
import { splitStatements } from '../db/split-statements.ts';
import { regionOfTenant } from '../tenants/tenant-row.ts';
import { assertTenantId } from '../tenants/ids.ts';
import type { TenantAccess } from './with-tenant.ts';

/**
 * `fleet sql`: an operator's SQL in one tenant's scope, through withTenant (the application role,
 * SET LOCAL ROLE to the tenant's role, its schema on the search_path), read-only (BEGIN READ
 * ONLY) unless `write`. Written to the audit log before it runs (action `sql`, with the text) and
 * after (`sql.done` or `sql.failed`, with the outcome). The statements run in order in one
 * transaction: all commit, or none. Transaction control (BEGIN, COMMIT, ROLLBACK, ...) is refused
 * before anything runs: the tool owns the transaction.
 */
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

export async function runTenantSql(access: TenantAccess, options: TenantSqlOptions): Promise<TenantSqlResult> {
  assertTenantId(options.tenantId);
  const statements = splitSql(options.sql);
  if (statements.length === 0) throw new FleetError('INPUT_INVALID', 'no SQL given: pass -c "SELECT ..." or -f FILE with at least one statement');
  const control = statements.filter(isTransactionControl);
  if (control.length > 0) {
    throw new FleetError('INPUT_INVALID', 'fleet sql runs your statements in a transaction of its own; remove the transaction control (nothing was run):', control.map((s) => s.slice(0, 120)));
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
  await audit('sql', { write, source: options.source ?? null, statements: statements.length, sql: options.sql.slice(0, MAX_AUDITED_SQL), truncated: options.sql.length > MAX_AUDITED_SQL });
  try {
    const results = await access.withTenant(
      options.tenantId,
      async (client) => {
        const out: StatementResult[] = [];
        for (const statement of statements) {
          const raw = (await client.query(statement)) as unknown;
          for (const r of Array.isArray(raw) ? raw : [raw]) {
            const result = r as { command: string; rowCount: number | null; fields?: { name: string }[]; rows?: Record<string, unknown>[] };
            out.push({ command: result.command, rowCount: result.rowCount, fields: (result.fields ?? []).map((f) => f.name), rows: result.rows ?? [] });
          }
        }
        return out;
      },
      { readOnly: !write, recordContact: false },
    );
    await audit('sql.done', { write, results: results.map((r) => ({ command: r.command, rowCount: r.rowCount })) });
    return { tenant: options.tenantId, region: region.name, write, statements: results };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    await audit('sql.failed', { write, code: e.code ?? null, message: e.message ?? String(error) }).catch(() => undefined);
    throw error;
  }
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
    throw new FleetError('TENANT_NOT_FOUND', `tenant ${JSON.stringify(tenantId)} is not registered in ${regions.length === 1 ? `region ${regions[0]?.name}` : `any region (${regions.map((r) => r.name).join(', ')})`}: check the id (fleet tenants list)`);
  }
  return found;
}

/** A PostgreSQL refusal (an error with a SQLSTATE), as opposed to a bug or a usage error. */
export function isDatabaseRefusal(error: unknown): error is Error & { code: string } {
  return typeof error === 'object' && error !== null && !(error instanceof FleetError) && /^[0-9A-Z]{5}$/.test(String((error as { code?: unknown }).code ?? ''));
}
