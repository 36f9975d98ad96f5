import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { recordAudit } from '../audit.ts';
import { assertTenantId } from './ids.ts';
import { markReactivated, withLockedTenant, type TenantStatus } from './tenant-row.ts';

/** Contact is recorded at most once a minute per tenant: in the database, and in this process before that. */
export const TOUCH_INTERVAL_MS = 60_000;

export interface TouchResult {
  readonly tenant: string;
  /** The tenant's region, or null when no region knows the id. */
  readonly region: string | null;
  /** True when last_contact_at was written. */
  readonly written: boolean;
  /** True when this process recorded contact for the tenant less than a minute ago: no query was sent. */
  readonly throttled: boolean;
  readonly status: TenantStatus | null;
  /** A tenant a sweep had disconnected for silence, active again because it made contact. */
  readonly resumed: boolean;
}

interface ContactRow {
  status: TenantStatus;
  disconnect_cause: string | null;
  written: boolean;
}

/** Per fleet: when this process last asked the database about each tenant, and where the tenant lives. */
const memory = new WeakMap<Fleet, Map<string, { at: number; region: RegionDatabase | null }>>();

// One statement: read the tenant, and write the contact time only if the stored one is at least a
// minute old. The row reports the status either way, so the caller learns whether the tenant exists.
const TOUCH_SQL = `
WITH updated AS (
  UPDATE fleet.tenants SET last_contact_at = $2
   WHERE id = $1 AND status = 'active' AND (last_contact_at IS NULL OR last_contact_at <= $2::timestamptz - interval '1 minute')
  RETURNING id
)
SELECT t.status, t.disconnect_cause, EXISTS (SELECT 1 FROM updated) AS written FROM fleet.tenants t WHERE t.id = $1`;

/**
 * Record that a tenant contacted us (call it on every authenticated request: it is cheap). At most
 * one write per tenant per minute: within a minute of the last check this process sends nothing,
 * and the database skips the write when another process recorded contact in the last minute.
 * Silence is what a sweep counts; contact from a tenant a sweep disconnected makes it active again
 * (after an uninstall, only a reinstall does).
 */
export async function touchTenant(fleet: Fleet, id: string): Promise<TouchResult> {
  assertTenantId(id);
  const now = fleet.clock.now();
  let seen = memory.get(fleet);
  if (!seen) memory.set(fleet, (seen = new Map()));
  const last = seen.get(id);
  if (last && now.getTime() - last.at < TOUCH_INTERVAL_MS && now.getTime() >= last.at) {
    return { tenant: id, region: last.region?.name ?? null, written: false, throttled: true, status: null, resumed: false };
  }

  const regions = last?.region ? [last.region] : fleet.regions;
  let found: { region: RegionDatabase; row: ContactRow } | undefined;
  for (const region of regions) {
    const { rows } = await region.query<ContactRow>(TOUCH_SQL, [id, now]);
    if (rows[0]) {
      found = { region, row: rows[0] };
      break;
    }
  }
  if (seen.size >= 50_000) {
    for (const [key, entry] of seen) if (now.getTime() - entry.at >= TOUCH_INTERVAL_MS) seen.delete(key);
  }
  seen.set(id, { at: now.getTime(), region: found?.region ?? null });
  if (!found) return { tenant: id, region: null, written: false, throttled: false, status: null, resumed: false };

  const { region, row } = found;
  if (row.status === 'disconnected' && row.disconnect_cause === 'stale') {
    const resumed = await withLockedTenant(region, id, async (client, locked) => {
      if (locked.status !== 'disconnected' || locked.disconnect_cause !== 'stale') return false;
      await markReactivated(client, id, now);
      await recordAudit(client, {
        at: now,
        tenantId: id,
        action: 'contact-resumed',
        fromState: 'disconnected',
        toState: 'active',
        reason: 'the tenant made contact after a sweep had disconnected it for silence',
        actor: fleet.actor,
        details: {
          disconnectedAt: locked.disconnected_at?.toISOString() ?? null,
          cancelledPurgeAfter: locked.purge_after?.toISOString() ?? null,
        },
      });
      return true;
    });
    return { tenant: id, region: region.name, written: resumed, throttled: false, status: resumed ? 'active' : row.status, resumed };
  }
  return { tenant: id, region: region.name, written: row.written, throttled: false, status: row.status, resumed: false };
}

/** Forget what this process remembers about recent contact (tests; a long-lived process never needs it). */
export function forgetContacts(fleet: Fleet): void {
  memory.delete(fleet);
}
