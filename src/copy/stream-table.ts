import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../db/quote.ts';
import type { TableChecksum } from './checksum.ts';
import { copyIn } from './copy-in.ts';
import { copyOut, type CopyOut } from './copy-out.ts';
import type { CopyTable } from './tables.ts';

/** Streams buffer up to this much between the two servers: fewer, larger socket writes; memory stays bounded. */
const STREAM_BUFFER = { highWaterMark: 1024 * 1024 };

const formatOf = (table: CopyTable) => (table.binary ? 'binary' : 'text');

/**
 * Stream one table from the source's COPY TO STDOUT into the target's COPY FROM STDIN: no file,
 * no rows held in memory beyond the streams' buffers (back-pressure holds the source when the
 * target is slower), the CopyData messages passed on as they came (copy-out.ts, copy-in.ts).
 * BINARY where the table's types allow it (no text parsing on either side), text otherwise.
 * Generated columns are not sent; identity columns are (COPY writes the values given, GENERATED
 * ALWAYS included). Returns the stream's digest (digestOf) as the source sent it.
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
  if (table.columns.length === 0) return { table: table.name, rows: 0, checksum: createHash('sha256').digest('hex') };
  const columns = table.columns.map(quoteIdent).join(', ');
  const format = formatOf(table);
  const out = copyOut(
    source,
    `COPY ${quoteQualified(sourceSchema, table.name)} (${columns}) TO STDOUT (FORMAT ${format})`,
    'frames',
    STREAM_BUFFER,
  );
  const into = copyIn(
    target,
    `COPY ${quoteQualified(targetSchema, table.name)} (${columns}) FROM STDIN (FORMAT ${format}, FREEZE)`,
    STREAM_BUFFER,
  );
  const digest = digestOf(table, out);
  // Settled either way; awaited only once the rows are in.
  digest.catch(() => undefined);
  await pipeline(out, into);
  return await digest;
}

/**
 * Row count and SHA-256 of a table's rows as the server holds them: its COPY TO STDOUT in the
 * format it is copied in, every column in table order. Without generated columns that is the very
 * stream streamTable sends, so the source's side of the comparison is the stream's own digest;
 * with them, it is `COPY (SELECT <all columns>)`, read on both sides, so the values the target
 * computed are compared too. Read under setCopySession (session.ts): rows in storage order.
 */
export async function verifyTable(client: pg.ClientBase, schema: string, table: CopyTable): Promise<TableChecksum> {
  if (table.allColumns.length === 0) return { table: table.name, rows: 0, checksum: createHash('sha256').digest('hex') };
  const format = formatOf(table);
  const relation = quoteQualified(schema, table.name);
  const source =
    table.allColumns.length === table.columns.length
      ? `${relation} (${table.columns.map(quoteIdent).join(', ')})`
      : `(SELECT ${table.allColumns.map(quoteIdent).join(', ')} FROM ${relation})`;
  const out = copyOut(client, `COPY ${source} TO STDOUT (FORMAT ${format})`, 'frames', STREAM_BUFFER);
  return digestOf(table, out);
}

/**
 * A COPY stream's digest: the row count the server gives in its command tag, and the SHA-256 of
 * its CopyData messages. PostgreSQL sends one message per row (the protocol says so), each with
 * its length, so equal digests are equal rows in the same order, byte for byte; a binary COPY's
 * header rides with the first row and its trailer is one more message.
 */
async function digestOf(table: CopyTable, out: CopyOut): Promise<TableChecksum> {
  const hash = createHash('sha256');
  out.on('data', (frames: Buffer) => hash.update(frames));
  await new Promise<void>((resolve, reject) => {
    out.on('end', resolve);
    out.on('error', reject);
  });
  await out.done;
  return { table: table.name, rows: out.rows, checksum: hash.digest('hex') };
}
