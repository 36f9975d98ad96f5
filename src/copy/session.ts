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
