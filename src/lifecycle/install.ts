import type { Fleet } from '../fleet.ts';
import { recordAudit } from '../audit.ts';
import { FleetError } from '../errors.ts';
import { addTenants } from '../provisioning/add-tenants.ts';
import { prepareTenantSchema } from '../provisioning/prepare-schema.ts';
import { migrateFleet, type MigrateReport } from '../migrate/migrate-fleet.ts';
import type { RunEvent } from '../migrate/run-fleet.ts';
import { assertTenantId } from '../tenants/ids.ts';
import { findTenant, markReactivated, withLockedTenant, type TenantRow } from '../tenants/tenant-row.ts';
import { transitionResult, type TransitionResult } from './transition.ts';
import { withClient } from '../db/scoped.ts';

export interface InstallOptions {
  /** Region for a new tenant (required when the fleet has several); an existing tenant stays where it is. */
  readonly region?: string;
  /** Why, for the audit trail; default "installed". */
  readonly reason?: string;
  readonly details?: Record<string, unknown>;
  /**
   * Whether an id never seen may be provisioned as a new tenant (default true: an install callback
   * is how new tenants arrive). False for an operator's reinstall, where an unknown id is a typo.
   */
  readonly allowNew?: boolean;
  readonly concurrency?: number;
  readonly onEvent?: (event: RunEvent) => void;
}

export interface InstallResult extends TransitionResult {
  /** False when provisioning (migrating the new schema) failed; the tenant stays provisioning and a rerun completes it. */
  readonly ok: boolean;
  /** The migrate report when a schema was provisioned. */
  readonly migrate?: MigrateReport;
}

/**
 * The app was installed for this tenant:
 * - unknown id: registered, provisioned and migrated (as `tenants add`), outcome `provisioned`;
 * - still provisioning (an interrupted add): completed, `completed`;
 * - disconnected (even past its purge date, as long as no purge has run): active again with all of
 *   its data, `reactivated`; a legal hold stays;
 * - purged: a fresh, empty tenant under the same id, `reprovisioned`; its tombstone stays;
 * - active: nothing changes but the contact time, `already-active`.
 */
export async function installTenant(fleet: Fleet, id: string, options: InstallOptions = {}): Promise<InstallResult> {
  assertTenantId(id);
  const located = await findTenant(fleet, id);
  const reason = options.reason ?? 'installed';
  const migrateOptions = {
    prepare: prepareTenantSchema,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  };

  if (!located) {
    if (options.allowNew === false) {
      throw FleetError.forOption(
        'INPUT_INVALID',
        'allowNew',
        (o) =>
          `tenant ${JSON.stringify(id)} is unknown in ${fleet.regions.map((r) => r.name).join(', ')}: nothing was changed. Check the id (fleet tenants list); to provision a new tenant under it, pass ${o}`,
      );
    }
    const report = await addTenants(fleet, [id], {
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...migrateOptions,
    });
    const after = await findTenant(fleet, id);
    if (!after) throw new FleetError('INPUT_INVALID', `tenant ${id} was not registered: ${JSON.stringify(report.alreadyRegistered)}`);
    await recordInstalled(fleet, after.region.name, after.row, reason, options.details);
    return {
      ...transitionResult(after.region.name, after.row, {}, 'provisioned', true),
      from: null,
      ok: report.migrate.ok,
      migrate: report.migrate,
    };
  }

  const { region } = located;
  if (options.region !== undefined && options.region !== region.name) {
    fleet.region(options.region); // an unknown region name is reported as such first
    throw new FleetError(
      'INPUT_INVALID',
      `tenant ${id} is registered in region ${region.name}, not ${options.region}: a tenant stays in its region; leave --region out or pass ${region.name}`,
    );
  }

  const now = fleet.clock.now();
  const step = await withLockedTenant(region, id, async (client, row) => {
    switch (row.status) {
      case 'active': {
        await client.query('UPDATE fleet.tenants SET last_contact_at = greatest(last_contact_at, $2) WHERE id = $1', [id, now]);
        return { row, after: {}, outcome: 'already-active', changed: false, provision: false };
      }
      case 'provisioning':
        return { row, after: {}, outcome: 'completed', changed: false, provision: true };
      case 'moving':
      case 'restoring':
        throw new FleetError(
          'TENANT_NOT_ACTIVE',
          `tenant ${id} is being ${row.status === 'moving' ? 'moved to another region' : 'restored'} (src/copy); install it again once that is done`,
        );
      case 'disconnected': {
        const after = { status: 'active' as const, disconnected_at: null, disconnect_cause: null, purge_after: null, last_contact_at: now };
        await markReactivated(client, id, now);
        await recordAudit(client, {
          at: now,
          tenantId: id,
          action: 'reinstalled',
          fromState: 'disconnected',
          toState: 'active',
          reason,
          actor: fleet.actor,
          details: {
            dataKept: true,
            disconnectedAt: row.disconnected_at?.toISOString() ?? null,
            cancelledPurgeAfter: row.purge_after?.toISOString() ?? null,
            ...options.details,
          },
        });
        return { row, after, outcome: 'reactivated', changed: true, provision: false };
      }
      case 'purged': {
        const after = {
          status: 'provisioning' as const,
          disconnected_at: null,
          disconnect_cause: null,
          purge_after: null,
          purged_at: null,
          last_contact_at: now,
        };
        await client.query(
          `UPDATE fleet.tenants SET status = 'provisioning', disconnected_at = NULL, disconnect_cause = NULL, purge_after = NULL, purged_at = NULL, last_contact_at = $2, updated_at = $2 WHERE id = $1`,
          [id, now],
        );
        await recordAudit(client, {
          at: now,
          tenantId: id,
          action: 'reinstalled',
          fromState: 'purged',
          toState: 'provisioning',
          reason,
          actor: fleet.actor,
          details: { dataKept: false, fresh: true, previousPurgedAt: row.purged_at?.toISOString() ?? null, ...options.details },
        });
        return { row, after, outcome: 'reprovisioned', changed: true, provision: true };
      }
    }
  });

  if (!step.provision) return { ...transitionResult(region.name, step.row, step.after, step.outcome, step.changed), ok: true };
  const report = await migrateFleet(fleet, { tenants: [id], ...migrateOptions });
  const final = await findTenant(fleet, id);
  const finalRow: TenantRow = final?.row ?? { ...step.row, ...step.after };
  return {
    ...transitionResult(region.name, step.row, { ...finalRow }, step.outcome, true),
    ok: report.ok,
    migrate: report,
  };
}

async function recordInstalled(
  fleet: Fleet,
  region: string,
  row: TenantRow,
  reason: string,
  details?: Record<string, unknown>,
): Promise<void> {
  await withClient(fleet.region(region).controlPool, (client) =>
    recordAudit(client, {
      at: fleet.clock.now(),
      tenantId: row.id,
      action: 'installed',
      fromState: null,
      toState: row.status,
      reason,
      actor: fleet.actor,
      details: { new: true, ...details },
    }),
  );
}
