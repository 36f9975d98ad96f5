import type pg from 'pg';

/** One line of the audit trail: what happened to which tenant, when, by whom and why. */
export interface AuditEvent {
  readonly at: Date;
  readonly tenantId: string | null;
  readonly action: string;
  readonly fromState?: string | null;
  readonly toState?: string | null;
  readonly reason?: string | null;
  readonly actor: string;
  readonly details?: Record<string, unknown>;
}

export async function recordAudit(client: pg.ClientBase, event: AuditEvent): Promise<void> {
  await client.query(
    `INSERT INTO fleet.audit_events (at, tenant_id, action, from_state, to_state, reason, actor, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      event.at,
      event.tenantId,
      event.action,
      event.fromState ?? null,
      event.toState ?? null,
      event.reason ?? null,
      event.actor,
      JSON.stringify(event.details ?? {}),
    ],
  );
}

/** Many events in one round trip (bulk registration writes thousands). */
export async function recordAuditMany(client: pg.ClientBase, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await client.query(
    `INSERT INTO fleet.audit_events (at, tenant_id, action, from_state, to_state, reason, actor, details)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`,
    [
      events.map((e) => e.at),
      events.map((e) => e.tenantId),
      events.map((e) => e.action),
      events.map((e) => e.fromState ?? null),
      events.map((e) => e.toState ?? null),
      events.map((e) => e.reason ?? null),
      events.map((e) => e.actor),
      events.map((e) => JSON.stringify(e.details ?? {})),
    ],
  );
}
