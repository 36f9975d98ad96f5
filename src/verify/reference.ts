import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from '../db/quote.ts';
import { tenantSearchPath } from '../db/search-path.ts';
import type { MigrationFile } from '../migrate/migration-files.ts';
import { withTransaction } from '../db/scoped.ts';
import { splitStatements } from '../db/split-statements.ts';
import { setLocalTimeoutsSql } from '../db/timeouts.ts';

/** Scratch schemas are named so: a leftover of a killed verify is easy to spot (and never a tenant's: those start with t_). */
export const SCRATCH_SCHEMA_PREFIX = 'fleet_verify_';

export interface ReferenceOptions {
  readonly statementTimeoutMs: number;
}

/**
 * Build the schema a list of migrations should produce in a scratch schema, hand it to `inspect`
 * (which may query the catalog, the scratch schema and the tenants' schemas alike), then remove it.
 *
 * Normally everything happens inside one transaction that is rolled back: nothing is ever
 * committed. A migration marked `-- fleet:no-transaction` (CREATE INDEX CONCURRENTLY) cannot run
 * in a transaction block; then the scratch schema is committed and dropped afterwards.
 */
export async function withReferenceSchema<T>(
  client: pg.ClientBase,
  files: readonly MigrationFile[],
  options: ReferenceOptions,
  inspect: (scratchSchema: string) => Promise<T>,
): Promise<T> {
  const scratch = `${SCRATCH_SCHEMA_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  if (!files.some((f) => f.noTransaction)) {
    return withTransaction(
      client,
      async () => {
        await client.query(
          `CREATE SCHEMA ${quoteIdent(scratch)}; SET LOCAL search_path TO ${tenantSearchPath(scratch)}; ${setLocalTimeoutsSql({ statementTimeoutMs: options.statementTimeoutMs })}`,
        );
        for (const file of files) await client.query(file.sql);
        return inspect(scratch);
      },
      { rollback: true },
    );
  }
  try {
    await client.query(`CREATE SCHEMA ${quoteIdent(scratch)}`);
    await client.query(`SELECT set_config('search_path', $1, false), set_config('statement_timeout', $2, false)`, [
      tenantSearchPath(scratch),
      `${options.statementTimeoutMs}ms`,
    ]);
    for (const file of files) {
      if (file.noTransaction) {
        for (const statement of splitStatements(file.sql)) await client.query(statement);
      } else {
        await withTransaction(client, () => client.query(file.sql));
      }
    }
    return await inspect(scratch);
  } finally {
    await client.query('RESET search_path; RESET statement_timeout').catch(() => undefined);
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(scratch)} CASCADE`).catch(() => undefined);
  }
}
