import type { Fleet } from '../fleet.ts';
import { recordAudit } from '../audit.ts';
import { FleetError } from '../errors.ts';
import { purgeAfterFor } from './grace.ts';
import { requireTenant, withLockedTenant } from '../tenants/tenant-row.ts';
import { transitionResult, type TransitionResult } from './transition.ts';

export interface UninstallOptions {
  /** When the uninstall happened (an event received late); default now. Never in the future. */
  readonly at?: Date;
  /** Why, for the audit trail; default "uninstalled". */
  readonly reason?: string;
  /** Extra audit details (e.g. the verified callback's claims). */
  readonly details?: Record<string, unknown>;
}

/**
 * The tenant uninstalled the app: active (or still provisioning) → disconnected, with purge_after
 * = the event's time + the grace period. A tenant already disconnected keeps its first purge date
 * (a repeated event neither hastens nor delays the purge); a purged one is left alone.
 */
export async function uninstallTenant(fleet: Fleet, id: string, options: UninstallOptions = {}): Promise<TransitionResult> {
  const now = fleet.clock.now();
  const at = options.at ?? now;
  if (Number.isNaN(at.getTime()))
    throw new FleetError('INPUT_INVALID', 'the uninstall time is not a valid date: pass an ISO date such as 2026-11-26T03:00:00Z');
  if (at.getTime() > now.getTime()) {
    throw new FleetError(
      'INPUT_INVALID',
      `uninstall time ${at.toISOString()} is in the future (now is ${now.toISOString()}); pass the time the uninstall happened, or leave --at out for now`,
    );
  }
  const { region } = await requireTenant(fleet, id);
  return withLockedTenant(region, id, async (client, row) => {
    if (row.status === 'disconnected') return transitionResult(region.name, row, {}, 'already-disconnected', false);
    if (row.status === 'purged') return transitionResult(region.name, row, {}, 'already-purged', false);
    // An uninstall older than the tenant's last sign of life is stale: a later install or contact
    // already proved it connected. Refuse rather than start a purge clock that should not run.
    const alive = [row.last_contact_at, row.created_at].filter((d): d is Date => d !== null);
    const latest = new Date(Math.max(...alive.map((d) => d.getTime())));
    if (at.getTime() < latest.getTime()) {
      throw new FleetError(
        'INPUT_INVALID',
        `uninstall time ${at.toISOString()} is before tenant ${id}'s last contact or install (${latest.toISOString()}): the event is stale; nothing was changed. Pass a later --at, or leave it out for now`,
      );
    }
    const purgeAfter = purgeAfterFor(fleet, at);
    const after = {
      status: 'disconnected' as const,
      disconnected_at: at,
      disconnect_cause: 'uninstalled' as const,
      purge_after: purgeAfter,
    };
    await client.query(
      `UPDATE fleet.tenants SET status = 'disconnected', disconnected_at = $2, disconnect_cause = 'uninstalled', purge_after = $3, updated_at = $4 WHERE id = $1`,
      [id, at, purgeAfter, now],
    );
    await recordAudit(client, {
      at: now,
      tenantId: id,
      action: 'uninstalled',
      fromState: row.status,
      toState: 'disconnected',
      reason: options.reason ?? 'uninstalled',
      actor: fleet.actor,
      details: {
        eventAt: at.toISOString(),
        purgeAfter: purgeAfter.toISOString(),
        graceDays: fleet.config.lifecycle.graceDays,
        ...options.details,
      },
    });
    return transitionResult(region.name, row, after, 'disconnected', true);
  });
}
