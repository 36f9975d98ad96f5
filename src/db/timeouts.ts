import type pg from 'pg';

/** How long one transaction may wait for a lock, and run one statement; both in whole milliseconds. */
export interface TransactionTimeouts {
  readonly lockTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
}

/** A duration written into SQL text: only ever a whole number of milliseconds, checked here. */
function msLiteral(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new Error(`a timeout must be a whole number of milliseconds, got ${String(ms)}`);
  return `'${ms}ms'`;
}

/**
 * `SET LOCAL lock_timeout ...; SET LOCAL statement_timeout ...` for the timeouts given, as SQL
 * text to send right after BEGIN (alone, or in the same simple query as BEGIN to save a round
 * trip). They end with the transaction.
 */
export function setLocalTimeoutsSql(timeouts: TransactionTimeouts): string {
  return [
    ...(timeouts.lockTimeoutMs !== undefined ? [`SET LOCAL lock_timeout = ${msLiteral(timeouts.lockTimeoutMs)}`] : []),
    ...(timeouts.statementTimeoutMs !== undefined ? [`SET LOCAL statement_timeout = ${msLiteral(timeouts.statementTimeoutMs)}`] : []),
  ].join('; ');
}

/** Apply the timeouts to the transaction client is in. */
export async function setLocalTimeouts(client: pg.ClientBase, timeouts: TransactionTimeouts): Promise<void> {
  const sql = setLocalTimeoutsSql(timeouts);
  if (sql !== '') await client.query(sql);
}
