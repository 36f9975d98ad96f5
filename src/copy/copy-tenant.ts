import type pg from 'pg';
import { quoteQualified } from '../db/quote.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { SQLSTATE, sqlStateOf } from '../db/sqlstate.ts';
import { FleetError } from '../errors.ts';
import type { MigrationFile } from '../migrate/migration-files.ts';
import { preloadMigrator, type TenantRunSettings } from '../migrate/tenant-migrator.ts';
import { lockTenantForTransaction } from '../tenants/tenant-lock.ts';
import type { TenantStatus } from '../tenants/tenant-row.ts';
import { fingerprintSchemas } from '../verify/catalog.ts';
import { checksumDifferences, type TableChecksum } from './checksum.ts';
import { dropTenantData } from './drop-copy.ts';
import { deferrableIndexes, dropIndexes, rebuildIndexes } from './indexes.ts';
import { ledgerVersion, readTenantLedger } from './ledger.ts';
import { setCopySession } from './session.ts';
import { readSequences, writeSequences } from './sequences.ts';
import { exportSnapshot, withSnapshot } from './snapshot.ts';
import { streamTable, verifyTable } from './stream-table.ts';
import { buildStructure } from './structure.ts';
import { listTables, type CopyTable } from './tables.ts';

export interface CopySource {
  readonly pool: pg.Pool;
  readonly tenantId: string;
  readonly schema: string;
}

export interface CopyDestination extends CopySource {
  readonly region: string;
  /** The target's registry status while it is built (registered by the caller before the copy). */
  readonly status: TenantStatus;
}

/** One step of a copy, for the audit trail. */
export interface CopyStep {
  readonly action: 'copy.structure' | 'copy.data' | 'copy.verified' | 'copy.failed';
  readonly details: Record<string, unknown>;
}

export interface CopyTenantOptions {
  readonly source: CopySource;
  readonly target: CopyDestination;
  readonly files: readonly MigrationFile[];
  readonly settings: TenantRunSettings;
  /** Called after each step (and on failure): the caller writes it to the audit trail. */
  readonly onStep?: (step: CopyStep) => Promise<void>;
}

export interface CopyReport {
  /** The source's (and now the target's) migration version. */
  readonly version: string | null;
  readonly tables: readonly TableChecksum[];
  readonly sequences: number;
  readonly durationMs: number;
}

/**
 * Copy one tenant between two databases, verified:
 * 1. In the source, one REPEATABLE READ READ ONLY transaction: one snapshot for the ledger and
 *    every table's rows, so the copy is of one moment even if a write slipped in.
 * 2. In the target: the structure by the tenant's own ledger (structure.ts), then, in ONE
 *    transaction holding the target tenant's lease row: every table emptied (migrations may seed
 *    rows), the indexes that can be rebuilt exactly dropped (indexes.ts), each table streamed
 *    (stream-table.ts) and its indexes rebuilt, the schema's catalog fingerprint checked against
 *    the one before the drop, the sequences set, then every table verified. A mismatch rolls back
 *    the data and the structure is dropped; a kill rolls back the data and leaves the structure,
 *    which the caller's rerun drops (dropTenantData) before copying again.
 *
 * Verification, per table: the row count and SHA-256 of the rows as the source sent them (the
 * COPY stream, digested as it passes) against the same of the rows as the target holds them (its
 * own COPY of the table, read back in the same transaction). Both are read in storage order
 * (session.ts), and the target stores the rows in the order they came (stream-table.ts), so equal
 * digests say the target holds exactly the source's rows, byte for byte in the format they were
 * copied in. A table with generated columns is read with them on both sides (the source's read on
 * a second connection importing the snapshot, pg_export_snapshot, while the rows stream: the
 * source pool must then allow two connections), so the values the target computed are compared
 * too.
 *
 * Foreign keys: the data transaction runs with `session_replication_role = replica`, which
 * switches off the FK triggers and the tenant's own triggers for its statements (an app trigger
 * that writes an audit row on INSERT must not write a second one when rows are copied). The
 * source snapshot satisfied every constraint, the rows arrive unchanged, and the verification
 * proves it; a topological order would fail on self-references and cycles, and deferrable
 * constraints would need every FK declared DEFERRABLE by the app.
 */
