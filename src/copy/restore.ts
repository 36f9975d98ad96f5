import pg from 'pg';
import type { Fleet } from '../fleet.ts';
import { recordAudit } from '../audit.ts';
import { DAY_MS } from '../clock.ts';
import { createTenantRole, dropTenantRole, tenantRoleFor } from '../access/tenant-role.ts';
import { quoteIdent } from '../db/quote.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { readMigrationFiles } from '../migrate/migration-files.ts';
import { runSettings } from '../migrate/run-fleet.ts';
import { migrateTenantUp } from '../migrate/tenant-migrator.ts';
import { assertTenantId, schemaNameFor } from '../tenants/ids.ts';
import { lockTenantForTransaction, releaseTenantLock, tryTenantLock } from '../tenants/tenant-lock.ts';
import { findTenant, requireTenant } from '../tenants/tenant-row.ts';
import { dropTenantAsideSchemas, listAsideSchemas, type AsideSchema } from '../tenants/aside.ts';
import { copyTenant, type CopyReport } from './copy-tenant.ts';
import { dropTenantData } from './drop-copy.ts';
import { ledgerVersion, readTenantLedger } from './ledger.ts';
import { copyPool } from './pools.ts';

export interface RestoreOptions {
  /** The database restored from a snapshot or a point in time (a postgres:// URL). */
  readonly from: string;
  /** Restore into this new tenant (same region) instead of replacing the live one. */
  readonly as?: string;
  /** Without it, only the plan: nothing changes. */
  readonly execute?: boolean;
}

export interface RestoreResult {
  readonly tenantId: string;
  readonly into: string;
  readonly region: string;
  readonly mode: 'new-tenant' | 'replace';
  readonly sourceVersion: string | null;
  readonly executed: boolean;
  /** Replace: where the live schema was set aside. */
  readonly aside?: string;
  /** Replace: when the purge drops the aside schema (the restore plus lifecycle.graceDays). */
  readonly asideDropAfter?: string;
  readonly copy?: CopyReport;
  readonly migratedForward?: readonly string[];
}

/**
 * Restore a tenant from a database restored from a backup. With `as`, into a new tenant of the
 * live tenant's region (the live one untouched). Without it, the live tenant is replaced under its
 * lease: the restored copy is built beside it (as tenant `<id>__restore`), migrated forward to
 * the live tenant's code, then swapped in by renames in one transaction; the live schema is kept
 * aside (fleet.aside_schemas, no tenant privilege on it) until the purge after its drop date, or
 * `discardAside`. A restored copy at
 * a newer version than these migration files is refused. Dry run unless `execute`.
 */
