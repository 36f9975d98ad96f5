import type { TenantStatus, TenantRow } from '../tenants/tenant-row.ts';
import { iso } from '../tenants/tenant-row.ts';

/** What a lifecycle command did to one tenant: a result, not a throw. */
export interface TransitionResult {
  readonly tenant: string;
  readonly region: string;
  /** What happened, e.g. `disconnected`, `already-disconnected`, `reactivated`, `held`. */
  readonly outcome: string;
  /** False when the command found the tenant already where it asked for: nothing was written. */
  readonly changed: boolean;
  /** null for a tenant this command registered. */
  readonly from: TenantStatus | null;
  readonly to: TenantStatus;
  readonly disconnectedAt: string | null;
  readonly purgeAfter: string | null;
  readonly holdReason: string | null;
}

export function transitionResult(
  region: string,
  before: TenantRow,
  after: Partial<TenantRow>,
  outcome: string,
  changed: boolean,
): TransitionResult {
  const merged = { ...before, ...after };
  return {
    tenant: before.id,
    region,
    outcome,
    changed,
    from: before.status,
    to: merged.status,
    disconnectedAt: iso(merged.disconnected_at),
    purgeAfter: iso(merged.purge_after),
    holdReason: merged.hold_reason,
  };
}
