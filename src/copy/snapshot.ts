import type pg from 'pg';
import { withClient, withTransaction } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { setCopySession } from './session.ts';

/** A snapshot id as pg_export_snapshot returns it (e.g. 00000003-0000001B-1). */
const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+-[0-9]+$/i;

/** Export the snapshot of client's REPEATABLE READ transaction, for other connections to read the same moment. */
export async function exportSnapshot(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ id: string }>('SELECT pg_catalog.pg_export_snapshot() AS id');
  const id = rows[0]?.id ?? '';
  if (!SNAPSHOT_ID.test(id)) throw new FleetError('REFUSED', `the source exported an unexpected snapshot id ${JSON.stringify(id)}`);
  return id;
}

/**
 * Run fn on a second connection of pool, in a REPEATABLE READ READ ONLY transaction that reads the
 * exported snapshot, with the copy's session settings (session.ts). The exporting transaction must stay
 * open until this one has begun (PostgreSQL forgets the snapshot when it ends).
 */
export async function withSnapshot<T>(pool: pg.Pool, snapshot: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  // SET TRANSACTION SNAPSHOT takes no bound parameter; the id was checked against SNAPSHOT_ID,
  // which leaves no quote to escape.
  if (!SNAPSHOT_ID.test(snapshot)) throw new FleetError('REFUSED', `not a snapshot id: ${JSON.stringify(snapshot)}`);
  return withClient(pool, (client) =>
    withTransaction(
      client,
      async () => {
        await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
        await setCopySession(client);
        return fn(client);
      },
      { repeatableRead: true, readOnly: true },
    ),
  );
}
