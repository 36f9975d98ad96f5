import type pg from 'pg';

/**
 * Settings that make a row's text form the same on both servers, whatever their defaults: the
 * checksums hash row text, so a timestamptz must print in one zone, a float with one precision, a
 * bytea in one encoding. SET LOCAL: they end with the transaction they are sent in.
 */
export const DETERMINISTIC_TEXT_SQL = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'postgres'",
  'SET LOCAL extra_float_digits = 1',
  "SET LOCAL bytea_output = 'hex'",
  // A copy of 200 MB takes longer than any ordinary statement timeout: the copy is bounded by
  // the operator (a kill), not by the server's default for application statements.
  'SET LOCAL statement_timeout = 0',
].join('; ');

export async function setDeterministicText(client: pg.ClientBase): Promise<void> {
  await client.query(DETERMINISTIC_TEXT_SQL);
}

/**
 * Settings that make a sequential read of a table return its rows in the order they are stored:
 * a scan starts at the first block (a synchronized scan may start wherever another scan of the
 * table is) and no query is split across parallel workers (whose rows interleave). The copy
 * compares COPY streams byte for byte, so both sides must read in storage order.
 */
export const ORDERED_READS_SQL = 'SET LOCAL synchronize_seqscans = off; SET LOCAL max_parallel_workers_per_gather = 0';

/** Both, in one round trip: what every connection of a copy runs first in its transaction. */
export async function setCopySession(client: pg.ClientBase): Promise<void> {
  await client.query(`${DETERMINISTIC_TEXT_SQL}; ${ORDERED_READS_SQL}`);
}
