import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { DAY_MS } from '../clock.ts';
import { recordAuditMany } from '../audit.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { evaluateBrake, type BrakeDecision } from '../purge/brake.ts';
import { BrakeRefusal } from '../purge/brake-refusal.ts';
import { summarizeDue } from '../purge/due-summary.ts';
import { purgeAfterFor } from './grace.ts';

export interface SweepOptions {
  /** Days without contact after which an active tenant counts as disconnected; default the fleet's lifecycle.staleAfterDays. */
  readonly staleAfterDays?: number;
  /** Only these regions; default all. */
  readonly regions?: readonly string[];
  /** Mark them disconnected; without it, only list them (a dry run). */
  readonly execute?: boolean;
  /** Refuse to execute when more than this many tenants are stale in the run (the purge's brake). */
  readonly max?: number;
  /** Execute even when the brake is tripped (more than lifecycle.purgeMaxShare of a region, or max). */
  readonly allowMass?: boolean;
}

export interface StaleTenant {
  readonly tenant: string;
  readonly region: string;
  /** The last contact, or the registration time for a tenant never heard from. */
  readonly lastContactAt: string;
  /** Set when the sweep disconnected it. */
  readonly purgeAfter: string | null;
}

export interface SweepReport {
  readonly dryRun: boolean;
  readonly now: string;
  readonly staleAfterDays: number;
  /** Active tenants whose last contact is before this are stale. */
  readonly cutoff: string;
  readonly stale: readonly StaleTenant[];
  /** How many were marked disconnected (0 in a dry run). */
  readonly disconnected: number;
  /**
   * The purge's brake over the stale tenants: a sweep that would disconnect more than
   * lifecycle.purgeMaxShare of a region (or more than max) is refused unless allowMass, since every
   * tenant it disconnects is purged once the grace period is over.
   */
  readonly brake: BrakeDecision;
  readonly allowMass: boolean;
  /** The database each region's sweep acted on, safe to print (no password). */
  readonly databases: readonly { readonly region: string; readonly database: string }[];
}

interface StaleRow {
  id: string;
  last_seen: Date;
}

const STALE_SQL = `SELECT id, coalesce(last_contact_at, created_at) AS last_seen FROM fleet.tenants
 WHERE status = 'active' AND coalesce(last_contact_at, created_at) < $1 ORDER BY id`;

/**
 * Silence counts: Atlassian sends nothing when a site is deleted, Forge nothing on uninstall. Active
 * tenants with no contact for the stale period are listed, and with `execute` marked disconnected
 * (purge_after = now + grace: the grace period starts when the silence is noticed). Contact later
 * makes such a tenant active again (see touchTenant). The condition is checked again in the same
 * statement that changes the row, so a tenant touched meanwhile is left alone.
 */
