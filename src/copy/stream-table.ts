import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { quoteIdent, quoteQualified } from '../db/quote.ts';
import type { CopyTable } from './tables.ts';

/**
 * Stream one table from the source's COPY TO STDOUT into the target's COPY FROM STDIN: no file,
 * no rows held in memory beyond the streams' buffers (back-pressure holds the source when the
 * target is slower). BINARY where the table's types allow it (no text parsing on either side),
 * text otherwise. Generated columns are not sent; identity columns are (COPY writes the values
 * given, GENERATED ALWAYS included).
 */
export async function streamTable(
  source: pg.ClientBase,
  sourceSchema: string,
  target: pg.ClientBase,
  targetSchema: string,
  table: CopyTable,
): Promise<void> {
  if (table.columns.length === 0) return;
  const columns = table.columns.map(quoteIdent).join(', ');
  const format = table.binary ? 'binary' : 'text';
  const out = source.query(copyTo(`COPY ${quoteQualified(sourceSchema, table.name)} (${columns}) TO STDOUT (FORMAT ${format})`));
  const into = target.query(copyFrom(`COPY ${quoteQualified(targetSchema, table.name)} (${columns}) FROM STDIN (FORMAT ${format})`));
  await pipeline(out, into);
}