export async function restoreTenant(fleet: Fleet, tenantId: string, options: RestoreOptions): Promise<RestoreResult> {
  assertTenantId(tenantId);
  if (options.as !== undefined) assertTenantId(options.as);
  const live = options.as === undefined ? await requireTenant(fleet, tenantId) : await findTenant(fleet, tenantId);
  if (options.as !== undefined && (await findTenant(fleet, options.as)))
    throw FleetError.forOption('INPUT_INVALID', 'as', (o) => `tenant ${options.as} is already registered: ${o} names a new tenant id`);
  const region = live?.region ?? (fleet.regions.length === 1 ? fleet.regions[0] : undefined);
  if (!region)
    throw new FleetError(
      'INPUT_INVALID',
      `tenant ${tenantId} is not registered here and the fleet has several regions: cannot tell where to restore it`,
    );
  const files = readMigrationFiles(fleet.migrationsDir);
  const sourcePool = new pg.Pool({ connectionString: options.from, max: 2 });
  sourcePool.on('error', () => undefined);
  try {
    const sourceSchema = await withClient(sourcePool, async (c) => {
      const { rows } = await c.query<{ schema_name: string }>('SELECT schema_name FROM fleet.tenants WHERE id = $1', [tenantId]);
      if (!rows[0])
        throw FleetError.forOption(
          'INPUT_INVALID',
          'from',
          (o) =>
            `the database of ${o} does not register tenant ${tenantId}: is it a restore of region ${region.name}'s database, from before the tenant was purged?`,
        );
      return rows[0].schema_name;
    });
    const sourceVersion = ledgerVersion(tenantId, await withClient(sourcePool, (c) => readTenantLedger(c, tenantId)), files);
    const into = options.as ?? `${tenantId}__restore`;
    if (into.length > 60)
      throw new FleetError(
        'INPUT_INVALID',
        `tenant id ${tenantId} is too long to restore in place (its working copy id ${into} exceeds 60 characters): restore with --as`,
      );
    const base = {
      tenantId,
      into: options.as ?? tenantId,
      region: region.name,
      mode: options.as ? ('new-tenant' as const) : ('replace' as const),
      sourceVersion,
    };
    if (!options.execute) return { ...base, executed: false };

    const targetPool = copyPool(region);
    try {
      const schema = schemaNameFor(into);
      const now = fleet.clock.now();
      await withClient(targetPool, async (c) => {
        const { rows } = await c.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1', [into]);
        if (rows[0] && rows[0].status !== 'restoring')
          throw new FleetError('REFUSED', `tenant ${into} is already registered (${rows[0].status}); nothing was restored`);
        // A working copy left by a killed restore: dropped, then made afresh.
        await dropTenantData(c, { id: into, schema });
        await withTransaction(c, async () => {
          await c.query(
            `INSERT INTO fleet.tenants (id, schema_name, region, status, created_at, updated_at) VALUES ($1, $2, $3, 'restoring', $4, $4) ON CONFLICT (id) DO NOTHING`,
            [into, schema, region.name, now],
          );
          await recordAudit(c, {
            at: now,
            tenantId,
            action: 'restore.started',
            toState: 'restoring',
            actor: fleet.actor,
            details: { into, version: sourceVersion },
          });
        });
      });
      const settings = runSettings(fleet, { copying: true });
      const copy = await copyTenant({
        source: { pool: sourcePool, tenantId, schema: sourceSchema },
        target: { pool: targetPool, tenantId: into, schema, region: region.name, status: 'restoring' },
        files,
        settings,
        onStep: (s) =>
          withClient(targetPool, (c) =>
            recordAudit(c, {
              at: fleet.clock.now(),
              tenantId,
              action: s.action,
              actor: fleet.actor,
              details: { ...s.details, restore: true, into },
            }),
          ),
      });
      // Older than the code: the runner's own path brings it forward before it is switched in.
      const forward = await withClient(targetPool, (c) =>
        migrateTenantUp(c, { id: into, region: region.name, schema, status: 'restoring', applied: [] }, files, settings),
      );
      if (forward.status === 'failed')
        throw new FleetError(
          'REFUSED',
          `the restored copy could not be migrated forward (${forward.error.migration ?? '?'}: ${forward.error.message}); the live tenant is untouched`,
        );
      const migratedForward = forward.status === 'applied' ? forward.migrations : [];
      if (options.as) {
        await withClient(targetPool, (c) =>
          withTransaction(c, async () => {
            await c.query(`UPDATE fleet.tenants SET status = 'active', updated_at = $2, last_contact_at = $2 WHERE id = $1`, [
              into,
              fleet.clock.now(),
            ]);
            await recordAudit(c, {
              at: fleet.clock.now(),
              tenantId: into,
              action: 'restored',
              fromState: 'restoring',
              toState: 'active',
              reason: `restored from tenant ${tenantId} of a restored database`,
              actor: fleet.actor,
              details: { from: tenantId, version: sourceVersion, migratedForward },
            });
          }),
        );
        return { ...base, executed: true, copy, migratedForward };
      }
      const { aside, dropAfter } = await swapIn(
        fleet,
        targetPool,
        tenantId,
        live?.row.schema_name ?? schemaNameFor(tenantId),
        into,
        schema,
      );
      return { ...base, executed: true, copy, migratedForward, aside, asideDropAfter: dropAfter.toISOString() };
    } catch (error) {
      await withClient(targetPool, async (c) => {
        await dropTenantData(c, { id: options.as ?? `${tenantId}__restore`, schema: schemaNameFor(options.as ?? `${tenantId}__restore`) });
        await c.query(`DELETE FROM fleet.tenants WHERE id = $1 AND status = 'restoring'`, [options.as ?? `${tenantId}__restore`]);
      }).catch(() => undefined);
      throw error;
    } finally {
      await targetPool.end();
    }
  } finally {
    await sourcePool.end();
  }
}

/**
 * Under the live tenant's lease, in one transaction: the live schema renamed aside (the tenant's
 * role loses every privilege on it), the restored schema renamed to the live name, the tenant's
 * role granted on it, the ledger taken over from the working copy, the working copy's roles and
 * registry row dropped. Killed before COMMIT, nothing changed.
 */