export async function copyTenant(options: CopyTenantOptions): Promise<CopyReport> {
  const { source, target, files, settings } = options;
  const started = performance.now();
  const step = async (s: CopyStep) => {
    await options.onStep?.(s);
  };
  preloadMigrator();
  try {
    const report = await withClient(source.pool, (src) =>
      withTransaction(
        src,
        async () => {
          await setCopySession(src);
          const version = ledgerVersion(source.tenantId, await readTenantLedger(src, source.tenantId), files);
          const tables = await listTables(src, source.schema);
          const sequences = await readSequences(src, source.schema);
          const computed = tables.filter((t) => t.allColumns.length > t.columns.length);
          const sourceComputed = await readComputed(source.pool, src, source.schema, computed);
          try {
            return await withClient(target.pool, async (dst) => {
              await buildStructure(
                dst,
                { id: target.tenantId, schema: target.schema, region: target.region, status: target.status },
                files,
                settings,
                version,
              );
              await step({ action: 'copy.structure', details: { version, schema: target.schema } });
              return withTransaction(dst, async () => {
                await setCopySession(dst);
                await lockTenantForTransaction(dst, target.tenantId);
                await replicaMode(dst);
                const targetTables = await listTables(dst, target.schema);
                assertSameTables(source.tenantId, tables, targetTables);
                if (tables.length > 0) await dst.query(`TRUNCATE ${tables.map((t) => quoteQualified(target.schema, t.name)).join(', ')}`);
                const streamed = await loadTables(src, source.schema, dst, target.schema, tables);
                await writeSequences(dst, target.schema, sequences);
                await step({ action: 'copy.data', details: { tables: tables.length, sequences: sequences.length } });
                const held: TableChecksum[] = [];
                for (const table of tables) held.push(await verifyTable(dst, target.schema, table));
                const computedSums = await sourceComputed.sums;
                const sent = streamed.map((s) => computedSums.find((c) => c.table === s.table) ?? s);
                const problems = checksumDifferences(sent, held);
                if (problems.length > 0)
                  throw new FleetError(
                    'REFUSED',
                    `the copy of tenant ${JSON.stringify(source.tenantId)} does not equal its source; the target copy was dropped:`,
                    problems,
                  );
                return { version, tables: sent, sequences: sequences.length, durationMs: 0 };
              });
            });
          } finally {
            await sourceComputed.stop();
          }
        },
        { repeatableRead: true, readOnly: true },
      ),
    );
    const done = { ...report, durationMs: Math.round(performance.now() - started) };
    await step({ action: 'copy.verified', details: { version: done.version, tables: done.tables, durationMs: done.durationMs } });
    return done;
  } catch (error) {
    await withClient(target.pool, (dst) => dropTenantData(dst, { id: target.tenantId, schema: target.schema })).catch(() => undefined);
    await step({ action: 'copy.failed', details: { message: (error as Error).message } }).catch(() => undefined);
    throw error;
  }
}

/**
 * The source's side of the verification of tables with generated columns (verifyTable with them),
 * read on a connection of its own that imports the copy's snapshot, while the rows stream. `stop`
 * ends it after the table in hand (a failed copy does not wait for the rest) and waits for its
 * connection to come back. Nothing to read: no snapshot exported, no connection taken.
 */
