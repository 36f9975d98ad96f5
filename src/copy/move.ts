import type pg from 'pg';
import type { Fleet } from '../fleet.ts';
import { recordAudit } from '../audit.ts';
import { quoteIdent } from '../db/quote.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { FleetError } from '../errors.ts';
import { readMigrationFiles } from '../migrate/migration-files.ts';
import { runSettings } from '../migrate/run-fleet.ts';
import { backupExpiry } from '../purge/backup-expiry.ts';
import { schemaSize } from '../purge/plan.ts';
import { dropTenantRole } from '../access/tenant-role.ts';
import { lockTenantForTransaction, releaseTenantLock, tryTenantLock } from '../tenants/tenant-lock.ts';
import { schemaNameFor } from '../tenants/ids.ts';
import { copyTenant, type CopyReport } from './copy-tenant.ts';
import { dropTenantData } from './drop-copy.ts';
import { ledgerVersion, readTenantLedger } from './ledger.ts';
import { moveSituation, readSides, type MoveSituation, type MoveStatus, type RegionSide } from './move-state.ts';
import { withCopyPools } from './pools.ts';
import { assertSameVersion, regionVersion } from './region-version.ts';

/** A tenant's fleet.installations row (control migration 0007), carried as it is. */
interface InstallationCopy {
  tenant_id: string;
  kind: string;
  installation_id: string | null;
  secret_box: Buffer | null;
  secret_key_id: string | null;
  installed_at: Date;
  updated_at: Date;
}

const INSTALLATION_COLUMNS = 'tenant_id, kind, installation_id, secret_box, secret_key_id, installed_at, updated_at';

export interface MovePlan {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  readonly version: string | null;
}

export interface MoveResult extends MovePlan {
  readonly status: MoveStatus;
  readonly copy?: CopyReport;
}

export interface MoveOptions {
  /**
   * Called once the tenant is marked `moving` (committed), before the copy begins: a caller that
   * answers before the copy is done (a realm-migration `start` hook) answers then, when a rerun or
   * a status query finds the move recorded.
   */
  readonly onStarted?: () => void;
  /** Merged into the details of the move's audit events (e.g. Atlassian's migration id). */
  readonly auditDetails?: Readonly<Record<string, unknown>>;
}

/** The tenant's lease is held by a migration, a purge or another copy: nothing changed; the same call later goes through. */
export class MoveBusy extends FleetError {
  constructor(id: string, region: string) {
    super(
      'REFUSED',
      `tenant ${id} is held in region ${region} by a migration, a purge or another copy; nothing was changed: run the move again when it is done`,
    );
  }
}

/** fn holding the tenant's lease on `lease` (the source's), or MoveBusy. */
async function holdingLease<T>(lease: pg.ClientBase, tenantId: string, region: string, fn: () => Promise<T>): Promise<T> {
  if (!(await tryTenantLock(lease, tenantId))) throw new MoveBusy(tenantId, region);
  try {
    return await fn();
  } finally {
    await releaseTenantLock(lease, tenantId).catch(() => undefined);
  }
}

async function audit(
  pool: pg.Pool,
  fleet: Fleet,
  tenantId: string,
  action: string,
  details: Record<string, unknown>,
  states: { from?: string; to?: string; reason?: string } = {},
): Promise<void> {
  await withClient(pool, (client) =>
    recordAudit(client, {
      at: fleet.clock.now(),
      tenantId,
      action,
      fromState: states.from ?? null,
      toState: states.to ?? null,
      reason: states.reason ?? null,
      actor: fleet.actor,
      details,
    }),
  );
}

/**
 * Check a move before anything changes (the realm-migration `schedule` hook): the tenant is
 * active in one region, the target is another region of this fleet, its migration version equals
 * the tenant's.
 */
