import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../db/quote.ts';
import type { CopyTable } from './tables.ts';

export interface TableChecksum {
  readonly table: string;
  readonly rows: number;
  /** md5 over the md5s of consecutive blocks of rows, rows in key order, each row as its text. */
  readonly checksum: string;
}

/** Rows per block: a block's text is aggregated in memory, so memory is bounded by the block, not the table. */
export const CHECKSUM_BLOCK_ROWS = 2000;

/**
 * Order by the primary key (text-like columns in the "C" collation, so two servers with
 * different default collations agree), or by the whole row text for a table without one.
 */
function orderBy(table: CopyTable): string {
  if (table.key.length === 0) return 't::text COLLATE "C"';
  return table.key.map((k) => `t.${quoteIdent(k.name)}${k.collatable ? ' COLLATE "C"' : ''}`).join(', ');
}

/**
 * Row count and checksum of one table, computed by the server in one statement: the rows in key
 * order, hashed block by block (`CHECKSUM_BLOCK_ROWS` rows a block), then the block hashes hashed.
 * The row text includes generated columns: recomputed in the target, they must come out equal.
 * Run it with the settings of session.ts on both sides.
 */
export async function tableChecksum(client: pg.ClientBase, schema: string, table: CopyTable): Promise<TableChecksum> {
  const { rows } = await client.query<{ rows: string; checksum: string }>(
    `SELECT coalesce(sum(n), 0)::bigint AS rows, md5(coalesce(string_agg(h, '' ORDER BY b), '')) AS checksum
       FROM (SELECT b, count(*) AS n, md5(string_agg(r, E'\\n' ORDER BY i)) AS h
               FROM (SELECT (i - 1) / ${CHECKSUM_BLOCK_ROWS} AS b, i, r
                       FROM (SELECT row_number() OVER (ORDER BY ${orderBy(table)}) AS i, t::text AS r
                               FROM ${quoteQualified(schema, table.name)} AS t) AS numbered) AS blocked
              GROUP BY b) AS blocks`,
  );
  const row = rows[0];
  return { table: table.name, rows: Number(row?.rows ?? 0), checksum: row?.checksum ?? '' };
}

export async function schemaChecksums(client: pg.ClientBase, schema: string, tables: readonly CopyTable[]): Promise<TableChecksum[]> {
  const out: TableChecksum[] = [];
  for (const table of tables) out.push(await tableChecksum(client, schema, table));
  return out;
}

/** The tables whose count or checksum differ, each as a sentence; empty when the copy is equal. */
export function checksumDifferences(source: readonly TableChecksum[], target: readonly TableChecksum[]): string[] {
  const byTable = new Map(target.map((t) => [t.table, t]));
  const problems: string[] = [];
  for (const s of source) {
    const t = byTable.get(s.table);
    if (!t) problems.push(`table ${s.table}: missing in the target`);
    else if (t.rows !== s.rows) problems.push(`table ${s.table}: ${s.rows} rows in the source, ${t.rows} in the target`);
    else if (t.checksum !== s.checksum) problems.push(`table ${s.table}: checksums differ (${s.checksum} in the source, ${t.checksum} in the target)`);
  }
  for (const t of target) if (!source.some((s) => s.table === t.table)) problems.push(`table ${t.table}: in the target only`);
  return problems;
}
