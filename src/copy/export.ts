import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type pg from 'pg';
import type tar from 'tar-stream';
import type { Fleet } from '../fleet.ts';
import { recordAudit } from '../audit.ts';
import { quoteIdent, quoteQualified } from '../db/quote.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { requireTenant } from '../tenants/tenant-row.ts';
import { tableChecksum } from './checksum.ts';
import { copyOut } from './copy-out.ts';
import { CopyTextToJsonLines } from './json-lines.ts';
import { readTenantLedger } from './ledger.ts';
import { setDeterministicText } from './session.ts';
import { listTables, type CopyTable } from './tables.ts';

export interface ExportManifest {
  readonly tenantId: string;
  readonly region: string;
  readonly migrationVersion: string | null;
  readonly exportedAt: string;
  readonly exportedBy: string;
  /** Per table: its JSON Lines file, row count and the server-computed checksum of its rows (src/copy/checksum.ts). */
  readonly tables: readonly {
    readonly table: string;
    readonly file: string;
    readonly rows: number;
    readonly checksum: string;
    readonly bytes: number;
  }[];
}

function orderBy(table: CopyTable): string {
  return table.key.length === 0 ? 't::text COLLATE "C"' : table.key.map((k) => `t.${quoteIdent(k.name)}`).join(', ');
}

/**
 * One table as JSON Lines into the archive: its exact size first (tar needs it before the
 * bytes), then the rows streamed by COPY, both in the export's one snapshot.
 */
async function addTable(pack: tar.Pack, client: pg.ClientBase, schema: string, table: CopyTable): Promise<number> {
  const select = `SELECT row_to_json(t) FROM ${quoteQualified(schema, table.name)} AS t ORDER BY ${orderBy(table)}`;
  const { rows } = await client.query<{ bytes: string }>(
    `SELECT coalesce(sum(octet_length(j::text) + 1), 0)::bigint AS bytes FROM (SELECT row_to_json(t) AS j FROM ${quoteQualified(schema, table.name)} AS t) AS s`,
  );
  const bytes = Number(rows[0]?.bytes ?? 0);
  const entry = pack.entry({ name: `${table.name}.jsonl`, size: bytes, mode: 0o644 });
  await pipeline(copyOut(client, `COPY (${select}) TO STDOUT`, 'rows'), new CopyTextToJsonLines(), entry);
  return bytes;
}

/**
 * Write one tenant to a .tar.gz at `out`: `<table>.jsonl` per table (one JSON object a row, in
 * key order) and manifest.json (tenant, migration version, per-table row counts and checksums,
 * time, who). Read in one REPEATABLE READ READ ONLY snapshot; streamed (memory does not grow with
 * the tenant). An audit event names who exported what.
 */
export async function exportTenant(fleet: Fleet, tenantId: string, out: string): Promise<ExportManifest> {
  const { region, row } = await requireTenant(fleet, tenantId);
  if (row.status === 'purged')
    throw new FleetError('TENANT_NOT_ACTIVE', `tenant ${tenantId} was purged: its data is gone, nothing to export`);
  // Loaded here: every CLI command imports the library's index, only an export needs tar.
  const { default: tarStream } = await import('tar-stream');
  const pack = tarStream.pack();
  const written = pipeline(pack, createGzip(), createWriteStream(out));
  // Awaited below on success; on failure the read's error is the one thrown.
  written.catch(() => undefined);
  const manifest = await withClient(region.controlPool, (client) =>
    withTransaction(
      client,
      async (): Promise<ExportManifest> => {
        await setDeterministicText(client);
        const version = (await readTenantLedger(client, tenantId)).at(-1) ?? null;
        const tables = [];
        for (const table of await listTables(client, row.schema_name)) {
          const bytes = await addTable(pack, client, row.schema_name, table);
          const sum = await tableChecksum(client, row.schema_name, table);
          tables.push({ table: table.name, file: `${table.name}.jsonl`, rows: sum.rows, checksum: sum.checksum, bytes });
        }
        return {
          tenantId,
          region: region.name,
          migrationVersion: version,
          exportedAt: fleet.clock.now().toISOString(),
          exportedBy: fleet.actor,
          tables,
        };
      },
      { repeatableRead: true, readOnly: true },
    ),
  ).catch((error: unknown) => {
    pack.destroy(error as Error);
    throw error;
  });
  pack.entry({ name: 'manifest.json', mode: 0o644 }, `${JSON.stringify(manifest, null, 2)}\n`);
  pack.finalize();
  await written;
  await withClient(region.controlPool, (client) =>
    recordAudit(client, {
      at: fleet.clock.now(),
      tenantId,
      action: 'exported',
      actor: fleet.actor,
      details: { file: out, version: manifest.migrationVersion, tables: manifest.tables.map((t) => ({ table: t.table, rows: t.rows })) },
    }),
  );
  return manifest;
}