export async function scheduleMove(fleet: Fleet, tenantId: string, toRegion: string): Promise<MovePlan> {
  const target = fleet.region(toRegion);
  const situation = moveSituation(await readSides(fleet, tenantId));
  const source = situation.source;
  if (!source)
    throw new FleetError(
      'INPUT_INVALID',
      `tenant ${JSON.stringify(tenantId)} is not registered in any region of this fleet; check the id with \`fleet tenants list\``,
    );
  if (situation.status !== 'not-started' && source.copy?.peer !== toRegion) {
    throw new FleetError(
      'REFUSED',
      `tenant ${tenantId} is being moved to region ${source.copy?.peer ?? '?'} (${situation.status}): finish that move (commit) or roll it back first`,
    );
  }
  if (situation.status === 'not-started' && source.region.name === toRegion)
    throw FleetError.forOption(
      'INPUT_INVALID',
      'toRegion',
      (o) => `tenant ${tenantId} is already in region ${toRegion}: ${o} names the region it moves to`,
    );
  if (situation.status === 'not-started' && source.status !== 'active') {
    throw new FleetError(
      'TENANT_NOT_ACTIVE',
      `tenant ${tenantId} is ${source.status} in region ${source.region.name}: only an active tenant moves (reinstall it first)`,
    );
  }
  const other = await readSides(fleet, tenantId);
  const squatter = other.find(
    (s) => s.region === target && s.copy?.direction !== 'in' && !(s.status === 'moving' && s.movedFrom === source.region.name),
  );
  if (squatter && situation.status === 'not-started') {
    throw new FleetError(
      'REFUSED',
      `region ${toRegion} already has a registry row for tenant ${tenantId} (status ${squatter.status}); a purged one is kept as evidence: move it elsewhere or remove that row by hand`,
    );
  }
  const files = readMigrationFiles(fleet.migrationsDir);
  const version = ledgerVersion(tenantId, await withClient(source.region.controlPool, (c) => readTenantLedger(c, tenantId)), files);
  const targetVersion = await withClient(target.controlPool, (c) => regionVersion(c));
  assertSameVersion(tenantId, { region: source.region.name, version }, { region: toRegion, version: targetVersion });
  return { tenantId, from: source.region.name, to: toRegion, version };
}

/**
 * Copy the tenant to the target region and verify it (the `start` hook). The tenant stops being
 * served (status 'moving' in the source) before the copy begins and until commit or rollback.
 * Holds the tenant's lease in the source throughout, so no migration or purge runs meanwhile.
 * A half-made target left by a killed start is dropped first. A copy that does not verify is
 * dropped, the source serves again, and status answers 'failed'.
 */
export async function startMove(fleet: Fleet, tenantId: string, toRegion: string, options: MoveOptions = {}): Promise<MoveResult> {
  const plan = await scheduleMove(fleet, tenantId, toRegion);
  return withCopyPools([fleet.region(plan.from), fleet.region(plan.to)], (pools) =>
    withClient(pools.get(plan.from) as pg.Pool, (lease) =>
      holdingLease(lease, tenantId, plan.from, () => copyUnderLease(fleet, plan, pools, lease, options)),
    ),
  );
}