async function readComputed(
  pool: pg.Pool,
  src: pg.ClientBase,
  schema: string,
  tables: readonly CopyTable[],
): Promise<{ sums: Promise<TableChecksum[]>; stop: () => Promise<void> }> {
  if (tables.length === 0) return { sums: Promise.resolve([]), stop: async () => undefined };
  if (pool.options.max < 2)
    throw new FleetError(
      'INPUT_INVALID',
      'the source pool of a copy must allow two connections: a table with generated columns is verified on a second one',
    );
  let stopped = false;
  const sums = withSnapshot(pool, await exportSnapshot(src), async (client) => {
    const out: TableChecksum[] = [];
    for (const table of tables) {
      if (stopped) break;
      out.push(await verifyTable(client, schema, table));
    }
    return out;
  });
  // Awaited by the comparison, or only settled by stop when the copy fails first.
  sums.catch(() => undefined);
  return {
    sums,
    stop: async () => {
      stopped = true;
      await sums.catch(() => undefined);
    },
  };
}

/**
 * Stream every table into the target, each with its deferrable indexes dropped before and rebuilt
 * right after its rows, and return each stream's digest. The schema's catalog fingerprint (the one
 * `fleet verify` compares) must come out as it went in: the rebuilt indexes and constraints are
 * the ones the migrations made.
 */
async function loadTables(
  src: pg.ClientBase,
  sourceSchema: string,
  dst: pg.ClientBase,
  targetSchema: string,
  tables: readonly CopyTable[],
): Promise<TableChecksum[]> {
  const before = await fingerprintSchemas(dst, [targetSchema]);
  const deferred = await deferrableIndexes(dst, targetSchema);
  await dropIndexes(dst, targetSchema, deferred);
  const sums: TableChecksum[] = [];
  for (const table of tables) {
    sums.push(await streamTable(src, sourceSchema, dst, targetSchema, table));
    await rebuildIndexes(
      dst,
      targetSchema,
      deferred.filter((i) => i.table === table.name),
    );
  }
  const loaded = new Set(tables.map((t) => t.name));
  await rebuildIndexes(
    dst,
    targetSchema,
    deferred.filter((i) => !loaded.has(i.table)),
  );
  const after = await fingerprintSchemas(dst, [targetSchema]);
  if (before.get(targetSchema)?.fingerprint !== after.get(targetSchema)?.fingerprint) {
    throw new FleetError(
      'REFUSED',
      `the indexes rebuilt after loading ${targetSchema} differ from the ones its migrations made (${deferred.map((i) => i.name).join(', ')}); nothing was copied`,
    );
  }
  return sums;
}

async function replicaMode(client: pg.ClientBase): Promise<void> {
  try {
    await client.query("SET LOCAL session_replication_role = 'replica'");
  } catch (error) {
    if (sqlStateOf(error) !== SQLSTATE.INSUFFICIENT_PRIVILEGE) throw error;
    throw new FleetError(
      'REFUSED',
      'the migrator role may not set session_replication_role, which the copy needs to load rows without firing foreign-key and app triggers. As an administrator: `GRANT SET ON PARAMETER session_replication_role TO <migrator>` (PostgreSQL 15+; on RDS the rds_superuser role may set it). Nothing was copied.',
    );
  }
}

/** The target built from the ledger must have the source's tables and columns; otherwise the source's structure was changed outside the migrations. */
function assertSameTables(tenantId: string, source: readonly CopyTable[], target: readonly CopyTable[]): void {
  const shape = (t: CopyTable) => `${t.name}(${t.columns.join(',')})`;
  const want = source.map(shape);
  const have = new Set(target.map(shape));
  const missing = want.filter((s) => !have.has(s));
  const extra = target.map(shape).filter((s) => !want.includes(s));
  if (missing.length > 0 || extra.length > 0) {
    throw new FleetError(
      'REFUSED',
      `tenant ${JSON.stringify(tenantId)}'s tables differ from what its migrations build (changed outside the migrations? \`fleet verify\` names the drift); nothing was copied:`,
      [...missing.map((s) => `in the source only: ${s}`), ...extra.map((s) => `built by the migrations only: ${s}`)],
    );
  }
}
