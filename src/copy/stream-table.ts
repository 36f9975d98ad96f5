import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteIdent, quoteQualified } from '../db/quote.ts';
import type { TableChecksum } from './checksum.ts';
import { CopyDigest } from './copy-digest.ts';
import { copyOut } from './copy-out.ts';
import type { CopyTable } from './tables.ts';

/** Streams buffer up to this much between the two servers: fewer, larger socket writes; memory stays bounded. */
const STREAM_BUFFER = { highWaterMark: 1024 * 1024 };

const formatOf = (table: CopyTable) => (table.binary ? 'binary' : 'text');

/**
 * Stream one table from the source's COPY TO STDOUT into the target's COPY FROM STDIN: no file,
 * no rows held in memory beyond the streams' buffers (back-pressure holds the source when the
 * target is slower). BINARY where the table's types allow it (no text parsing on either side),
 * text otherwise. Generated columns are not sent; identity columns are (COPY writes the values
 * given, GENERATED ALWAYS included). Returns the row count and SHA-256 of the stream as the source
 * sent it (copy-digest.ts).
 *
 * The target table must have been truncated (or created) in the target's current transaction:
 * the rows are written with FREEZE, already frozen and visible to all, so the tenant's first reads
 * after the commit do not have to set hint bits on every page and no anti-wraparound vacuum has to
 * freeze them later. What FREEZE gives up (a transaction whose snapshot predates the commit sees
 * the rows) TRUNCATE gave up already (it would see the table empty), and nobody reads a copy being
 * built: the tenant is served from it only after the switch. A table new in the transaction also
 * makes COPY skip the free-space map: rows are appended to new pages in the order they arrive,
 * which is what lets verifyTable read them back in the source's order.
 */
export async function streamTable(
  source: pg.ClientBase,
  sourceSchema: string,
  target: pg.ClientBase,
  targetSchema: string,
  table: CopyTable,
): Promise<TableChecksum> {
  const digest = new CopyDigest(table.binary);
  if (table.columns.length === 0) return { table: table.name, ...digest.digest() };
  const columns = table.columns.map(quoteIdent).join(', ');
  const format = formatOf(table);
  const out = copyOut(source, `COPY ${quoteQualified(sourceSchema, table.name)} (${columns}) TO STDOUT (FORMAT ${format})`, STREAM_BUFFER);
  const into = target.query(
    copyFrom(`COPY ${quoteQualified(targetSchema, table.name)} (${columns}) FROM STDIN (FORMAT ${format}, FREEZE)`, STREAM_BUFFER),
  );
  out.on('data', (chunk: Buffer) => digest.update(chunk));
  await pipeline(out, into);
  return { table: table.name, ...digest.digest() };
}

/**
 * Row count and SHA-256 of a table's rows as the server holds them: its COPY TO STDOUT in the
 * format it is copied in, every column in table order. Without generated columns that is the very
 * stream streamTable sends, so the source's side of the comparison is the stream's own digest;
 * with them, it is `COPY (SELECT <all columns>)`, read on both sides, so the values the target
 * computed are compared too. Read under setOrderedReads: rows in storage order.
 */
export async function verifyTable(client: pg.ClientBase, schema: string, table: CopyTable): Promise<TableChecksum> {
  const digest = new CopyDigest(table.binary);
  if (table.allColumns.length === 0) return { table: table.name, ...digest.digest() };
  const format = formatOf(table);
  const relation = quoteQualified(schema, table.name);
  const source =
    table.allColumns.length === table.columns.length
      ? `${relation} (${table.columns.map(quoteIdent).join(', ')})`
      : `(SELECT ${table.allColumns.map(quoteIdent).join(', ')} FROM ${relation})`;
  const out = copyOut(client, `COPY ${source} TO STDOUT (FORMAT ${format})`, STREAM_BUFFER);
  for await (const chunk of out) digest.update(chunk as Buffer);
  return { table: table.name, ...digest.digest() };
}