/** startMove's work, the caller holding the source's lease on `lease`. */
async function copyUnderLease(
  fleet: Fleet,
  plan: MovePlan,
  pools: Map<string, pg.Pool>,
  lease: pg.ClientBase,
  options: MoveOptions,
): Promise<MoveResult> {
  const { tenantId } = plan;
  const sourcePool = pools.get(plan.from) as pg.Pool;
  const targetPool = pools.get(plan.to) as pg.Pool;
  const schema = schemaNameFor(tenantId);
  const extra = options.auditDetails ?? {};
  const now = fleet.clock.now();
  await withTransaction(lease, async () => {
    const { rows } = await lease.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1 FOR UPDATE', [tenantId]);
    const status = rows[0]?.status;
    if (status !== 'active' && status !== 'moving')
      throw new FleetError(
        'TENANT_NOT_ACTIVE',
        `tenant ${tenantId} is ${status ?? 'not registered'} in region ${plan.from}; nothing was changed`,
      );
    await lease.query(`UPDATE fleet.tenants SET status = 'moving', updated_at = $2 WHERE id = $1`, [tenantId, now]);
    await lease.query(
      `INSERT INTO fleet.tenant_copies (tenant_id, direction, kind, peer, phase, started_at, updated_at, actor)
       VALUES ($1, 'out', 'move', $2, 'copying', $3, $3, $4)
       ON CONFLICT (tenant_id) DO UPDATE SET phase = 'copying', peer = excluded.peer, started_at = excluded.started_at, updated_at = excluded.updated_at, actor = excluded.actor, details = '{}'`,
      [tenantId, plan.to, now, fleet.actor],
    );
    await recordAudit(lease, {
      at: now,
      tenantId,
      action: 'move.started',
      fromState: status,
      toState: 'moving',
      actor: fleet.actor,
      details: { ...extra, to: plan.to, version: plan.version },
    });
  });
  options.onStarted?.();
  await clearTarget(fleet, targetPool, tenantId, schema, plan.from);
  await withClient(targetPool, (client) =>
    withTransaction(client, async () => {
      await client.query(
        `INSERT INTO fleet.tenants (id, schema_name, region, status, created_at, updated_at, moved_from) VALUES ($1, $2, $3, 'moving', $4, $4, $5)`,
        [tenantId, schema, plan.to, now, plan.from],
      );
      await client.query(
        `INSERT INTO fleet.tenant_copies (tenant_id, direction, kind, peer, phase, started_at, updated_at, actor) VALUES ($1, 'in', 'move', $2, 'copying', $3, $3, $4)`,
        [tenantId, plan.from, now, fleet.actor],
      );
      await recordAudit(client, {
        at: now,
        tenantId,
        action: 'move.copy-in',
        fromState: null,
        toState: 'moving',
        actor: fleet.actor,
        details: { ...extra, from: plan.from },
      });
    }),
  );
  let copy: CopyReport;
  try {
    copy = await copyTenant({
      source: { pool: sourcePool, tenantId, schema },
      target: { pool: targetPool, tenantId, schema, region: plan.to, status: 'moving' },
      files: readMigrationFiles(fleet.migrationsDir),
      settings: runSettings(fleet, { copying: true }),
      onStep: (s) => audit(sourcePool, fleet, tenantId, s.action, { ...extra, ...s.details, to: plan.to }),
    });
  } catch (error) {
    await failMove(fleet, lease, targetPool, tenantId, schema, plan, error as Error);
    throw error;
  }
  const sums = { version: copy.version, tables: copy.tables };
  await withClient(targetPool, (c) =>
    c.query(`UPDATE fleet.tenant_copies SET phase = 'verified', updated_at = $2, details = $3 WHERE tenant_id = $1`, [
      tenantId,
      fleet.clock.now(),
      JSON.stringify(sums),
    ]),
  );
  await lease.query(`UPDATE fleet.tenant_copies SET phase = 'verified', updated_at = $2, details = $3 WHERE tenant_id = $1`, [
    tenantId,
    fleet.clock.now(),
    JSON.stringify(sums),
  ]);
  return { ...plan, status: 'ready-to-commit', copy };
}

/** A target row left by a killed start (status 'moving', moved from the source): its data, roles, ledger and row go. */
async function clearTarget(fleet: Fleet, targetPool: pg.Pool, tenantId: string, schema: string, from: string): Promise<void> {
  await withClient(targetPool, async (client) => {
    const { rows } = await client.query<{ status: string; moved_from: string | null }>(
      'SELECT status, moved_from FROM fleet.tenants WHERE id = $1',
      [tenantId],
    );
    const row = rows[0];
    if (row && !(row.status === 'moving' && row.moved_from === from)) {
      throw new FleetError('REFUSED', `the target region already registers tenant ${tenantId} (status ${row.status}); nothing was copied`);
    }
    await dropTenantData(client, { id: tenantId, schema });
    // A switch never committed here (the row is still 'moving', or gone): any installation row is stale.
    await client.query('DELETE FROM fleet.installations WHERE tenant_id = $1', [tenantId]);
    if (row) {
      await withTransaction(client, async () => {
        await client.query('DELETE FROM fleet.tenant_copies WHERE tenant_id = $1', [tenantId]);
        await client.query('DELETE FROM fleet.tenants WHERE id = $1', [tenantId]);
        await recordAudit(client, {
          at: fleet.clock.now(),
          tenantId,
          action: 'move.half-copy-dropped',
          fromState: 'moving',
          toState: null,
          actor: fleet.actor,
          details: { from },
        });
      });
    }
  });
}