export async function sweepStaleTenants(fleet: Fleet, options: SweepOptions = {}): Promise<SweepReport> {
  const staleAfterDays = options.staleAfterDays ?? fleet.config.lifecycle.staleAfterDays;
  if (!Number.isInteger(staleAfterDays) || staleAfterDays < 1) {
    throw FleetError.forOption(
      'INPUT_INVALID',
      'staleAfterDays',
      (o) => `${o} must be a whole number of days of at least 1, got ${JSON.stringify(staleAfterDays)}`,
    );
  }
  const regions = options.regions && options.regions.length > 0 ? options.regions.map((r) => fleet.region(r)) : fleet.regions;
  const now = fleet.clock.now();
  const cutoff = new Date(now.getTime() - staleAfterDays * DAY_MS);
  const purgeAfter = purgeAfterFor(fleet, now);

  if (options.max !== undefined && (!Number.isInteger(options.max) || options.max < 0)) {
    throw FleetError.forOption(
      'INPUT_INVALID',
      'max',
      (o) => `${o} must be a whole number of tenants (0 or more), got ${JSON.stringify(options.max)}`,
    );
  }
  const planned = await Promise.all(
    regions.map(async (region) => ({
      region: region.name,
      stale: await listStale(region, cutoff),
      nonPurged: await countNonPurged(region),
    })),
  );
  const brake = evaluateBrake(
    planned.map((p) => ({ region: p.region, due: p.stale.length, nonPurged: p.nonPurged })),
    fleet.config.lifecycle.purgeMaxShare,
    options.max,
  );
  const listed = planned.flatMap((p) => p.stale);
  if (options.execute && brake.tripped && !options.allowMass) {
    throw new BrakeRefusal(
      `the mass-deletion brake refused this sweep: ${listed.length} active tenant(s) silent since ${cutoff.toISOString()}; nothing was changed. Each one disconnected would be purged after the grace period. If they really are gone, run again with --allow-mass; if not, find out why they stopped calling (the app's contact recording, the clock) first.`,
      brake.limits.filter((l) => l.exceeded).map((l) => l.message),
      listed,
      summarizeDue(listed.map((t) => ({ disconnectCause: 'stale', disconnectedAt: t.lastContactAt }))),
    );
  }
  // The execute checks the condition again under the row locks: a tenant touched since the listing is left alone.
  const stale = options.execute
    ? (await Promise.all(regions.map((region) => disconnectStale(fleet, region, now, cutoff, purgeAfter, staleAfterDays)))).flat()
    : listed;
  return {
    dryRun: !options.execute,
    now: now.toISOString(),
    staleAfterDays,
    cutoff: cutoff.toISOString(),
    stale,
    disconnected: options.execute ? stale.length : 0,
    brake,
    allowMass: options.allowMass ?? false,
    databases: regions.map((r) => ({ region: r.name, database: r.description })),
  };
}

async function countNonPurged(region: RegionDatabase): Promise<number> {
  const { rows } = await region.query<{ n: number }>(`SELECT count(*)::int AS n FROM fleet.tenants WHERE status <> 'purged'`);
  return rows[0]?.n ?? 0;
}

async function listStale(region: RegionDatabase, cutoff: Date): Promise<StaleTenant[]> {
  const { rows } = await region.query<StaleRow>(STALE_SQL, [cutoff]);
  return rows.map((r) => ({ tenant: r.id, region: region.name, lastContactAt: r.last_seen.toISOString(), purgeAfter: null }));
}

async function disconnectStale(
  fleet: Fleet,
  region: RegionDatabase,
  now: Date,
  cutoff: Date,
  purgeAfter: Date,
  staleAfterDays: number,
): Promise<StaleTenant[]> {
  return withClient(region.controlPool, (client) =>
    withTransaction(client, async () => {
      const { rows } = await client.query<StaleRow>(
        `WITH stale AS (
           SELECT id, coalesce(last_contact_at, created_at) AS last_seen FROM fleet.tenants
            WHERE status = 'active' AND coalesce(last_contact_at, created_at) < $1
            FOR UPDATE
         )
         UPDATE fleet.tenants t SET status = 'disconnected', disconnected_at = $2, disconnect_cause = 'stale', purge_after = $3, updated_at = $2
           FROM stale WHERE t.id = stale.id
         RETURNING t.id, stale.last_seen`,
        [cutoff, now, purgeAfter],
      );
      rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      await recordAuditMany(
        client,
        rows.map((r) => ({
          at: now,
          tenantId: r.id,
          action: 'stale',
          fromState: 'active',
          toState: 'disconnected',
          reason: `no contact since ${r.last_seen.toISOString()} (stale after ${staleAfterDays} days)`,
          actor: fleet.actor,
          details: { lastContactAt: r.last_seen.toISOString(), staleAfterDays, purgeAfter: purgeAfter.toISOString() },
        })),
      );
      return rows.map((r) => ({
        tenant: r.id,
        region: region.name,
        lastContactAt: r.last_seen.toISOString(),
        purgeAfter: purgeAfter.toISOString(),
      }));
    }),
  );
}
