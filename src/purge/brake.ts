/**
 * The mass-deletion brake. A bug that marks everyone disconnected (a broken contact recorder, a
 * clock gone wrong, a bad import) must not delete everyone: a purge refuses to execute when the
 * tenants due in a region exceed a share of that region's tenants, or the run's total exceeds
 * --max, unless told --allow-mass. Pure, so the numbers are tested without a database.
 */

export interface RegionCount {
  readonly region: string;
  /** Tenants due for purge now. */
  readonly due: number;
  /** The region's tenants that are not purged (provisioning, active, disconnected). */
  readonly nonPurged: number;
}

export interface BrakeLimit {
  readonly kind: 'share' | 'max';
  /** The region for a share limit; null for --max (the whole run). */
  readonly region: string | null;
  readonly due: number;
  /** The most this limit lets one purge delete. */
  readonly allowed: number;
  readonly exceeded: boolean;
  /** The limit and the numbers, in words. */
  readonly message: string;
}

export interface BrakeDecision {
  /** True when some limit is exceeded: an execute without --allow-mass is refused. */
  readonly tripped: boolean;
  readonly maxShare: number;
  readonly max: number | null;
  readonly limits: readonly BrakeLimit[];
}

function percent(share: number): string {
  return `${Number((share * 100).toFixed(2))}%`;
}

export function evaluateBrake(regions: readonly RegionCount[], maxShare: number, max?: number): BrakeDecision {
  const limits: BrakeLimit[] = regions.map(({ region, due, nonPurged }) => {
    // due > share × tenants, in integers: the largest whole number not above share × tenants.
    // (The epsilon keeps 0.29 × 100 = 28.999999999999996 in floating point from allowing only 28.)
    const allowed = Math.floor(maxShare * nonPurged + 1e-9);
    const exceeded = due > allowed;
    return {
      kind: 'share',
      region,
      due,
      allowed,
      exceeded,
      message: `region ${region}: ${due} tenant(s) due of ${nonPurged} not purged; the limit is ${percent(maxShare)} (lifecycle.purgeMaxShare), at most ${allowed} at once${exceeded ? ' — exceeded' : ''}`,
    };
  });
  if (max !== undefined) {
    const due = regions.reduce((n, r) => n + r.due, 0);
    const exceeded = due > max;
    limits.push({
      kind: 'max',
      region: null,
      due,
      allowed: max,
      exceeded,
      message: `this run: ${due} tenant(s) due; --max ${max}${exceeded ? ' — exceeded' : ''}`,
    });
  }
  return { tripped: limits.some((l) => l.exceeded), maxShare, max: max ?? null, limits };
}
