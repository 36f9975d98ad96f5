import type pg from 'pg';
import type { Fleet } from '../fleet.ts';
import { recordAudit } from '../audit.ts';
import { withTransaction } from '../db/scoped.ts';
import { SQLSTATE, sqlStateOf } from '../db/sqlstate.ts';
import { setLocalTimeouts } from '../db/timeouts.ts';
import { dropAsideSchema } from '../tenants/aside.ts';
import { schemaSize } from './plan.ts';

export type PurgeAsideOutcome =
  | { readonly status: 'dropped'; readonly tables: number; readonly approxBytes: number; readonly droppedAt: string }
  | { readonly status: 'skipped'; readonly reason: string; readonly busy?: boolean };

/**
 * Drop one aside schema whose drop date has passed, in one transaction on `client`: lock its row
 * and check the date and its tenant's legal hold again (a discard or a hold that committed first
 * wins: skipped), drop the schema, delete the row, write the audit event `aside.dropped`, commit.
 * Killed before COMMIT, nothing happened.
 */
export async function purgeAsideSchema(fleet: Fleet, client: pg.ClientBase, schema: string, now: Date): Promise<PurgeAsideOutcome> {
  const { lockTimeoutMs, statementTimeoutMs } = fleet.config.runner;
  try {
    return await dropDue(fleet, client, schema, now, { lockTimeoutMs, statementTimeoutMs });
  } catch (error) {
    if (sqlStateOf(error) !== SQLSTATE.LOCK_NOT_AVAILABLE) throw error;
    return {
      status: 'skipped',
      busy: true,
      reason: `busy: another transaction (a discard, a purge of its tenant) held it for longer than lock_timeout ${lockTimeoutMs} ms; run the purge again`,
    };
  }
}

async function dropDue(
  fleet: Fleet,
  client: pg.ClientBase,
  schema: string,
  now: Date,
  timeouts: { lockTimeoutMs: number; statementTimeoutMs: number },
): Promise<PurgeAsideOutcome> {
  return withTransaction(client, async (): Promise<PurgeAsideOutcome> => {
    await setLocalTimeouts(client, timeouts);
    const { rows } = await client.query<{ tenant_id: string; set_aside_at: Date; drop_after: Date }>(
      'SELECT tenant_id, set_aside_at, drop_after FROM fleet.aside_schemas WHERE schema_name = $1 FOR UPDATE',
      [schema],
    );
    const row = rows[0];
    if (!row) return { status: 'skipped', reason: 'no longer set aside (discarded, or dropped with its tenant)' };
    // Shares the lock a hold takes on the registry row: a hold that committed first wins.
    const held = await client.query<{ hold_reason: string | null }>('SELECT hold_reason FROM fleet.tenants WHERE id = $1 FOR SHARE', [
      row.tenant_id,
    ]);
    const hold = held.rows[0]?.hold_reason;
    if (hold) return { status: 'skipped', reason: `its tenant is on legal hold: ${hold}` };
    if (row.drop_after.getTime() > now.getTime()) return { status: 'skipped', reason: `not due until ${row.drop_after.toISOString()}` };
    const size = await schemaSize(client, schema);
    const droppedAt = fleet.clock.now();
    await dropAsideSchema(client, schema);
    await recordAudit(client, {
      at: droppedAt,
      tenantId: row.tenant_id,
      action: 'aside.dropped',
      reason: `kept aside until ${row.drop_after.toISOString()} (set aside ${row.set_aside_at.toISOString()} by a restore)`,
      actor: fleet.actor,
      details: { schema, tables: size.tables, approxBytes: size.bytes, setAsideAt: row.set_aside_at.toISOString() },
    });
    return { status: 'dropped', tables: size.tables, approxBytes: size.bytes, droppedAt: droppedAt.toISOString() };
  });
}
