import type pg from 'pg';
import { isConnectionError } from './scoped.ts';

/**
 * Check out a client for fn and always release it, like withClient, and also listen for the
 * client's 'error' event while it is checked out: pg emits one when the server ends the connection
 * (a restart, pg_terminate_backend), even with a query in flight, and a checked-out client has no
 * listener of its own, so the process would die of an uncaught exception. The query in flight
 * rejects as well; that rejection is what fn's caller sees. A broken client is destroyed, not
 * returned to the pool.
 */
export async function withGuardedClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
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