async function swapIn(
  fleet: Fleet,
  pool: pg.Pool,
  tenantId: string,
  liveSchema: string,
  workId: string,
  workSchema: string,
): Promise<{ aside: string; dropAfter: Date }> {
  const now = fleet.clock.now();
  const aside = `${liveSchema}_aside_${now.toISOString().replace(/\D/g, '').slice(0, 14)}`;
  const dropAfter = new Date(now.getTime() + fleet.config.lifecycle.graceDays * DAY_MS);
  return withClient(pool, async (c) => {
    if (!(await tryTenantLock(c, tenantId)))
      throw new FleetError('REFUSED', `tenant ${tenantId} is held by a migration or a purge; nothing was swapped: run the restore again`);
    try {
      await withTransaction(c, async () => {
        await lockTenantForTransaction(c, tenantId);
        const role = quoteIdent(await tenantRoleFor(c, { id: tenantId, schema: liveSchema }));
        await c.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${quoteIdent(liveSchema)} FROM ${role}`);
        await c.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${quoteIdent(liveSchema)} FROM ${role}`);
        await c.query(`REVOKE ALL ON SCHEMA ${quoteIdent(liveSchema)} FROM ${role}`);
        await c.query(`ALTER SCHEMA ${quoteIdent(liveSchema)} RENAME TO ${quoteIdent(aside)}`);
        // The working copy's roles go before its schema takes the live name (their names come from it).
        await dropTenantRole(c, { id: workId, schema: workSchema });
        await c.query(`ALTER SCHEMA ${quoteIdent(workSchema)} RENAME TO ${quoteIdent(liveSchema)}`);
        await createTenantRole(c, { id: tenantId, schema: liveSchema });
        await c.query('DELETE FROM fleet.migrations WHERE tenant_id = $1', [tenantId]);
        await c.query('UPDATE fleet.migrations SET tenant_id = $1 WHERE tenant_id = $2', [tenantId, workId]);
        await c.query('DELETE FROM fleet.tenants WHERE id = $1', [workId]);
        await c.query(
          'INSERT INTO fleet.aside_schemas (schema_name, tenant_id, set_aside_at, drop_after, actor) VALUES ($1, $2, $3, $4, $5)',
          [aside, tenantId, now, dropAfter, fleet.actor],
        );
        await recordAudit(c, {
          at: now,
          tenantId,
          action: 'restored',
          reason: 'replaced by a restored copy',
          actor: fleet.actor,
          details: { aside, dropAfter: dropAfter.toISOString() },
        });
      });
      return { aside, dropAfter };
    } finally {
      await releaseTenantLock(c, tenantId).catch(() => undefined);
    }
  });
}

/**
 * The schemas restores set aside for this tenant, in every region (a tenant moved since keeps its
 * aside schemas where they were made).
 */
export async function asideSchemasOf(fleet: Fleet, tenantId: string): Promise<AsideSchema[]> {
  await requireTenant(fleet, tenantId);
  const all = await Promise.all(fleet.regions.map((region) => listAsideSchemas(region)));
  return all.flat().filter((a) => a.tenant === tenantId);
}

/**
 * Drop the schemas restores set aside for this tenant, now, in every region
 * (`fleet tenants restore --discard-aside`); without it the purge drops each after its drop date.
 * Refused for a tenant on legal hold.
 */
export async function discardAside(fleet: Fleet, tenantId: string): Promise<readonly string[]> {
  const { row } = await requireTenant(fleet, tenantId);
  if (row.hold_reason !== null)
    throw new FleetError(
      'REFUSED',
      `tenant ${tenantId} is on legal hold (${row.hold_reason}): its aside schemas are kept with it; nothing was dropped`,
    );
  const dropped: string[] = [];
  for (const region of fleet.regions) {
    const schemas = await withClient(region.controlPool, (c) =>
      withTransaction(c, async () => {
        const list = await dropTenantAsideSchemas(c, tenantId);
        if (list.length > 0)
          await recordAudit(c, {
            at: fleet.clock.now(),
            tenantId,
            action: 'aside.discarded',
            actor: fleet.actor,
            details: { schemas: list },
          });
        return list;
      }),
    );
    dropped.push(...schemas);
  }
  return dropped;
}
