import type pg from 'pg';
import { SQLSTATE } from './sqlstate.ts';

/**
 * Check out a client for fn and always release it. While it is checked out the client's 'error'
 * event is listened for: pg emits one when the server ends the connection (a restart,
 * pg_terminate_backend), even with a query in flight, and a checked-out client has no listener of
 * its own, so the process would die of an uncaught exception. The query in flight rejects as well;
 * that rejection is what fn's caller sees. A broken client is destroyed, not returned to the pool.
 */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (error) {
    if (isConnectionError(error)) broken ??= error as Error;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

export interface TransactionOptions {
  /** REPEATABLE READ: every statement of the transaction reads one snapshot. Default READ COMMITTED. */
  readonly repeatableRead?: boolean;
  /** READ ONLY: PostgreSQL refuses every write. */
  readonly readOnly?: boolean;
  /** End with ROLLBACK even when fn succeeds: for reading a snapshot, or scratch work that must not stay. */
  readonly rollback?: boolean;
}

/** Run fn in one transaction on client: COMMIT when it returns (ROLLBACK with `rollback`), ROLLBACK when it throws. */
export async function withTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  await client.query(
    ['BEGIN', options.repeatableRead ? 'ISOLATION LEVEL REPEATABLE READ' : '', options.readOnly ? 'READ ONLY' : '']
      .filter(Boolean)
      .join(' '),
  );
  try {
    const result = await fn();
    await client.query(options.rollback ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

const CONNECTION_ERROR_CODES = new Set<string>([
  SQLSTATE.ADMIN_SHUTDOWN,
  SQLSTATE.CRASH_SHUTDOWN,
  SQLSTATE.CANNOT_CONNECT_NOW,
  SQLSTATE.CONNECTION_EXCEPTION,
  SQLSTATE.CONNECTION_DOES_NOT_EXIST,
  SQLSTATE.CONNECTION_FAILURE,
  SQLSTATE.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
  SQLSTATE.SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION,
]);

/** The server went away or refused us: the connection is unusable, the tenant's work is unknown-safe. */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: string; message?: string };
  if (code && CONNECTION_ERROR_CODES.has(code)) return true;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE') return true;
  return /Connection terminated|Client has encountered a connection error|not queryable/i.test(message ?? '');
}
