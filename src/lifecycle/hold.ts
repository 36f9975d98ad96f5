import type { Fleet } from '../fleet.ts';
import { recordAudit } from '../audit.ts';
import { FleetError } from '../errors.ts';
import { requireTenant, withLockedTenant } from '../tenants/tenant-row.ts';
import { transitionResult, type TransitionResult } from './transition.ts';

const MAX_REASON = 1000;

function checkReason(reason: string | undefined): string {
  const trimmed = reason?.trim() ?? '';
  if (trimmed.length === 0)
    throw FleetError.forOption(
      'INPUT_INVALID',
      'reason',
      (o) => `${o} is required and cannot be empty: say why (e.g. a ticket or a legal matter number)`,
    );
  if (trimmed.length > MAX_REASON)
    throw FleetError.forOption(
      'INPUT_INVALID',
      'reason',
      (o) => `${o} is ${trimmed.length} characters long; keep it under ${MAX_REASON} and link to the details`,
    );
  return trimmed;
}

/**
 * Place a legal hold: a held tenant is never purged, whatever its state, until released. Its
 * status does not change (a held tenant may be active or disconnected); the hold is separate.
 */
export async function holdTenant(fleet: Fleet, id: string, reason: string): Promise<TransitionResult> {
  const why = checkReason(reason);
  const { region } = await requireTenant(fleet, id);
  return withLockedTenant(region, id, async (client, row) => {
    if (row.status === 'purged') {
      throw new FleetError(
        'INPUT_INVALID',
        `tenant ${id} was purged at ${row.purged_at?.toISOString() ?? '?'}: there is no data left to hold (see \`fleet purge report\`)`,
      );
    }
    if (row.hold_reason !== null) return transitionResult(region.name, row, {}, 'already-held', false);
    const now = fleet.clock.now();
    await client.query('UPDATE fleet.tenants SET hold_reason = $2, held_at = $3, held_by = $4, updated_at = $3 WHERE id = $1', [
      id,
      why,
      now,
      fleet.actor,
    ]);
    await recordAudit(client, {
      at: now,
      tenantId: id,
      action: 'hold-placed',
      fromState: row.status,
      toState: row.status,
      reason: why,
      actor: fleet.actor,
      details: { purgeAfter: row.purge_after?.toISOString() ?? null },
    });
    return transitionResult(region.name, row, { hold_reason: why }, 'held', true);
  });
}

/**
 * Release a legal hold. A disconnected tenant whose purge date has passed is due at the next purge.
 */
export async function releaseTenant(fleet: Fleet, id: string, options: { reason?: string } = {}): Promise<TransitionResult> {
  const why = options.reason === undefined ? 'hold released' : checkReason(options.reason);
  const { region } = await requireTenant(fleet, id);
  return withLockedTenant(region, id, async (client, row) => {
    if (row.hold_reason === null) return transitionResult(region.name, row, {}, 'not-held', false);
    const now = fleet.clock.now();
    await client.query('UPDATE fleet.tenants SET hold_reason = NULL, held_at = NULL, held_by = NULL, updated_at = $2 WHERE id = $1', [
      id,
      now,
    ]);
    await recordAudit(client, {
      at: now,
      tenantId: id,
      action: 'hold-released',
      fromState: row.status,
      toState: row.status,
      reason: why,
      actor: fleet.actor,
      details: {
        holdReason: row.hold_reason,
        heldAt: row.held_at?.toISOString() ?? null,
        heldBy: row.held_by,
        purgeAfter: row.purge_after?.toISOString() ?? null,
      },
    });
    return transitionResult(region.name, row, { hold_reason: null }, 'released', true);
  });
}
