import type { Fleet } from './fleet.ts';
import { FleetError } from './errors.ts';

/** One audit event as read back: where it was recorded, and every field it was recorded with. */
export interface AuditRecord {
  readonly region: string;
  readonly id: number;
  readonly at: string;
  readonly tenant: string | null;
  readonly action: string;
  readonly fromState: string | null;
  readonly toState: string | null;
  readonly reason: string | null;
  readonly actor: string;
  readonly details: Record<string, unknown>;
}

export interface AuditQuery {
  readonly tenant?: string;
  readonly action?: string;
  /** Only events at or after this time. */
  readonly since?: Date;
  /** The newest this many (over all regions); default 100, at most 10 000. */
  readonly limit?: number;
}

export const AUDIT_DEFAULT_LIMIT = 100;
const AUDIT_MAX_LIMIT = 10_000;

interface Row {
  id: string;
  at: Date;
  tenant_id: string | null;
  action: string;
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
  actor: string;
  details: Record<string, unknown>;
}

/** The audit trail of every region, newest first, filtered by tenant, action and time: read-only. */
export async function queryAudit(fleet: Fleet, query: AuditQuery = {}): Promise<AuditRecord[]> {
  const limit = query.limit ?? AUDIT_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_MAX_LIMIT) {
    throw FleetError.forOption(
      'INPUT_INVALID',
      'limit',
      (o) => `${o} must be a whole number from 1 to ${AUDIT_MAX_LIMIT}, got ${JSON.stringify(query.limit)}`,
    );
  }
  if (query.since !== undefined && Number.isNaN(query.since.getTime())) {
    throw FleetError.forOption('INPUT_INVALID', 'since', (o) => `${o} is not a valid date: pass an ISO date such as 2026-11-26T03:00:00Z`);
  }
  const perRegion = await Promise.all(
    fleet.regions.map(async (region) => {
      const { rows } = await region.query<Row>(
        `SELECT id, at, tenant_id, action, from_state, to_state, reason, actor, details FROM fleet.audit_events
          WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR action = $2) AND ($3::timestamptz IS NULL OR at >= $3)
          ORDER BY at DESC, id DESC LIMIT $4`,
        [query.tenant ?? null, query.action ?? null, query.since ?? null, limit],
      );
      return rows.map((r): AuditRecord => ({
        region: region.name,
        id: Number(r.id),
        at: r.at.toISOString(),
        tenant: r.tenant_id,
        action: r.action,
        fromState: r.from_state,
        toState: r.to_state,
        reason: r.reason,
        actor: r.actor,
        details: r.details,
      }));
    }),
  );
  return perRegion
    .flat()
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.id - a.id))
    .slice(0, limit);
}
