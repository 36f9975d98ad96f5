import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { MigrationFile } from '../migrate/migration-files.ts';
import { quoteIdent } from '../db/quote.ts';
import { tenantSearchPath } from '../db/search-path.ts';
import { splitStatements } from '../db/split-statements.ts';
import { catalogItems, diffItems, type CatalogDifference } from '../verify/catalog.ts';
import { seedSchema } from './seed.ts';

export const CHECK_SCHEMA_PREFIX = 'fleet_check_';

export type CheckProblemKind = 'up-failed' | 'down-failed' | 'down-not-inverse' | 'up-not-rerunnable' | 'up-fails-on-data';

export interface CheckProblem {
  readonly file: string;
  readonly kind: CheckProblemKind;
  readonly detail: string;
}

export interface CheckReport {
  readonly ok: boolean;
  /** Files whose down was checked (every file with a down file, up to the first up that fails). */
  readonly checked: readonly string[];
  readonly problems: readonly CheckProblem[];
}

export interface CheckOptions {
  readonly statementTimeoutMs?: number;
  /** Rows seeded per table before each up runs on data (default 3). */
  readonly seedRows?: number;
}

/** One migration's SQL, as the runner would run it: a transaction, or statement by statement. */
async function runSql(client: pg.ClientBase, sql: string, noTransaction: boolean): Promise<void> {
  if (noTransaction) {
    for (const statement of splitStatements(sql)) await client.query(statement);
    return;
  }
  await client.query('BEGIN');
  try {
    await client.query(sql);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function messageOf(error: unknown): string {
  const e = error as { message?: string; detail?: string; code?: string };
  return [e.message ?? String(error), e.detail, e.code ? `(SQLSTATE ${e.code})` : undefined].filter(Boolean).join(' ');
}

export function describeDifference(diff: CatalogDifference): string {
  return [
    ...diff.missing.map((m) => `missing after the down: ${m}`),
    ...diff.extra.map((x) => `left behind by the down: ${x}`),
    ...diff.changed.map((c) => `changed by up + down: ${c.item}: was ${c.expected}, now ${c.actual}`),
  ].join('; ');
}

function isEmpty(diff: CatalogDifference): boolean {
  return diff.missing.length === 0 && diff.extra.length === 0 && diff.changed.length === 0;
}

/**
 * Run an up on the schema as it stands with a few rows in every table, and roll everything back:
 * a NOT NULL column without a default, a bad cast or a unique index over duplicates fails here
 * instead of on the first tenant with data. CONCURRENTLY is dropped so the build fits the
 * transaction; what it builds is the same.
 */
async function upOnData(client: pg.ClientBase, schema: string, file: MigrationFile, rows: number): Promise<string | undefined> {
  await client.query('BEGIN');
  try {
    await seedSchema(client, schema, rows);
    const sql = file.noTransaction
      ? splitStatements(file.sql)
          .map((s) => s.replace(/\bconcurrently\b/gi, ''))
          .join(';\n')
      : file.sql;
    await client.query('SAVEPOINT up');
    await client.query(sql);
    return undefined;
  } catch (error) {
    return messageOf(error);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/**
 * `fleet migration check`: in a scratch schema (created here, dropped at the end), apply the
 * migrations in order; for each that has a down file record the catalog before it (fleet
 * verify's comparison), apply the up, the down, compare, then the up again. Every up also runs
 * once on the schema seeded with rows. Reports every problem, not just the first; after a down
 * that did not restore the schema, the schema is rebuilt so later files are checked on the state
 * a tenant would have.
 */
export async function checkMigrations(
  client: pg.ClientBase,
  files: readonly MigrationFile[],
  options: CheckOptions = {},
): Promise<CheckReport> {
  const schema = `${CHECK_SCHEMA_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  const problems: CheckProblem[] = [];
  const checked: string[] = [];
  const seedRows = options.seedRows ?? 3;
  const reset = async (upTo: number) => {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE; CREATE SCHEMA ${quoteIdent(schema)}`);
    for (const file of files.slice(0, upTo)) await runSql(client, file.sql, file.noTransaction);
  };
  const items = async () => (await catalogItems(client, [schema])).get(schema) ?? new Map<string, string>();
  try {
    await client.query(`SELECT set_config('search_path', $1, false), set_config('statement_timeout', $2, false)`, [
      tenantSearchPath(schema),
      `${options.statementTimeoutMs ?? 600_000}ms`,
    ]);
    await reset(0);
    for (const [i, file] of files.entries()) {
      const name = `${file.name}.sql`;
      const onData = await upOnData(client, schema, file, seedRows);
      if (onData !== undefined)
        problems.push({ file: name, kind: 'up-fails-on-data', detail: `with ${seedRows} row(s) in every table the up fails: ${onData}` });
      const before = file.down ? await items() : undefined;
      try {
        await runSql(client, file.sql, file.noTransaction);
      } catch (error) {
        problems.push({
          file: name,
          kind: 'up-failed',
          detail: `the up fails after the migrations before it: ${messageOf(error)}; later files were not checked`,
        });
        break;
      }
      if (!file.down || !before) continue;
      checked.push(name);
      const downName = `${file.name}.down.sql`;
      try {
        await runSql(client, file.down.sql, file.down.noTransaction);
      } catch (error) {
        problems.push({ file: downName, kind: 'down-failed', detail: `the down fails right after its up: ${messageOf(error)}` });
        await reset(i + 1);
        continue;
      }
      const diff = diffItems(before, await items());
      if (!isEmpty(diff)) problems.push({ file: downName, kind: 'down-not-inverse', detail: describeDifference(diff) });
      try {
        await runSql(client, file.sql, file.noTransaction);
      } catch (error) {
        problems.push({ file: name, kind: 'up-not-rerunnable', detail: `after the down, the up fails again: ${messageOf(error)}` });
        await reset(i + 1);
        continue;
      }
      if (!isEmpty(diff)) await reset(i + 1);
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
    await client.query('RESET search_path; RESET statement_timeout').catch(() => undefined);
  }
  return { ok: problems.length === 0, checked, problems };
}