async function failMove(
  fleet: Fleet,
  lease: pg.ClientBase,
  targetPool: pg.Pool,
  tenantId: string,
  schema: string,
  plan: MovePlan,
  error: Error,
): Promise<void> {
  await clearTarget(fleet, targetPool, tenantId, schema, plan.from).catch(() => undefined);
  await withTransaction(lease, async () => {
    await lease.query(`UPDATE fleet.tenants SET status = 'active', updated_at = $2 WHERE id = $1 AND status = 'moving'`, [
      tenantId,
      fleet.clock.now(),
    ]);
    await lease.query(`UPDATE fleet.tenant_copies SET phase = 'failed', updated_at = $2, details = $3 WHERE tenant_id = $1`, [
      tenantId,
      fleet.clock.now(),
      JSON.stringify({ error: error.message }),
    ]);
    await recordAudit(lease, {
      at: fleet.clock.now(),
      tenantId,
      action: 'move.failed',
      fromState: 'moving',
      toState: 'active',
      reason: error.message,
      actor: fleet.actor,
      details: { to: plan.to },
    });
  });
}

/** Where the move stands (the `status` hook): 'ready-to-commit' after a verified start, 'failed' after one that did not verify. */
export async function moveStatus(
  fleet: Fleet,
  tenantId: string,
): Promise<{ readonly status: MoveStatus; readonly from?: string; readonly to?: string; readonly error?: string }> {
  const situation = moveSituation(await readSides(fleet, tenantId));
  const error = situation.source?.copy?.phase === 'failed' ? String(situation.source.copy.details.error ?? '') : undefined;
  return {
    status: situation.status,
    ...(situation.source ? { from: situation.source.region.name } : {}),
    ...(situation.source?.copy ? { to: situation.source.copy.peer } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

/**
 * Switch the registry and drop the source (the `commit` hook). The switch is one commit in the
 * target database (its row 'moving' → 'active'): before it the source's registry is the truth and
 * the tenant is served nowhere; after it the target serves, and the source's row, still 'moving',
 * is never served again. Then the source's schema and roles are dropped as a purge drops them,
 * with a tombstone "moved to R", and its registry row deleted. Killed anywhere, commit again.
 */
export async function commitMove(fleet: Fleet, tenantId: string, options: MoveOptions = {}): Promise<MoveResult> {
  const { plan, source } = committable(tenantId, moveSituation(await readSides(fleet, tenantId)));
  return withCopyPools([fleet.region(plan.from), fleet.region(plan.to)], (pools) =>
    withClient(pools.get(plan.from) as pg.Pool, (lease) =>
      holdingLease(lease, tenantId, plan.from, () => commitUnderLease(fleet, plan, source, pools, lease, options)),
    ),
  );
}

/** A move commit may finish: verified (ready-to-commit) or already switched (committed); otherwise refused. */
function committable(tenantId: string, situation: MoveSituation): { plan: MovePlan & { switched: boolean }; source: RegionSide } {
  const { source, target } = situation;
  if (situation.status !== 'ready-to-commit' && situation.status !== 'committed') {
    throw new FleetError(
      'REFUSED',
      `tenant ${tenantId}'s move is ${situation.status}: commit needs a verified copy (run start${situation.status === 'copying' ? ' again, or roll back' : ''}); nothing was changed`,
    );
  }
  if (!source || !target)
    throw new FleetError('REFUSED', `tenant ${tenantId}: the move's source or target row is missing; nothing was changed`);
  return {
    plan: { tenantId, from: source.region.name, to: target.region.name, version: null, switched: situation.status === 'committed' },
    source,
  };
}

/** commitMove's work, the caller holding the source's lease on `lease`. */
async function commitUnderLease(
  fleet: Fleet,
  plan: MovePlan & { switched: boolean },
  source: RegionSide,
  pools: Map<string, pg.Pool>,
  lease: pg.ClientBase,
  options: MoveOptions,
): Promise<MoveResult> {
  const { switched, ...result } = plan;
  const extra = options.auditDetails ?? {};
  if (!switched) await switchToTarget(fleet, lease, pools.get(plan.to) as pg.Pool, plan.tenantId, result, extra);
  await dropSource(fleet, lease, plan.tenantId, source, plan.to, extra);
  return { ...result, status: 'committed' as const };
}

async function switchToTarget(
  fleet: Fleet,
  lease: pg.ClientBase,
  targetPool: pg.Pool,
  tenantId: string,
  plan: MovePlan,
  extra: Readonly<Record<string, unknown>>,
): Promise<void> {
  // The copy was verified at start; what can have changed since is the ledger (the lease was
  // free between start and commit): both sides must still be at one version.
  const sourceLedger = await readTenantLedger(lease, tenantId);
  // What authenticates the tenant's requests moves with the switch: the target serves it from the
  // same commit on (the sealed secret opens anywhere: the tenant id, not the database, is its key's context).
  const installation = (
    await lease.query<InstallationCopy>(`SELECT ${INSTALLATION_COLUMNS} FROM fleet.installations WHERE tenant_id = $1`, [tenantId])
  ).rows[0];
  await withClient(targetPool, (client) =>
    withTransaction(client, async () => {
      await lockTenantForTransaction(client, tenantId);
      const targetLedger = await readTenantLedger(client, tenantId);
      if (sourceLedger.join() !== targetLedger.join()) {
        throw new FleetError(
          'REFUSED',
          `tenant ${tenantId} was migrated on one side since its copy was verified (source ${sourceLedger.at(-1) ?? 'none'}, target ${targetLedger.at(-1) ?? 'none'}): run start again (it copies afresh), then commit; nothing was switched`,
        );
      }
      const now = fleet.clock.now();
      const updated = await client.query(
        `UPDATE fleet.tenants SET status = 'active', updated_at = $2, last_contact_at = $2 WHERE id = $1 AND status = 'moving'`,
        [tenantId, now],
      );
      if ((updated.rowCount ?? 0) !== 1)
        throw new FleetError('REFUSED', `tenant ${tenantId}'s target row in ${plan.to} is no longer 'moving'; nothing was switched`);
      if (installation)
        await client.query(
          `INSERT INTO fleet.installations (${INSTALLATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (tenant_id) DO UPDATE SET kind = excluded.kind, installation_id = excluded.installation_id, secret_box = excluded.secret_box,
             secret_key_id = excluded.secret_key_id, installed_at = excluded.installed_at, updated_at = excluded.updated_at`,
          [
            installation.tenant_id,
            installation.kind,
            installation.installation_id,
            installation.secret_box,
            installation.secret_key_id,
            installation.installed_at,
            installation.updated_at,
          ],
        );
      await client.query('DELETE FROM fleet.tenant_copies WHERE tenant_id = $1', [tenantId]);
      await recordAudit(client, {
        at: now,
        tenantId,
        action: 'moved-in',
        fromState: 'moving',
        toState: 'active',
        reason: `moved from ${plan.from}`,
        actor: fleet.actor,
        details: { ...extra, from: plan.from },
      });
    }),
  );
}

/** The source's half of commit, in one transaction on the lease connection, as a purge drops a tenant. */
async function dropSource(
  fleet: Fleet,
  lease: pg.ClientBase,
  tenantId: string,
  source: RegionSide,
  to: string,
  extra: Readonly<Record<string, unknown>>,
): Promise<void> {
  await withTransaction(lease, async () => {
    await lockTenantForTransaction(lease, tenantId);
    const { rows } = await lease.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1 FOR UPDATE', [tenantId]);
    if (rows[0]?.status !== 'moving') return;
    const size = await schemaSize(lease, source.schema);
    const now = fleet.clock.now();
    const expires = backupExpiry(fleet.config, now);
    await lease.query(`DROP SCHEMA IF EXISTS ${quoteIdent(source.schema)} CASCADE`);
    await dropTenantRole(lease, { id: tenantId, schema: source.schema });
    await lease.query('DELETE FROM fleet.migrations WHERE tenant_id = $1', [tenantId]);
    await lease.query(
      `INSERT INTO fleet.tombstones (tenant_id, schema_name, region, disconnected_at, disconnect_cause, purge_after, purged_at, backup_expires_at, tables, approx_bytes, actor)
       VALUES ($1, $2, $3, NULL, $4, $5, $5, $6, $7, $8, $9)`,
      [tenantId, source.schema, source.region.name, `moved to ${to}`, now, expires, size.tables, size.bytes, fleet.actor],
    );
    await lease.query('DELETE FROM fleet.tenant_copies WHERE tenant_id = $1', [tenantId]);
    await lease.query('DELETE FROM fleet.installations WHERE tenant_id = $1', [tenantId]);
    await lease.query('DELETE FROM fleet.tenants WHERE id = $1', [tenantId]);
    await recordAudit(lease, {
      at: now,
      tenantId,
      action: 'moved-out',
      fromState: 'moving',
      toState: null,
      reason: `moved to ${to}`,
      actor: fleet.actor,
      details: {
        ...extra,
        to,
        schema: source.schema,
        tables: size.tables,
        approxBytes: size.bytes,
        backupExpiresAt: expires.toISOString(),
      },
    });
  });
}

/** Drop the target copy and serve the tenant from the source again (the `rollback` hook). Refused once committed. */
export async function rollbackMove(fleet: Fleet, tenantId: string, options: MoveOptions = {}): Promise<MoveResult> {
  const situation: MoveSituation = moveSituation(await readSides(fleet, tenantId));
  const { source } = situation;
  if (situation.status === 'committed')
    throw new FleetError(
      'REFUSED',
      `tenant ${tenantId} already moved to ${situation.target?.region.name ?? '?'}: a committed move is not rolled back (move it back instead)`,
    );
  if (!source || situation.status === 'not-started')
    throw new FleetError('INPUT_INVALID', `tenant ${tenantId} is not being moved; nothing to roll back`);
  const to = source.copy?.peer ?? '';
  const plan: MovePlan = { tenantId, from: source.region.name, to, version: null };
  const schema = schemaNameFor(tenantId);
  return withCopyPools([source.region, fleet.region(to)], async (pools) => {
    const sourcePool = pools.get(plan.from) as pg.Pool;
    const targetPool = pools.get(to) as pg.Pool;
    return withClient(sourcePool, (lease) =>
      holdingLease(lease, tenantId, plan.from, async () => {
        await clearTarget(fleet, targetPool, tenantId, schema, plan.from);
        await withTransaction(lease, async () => {
          const now = fleet.clock.now();
          await lease.query(`UPDATE fleet.tenants SET status = 'active', updated_at = $2 WHERE id = $1 AND status = 'moving'`, [
            tenantId,
            now,
          ]);
          await lease.query('DELETE FROM fleet.tenant_copies WHERE tenant_id = $1', [tenantId]);
          await recordAudit(lease, {
            at: now,
            tenantId,
            action: 'move.rolled-back',
            fromState: 'moving',
            toState: 'active',
            actor: fleet.actor,
            details: { ...options.auditDetails, to },
          });
        });
        return { ...plan, status: 'not-started' as const };
      }),
    );
  });
}

/**
 * `fleet tenants move`: start and commit, resumable, holding the source's lease from before the
 * copy until the source is dropped, so no migration runs between the copy's verification and the
 * switch. A rerun after a kill finds where the last run stopped: a committed switch is finished
 * (the source dropped); anything before it is copied afresh (the half-made target dropped first);
 * a tenant already in the target region is reported.
 */
export async function moveTenant(fleet: Fleet, tenantId: string, toRegion: string, options: MoveOptions = {}): Promise<MoveResult> {
  fleet.region(toRegion);
  const situation = moveSituation(await readSides(fleet, tenantId));
  if (situation.status === 'committed' || (situation.status === 'ready-to-commit' && situation.target?.region.name === toRegion))
    return commitMove(fleet, tenantId, options);
  if (
    situation.status === 'not-started' &&
    situation.source?.region.name === toRegion &&
    situation.source.status === 'active' &&
    situation.source.movedFrom !== null
  ) {
    return { tenantId, from: situation.source.movedFrom, to: toRegion, version: null, status: 'committed' };
  }
  const plan = await scheduleMove(fleet, tenantId, toRegion);
  return withCopyPools([fleet.region(plan.from), fleet.region(plan.to)], (pools) =>
    withClient(pools.get(plan.from) as pg.Pool, (lease) =>
      holdingLease(lease, tenantId, plan.from, async () => {
        const started = await copyUnderLease(fleet, plan, pools, lease, options);
        const verified = committable(tenantId, moveSituation(await readSides(fleet, tenantId)));
        const committed = await commitUnderLease(fleet, verified.plan, verified.source, pools, lease, options);
        return { ...committed, version: started.version, ...(started.copy ? { copy: started.copy } : {}) };
      }),
    ),
  );
}
