import type pg from 'pg';
import { quoteQualified } from '../db/quote.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { SQLSTATE, sqlStateOf } from '../db/sqlstate.ts';
import { FleetError } from '../errors.ts';
import type { MigrationFile } from '../migrate/migration-files.ts';
import type { TenantRunSettings } from '../migrate/tenant-migrator.ts';
import { lockTenantForTransaction } from '../tenants/tenant-lock.ts';
import type { TenantStatus } from '../tenants/tenant-row.ts';
import { checksumDifferences, schemaChecksums, type TableChecksum } from './checksum.ts';
import { dropTenantData } from './drop-copy.ts';
import { ledgerVersion, readTenantLedger } from './ledger.ts';
import { setDeterministicText } from './session.ts';
import { readSequences, writeSequences } from './sequences.ts';
import { streamTable } from './stream-table.ts';
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
 * 1. In the source, one REPEATABLE READ READ ONLY transaction: one snapshot for the ledger, every
 *    table's rows and every checksum, so the copy is of one moment even if a write slipped in.
 * 2. In the target: the structure by the tenant's own ledger (structure.ts), then, in ONE
 *    transaction holding the target tenant's lease row: every table emptied (migrations may seed
 *    rows) and streamed (stream-table.ts), the sequences set, the checksums compared. A mismatch
 *    rolls back the data and the structure is dropped; a kill rolls back the data and leaves the
 *    structure, which the caller's rerun drops (dropTenantData) before copying again.
 *
 * Foreign keys: the data transaction runs with `session_replication_role = replica`, which
 * switches off the FK triggers and the tenant's own triggers for its statements (an app trigger
 * that writes an audit row on INSERT must not write a second one when rows are copied). The
 * source snapshot satisfied every constraint, the rows arrive unchanged, and the checksums prove
 * it; a topological order would fail on self-references and cycles, and deferrable constraints
 * would need every FK declared DEFERRABLE by the app.
 */
export async function copyTenant(options: CopyTenantOptions): Promise<CopyReport> {
  const { source, target, files, settings } = options;
  const started = performance.now();
  const step = async (s: CopyStep) => {
    await options.onStep?.(s);
  };
  try {
    const report = await withClient(source.pool, (src) =>
      withTransaction(
        src,
        async () => {
          await setDeterministicText(src);
          const version = ledgerVersion(source.tenantId, await readTenantLedger(src, source.tenantId), files);
          const tables = await listTables(src, source.schema);
          const sequences = await readSequences(src, source.schema);
          const report = await withClient(target.pool, async (dst) => {
            await buildStructure(
              dst,
              { id: target.tenantId, schema: target.schema, region: target.region, status: target.status },
              files,
              settings,
              version,
            );
            await step({ action: 'copy.structure', details: { version, schema: target.schema } });
            return withTransaction(dst, async () => {
              await setDeterministicText(dst);
              await lockTenantForTransaction(dst, target.tenantId);
              await replicaMode(dst);
              const targetTables = await listTables(dst, target.schema);
              assertSameTables(source.tenantId, tables, targetTables);
              if (tables.length > 0) await dst.query(`TRUNCATE ${tables.map((t) => quoteQualified(target.schema, t.name)).join(', ')}`);
              for (const table of tables) await streamTable(src, source.schema, dst, target.schema, table);
              await writeSequences(dst, target.schema, sequences);
              await step({ action: 'copy.data', details: { tables: tables.length, sequences: sequences.length } });
              // Two servers (or two backends), one scan each: side by side.
              const [sourceSums, targetSums] = await Promise.all([
                schemaChecksums(src, source.schema, tables),
                schemaChecksums(dst, target.schema, tables),
              ]);
              const problems = checksumDifferences(sourceSums, targetSums);
              if (problems.length > 0)
                throw new FleetError(
                  'REFUSED',
                  `the copy of tenant ${JSON.stringify(source.tenantId)} does not equal its source; the target copy was dropped:`,
                  problems,
                );
              return { version, tables: sourceSums, sequences: sequences.length, durationMs: 0 };
            });
          });
          return report;
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
