import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { installTenant } from '../../../src/lifecycle/install.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { holdTenant } from '../../../src/lifecycle/hold.ts';
import { purgeFleet } from '../../../src/purge/purge-fleet.ts';
import { purgeEvidence } from '../../../src/purge/purge-report.ts';
import { createTenantRole, tenantRoleFor } from '../../../src/access/tenant-role.ts';
import { countRows, dumpDatabase, seedRows, tenantRow } from '../lifecycle/helpers.ts';

const db = useTestDatabase('purge');
const clock = new ManualClock('2026-01-01T00:00:00Z');
let fleet: Fleet;
const ids = Array.from({ length: 20 }, (_, i) => `site-${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { clock, actor: 'user:purger' });
  await addTenants(fleet, ids);
  for (const id of ids) await seedRows(fleet, id, 2);
});
afterAll(async () => fleet?.close());

async function refusal(promise: Promise<unknown>): Promise<FleetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FleetError);
  return error as FleetError;
}

describe('purge', () => {
  test('a dry run lists the due tenants with schema, tables, size and backup expiry, and changes nothing', async () => {
    await uninstallTenant(fleet, 'site-00');
    await uninstallTenant(fleet, 'site-01');
    clock.advance(10 * DAY_MS);
    await uninstallTenant(fleet, 'site-02');
    clock.advance(21 * DAY_MS); // site-00/01: 31 days disconnected; site-02: 21
    const before = await dumpDatabase(fleet);
    const dry = await purgeFleet(fleet);
    expect(dry).toMatchObject({ ok: true, dryRun: true, results: [], summary: { due: 2, purged: 0 } });
    expect(dry.due.map((d) => d.tenant)).toEqual(['site-00', 'site-01']);
    const first = dry.due[0]!;
    expect(first).toMatchObject({ schema: 't_site_00', tables: 5, disconnectCause: 'uninstalled', purgeAfter: '2026-01-31T00:00:00.000Z' });
    expect(first.approxBytes).toBeGreaterThan(8192);
    expect(first.backupExpiresAt).toBe(new Date(clock.now().getTime() + 90 * DAY_MS).toISOString());
    expect(dry.brake).toMatchObject({ tripped: false, maxShare: 0.1 });

    // A preview of a later date lists more, still changing nothing.
    const preview = await purgeFleet(fleet, { now: new Date(clock.now().getTime() + 10 * DAY_MS) });
    expect(preview.due.map((d) => d.tenant)).toEqual(['site-00', 'site-01', 'site-02']);
    expect(await dumpDatabase(fleet)).toEqual(before);
  });

  test('execute ahead of time is refused: --now after the clock', async () => {
    const error = await refusal(purgeFleet(fleet, { execute: true, now: new Date(clock.now().getTime() + DAY_MS) }));
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.message).toMatch(/in the future/);
    expect((await tenantRow(fleet, 'site-00'))?.status).toBe('disconnected');
  });

  test('execute drops schema and role, deletes ledger rows, marks purged, keeps a tombstone and an audit event', async () => {
    const client = await fleet.regions[0]!.controlPool.connect();
    let role: string;
    try {
      await createTenantRole(client, { id: 'site-00', schema: 't_site_00' });
      role = await tenantRoleFor(client, { id: 'site-00', schema: 't_site_00' });
    } finally {
      client.release();
    }
    const roleExists = async () => (await fleet.regions[0]!.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount;
    expect(await roleExists()).toBe(1);

    const report = await purgeFleet(fleet, { execute: true });
    expect(report).toMatchObject({ ok: true, dryRun: false, summary: { due: 2, purged: 2, skipped: 0, failed: 0 } });
    expect(report.results.map((r) => [r.tenant, r.status])).toEqual([
      ['site-00', 'purged'],
      ['site-01', 'purged'],
    ]);
    expect(await countRows(fleet, 'site-00')).toBeNull();
    expect(await roleExists()).toBe(0);
    const ledger = await fleet.regions[0]!.query('SELECT count(*)::int AS n FROM fleet.migrations WHERE tenant_id = $1', ['site-00']);
    expect(ledger.rows[0]?.n).toBe(0);
    expect(await tenantRow(fleet, 'site-00')).toMatchObject({ status: 'purged', purged_at: clock.now() });
    const tomb = await fleet.regions[0]!.query('SELECT * FROM fleet.tombstones WHERE tenant_id = $1', ['site-00']);
    expect(tomb.rows).toHaveLength(1);
    expect(tomb.rows[0]).toMatchObject({
      schema_name: 't_site_00',
      region: 'local',
      tables: 5,
      actor: 'user:purger',
      disconnect_cause: 'uninstalled',
      backup_expires_at: new Date(clock.now().getTime() + 90 * DAY_MS),
    });
    const audit = await fleet.regions[0]!.query(
      `SELECT from_state, to_state, actor, reason, details FROM fleet.audit_events WHERE tenant_id = $1 AND action = 'purged'`,
      ['site-00'],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({
      from_state: 'disconnected',
      to_state: 'purged',
      actor: 'user:purger',
      details: { schema: 't_site_00', tables: 5, ledgerRowsDeleted: 6 },
    });
    // Everyone else untouched.
    for (const id of ids.slice(2)) expect(await countRows(fleet, id)).toBe(4);

    const again = await purgeFleet(fleet, { execute: true });
    expect(again).toMatchObject({ ok: true, summary: { due: 0, purged: 0 } });
  });

  test('the brake refuses a purge of more than the share of a region, naming the limit and the numbers; --allow-mass proceeds', async () => {
    for (const id of ['site-03', 'site-04', 'site-05']) await uninstallTenant(fleet, id);
    clock.advance(31 * DAY_MS); // due: site-02..05 = 4 of 18 not purged; 10% allows 1
    const before = await dumpDatabase(fleet);
    const error = await refusal(purgeFleet(fleet, { execute: true }));
    expect(error.code).toBe('REFUSED');
    expect(error.message).toMatch(/mass-deletion brake refused this purge: 4 tenant\(s\) due; nothing was purged.*--allow-mass/);
    expect(error.problems).toEqual([
      'region local: 4 tenant(s) due of 18 not purged; the limit is 10% (lifecycle.purgeMaxShare), at most 1 at once — exceeded',
    ]);
    expect(await dumpDatabase(fleet)).toEqual(before);

    const dry = await purgeFleet(fleet, { max: 3 });
    expect(dry.brake.tripped).toBe(true);
    expect(dry.brake.limits.filter((l) => l.exceeded).map((l) => l.kind)).toEqual(['share', 'max']);
    const overMax = await refusal(purgeFleet(fleet, { execute: true, allowMass: false, max: 3 }));
    expect(overMax.problems).toContain('this run: 4 tenant(s) due; --max 3 — exceeded');

    await holdTenant(fleet, 'site-05', 'LEGAL-7');
    const mass = await purgeFleet(fleet, { execute: true, allowMass: true });
    expect(mass).toMatchObject({ ok: true, allowMass: true, summary: { due: 3, purged: 3 } });
    expect((await tenantRow(fleet, 'site-05'))?.status).toBe('disconnected');
    expect(await countRows(fleet, 'site-05')).toBe(4);
  });

  test('the report lists every purge with its dates and backup expiry; --since narrows it', async () => {
    const all = await purgeEvidence(fleet);
    expect(all.purges.map((p) => p.tenant)).toEqual(['site-00', 'site-01', 'site-02', 'site-03', 'site-04']);
    expect(all.purges[0]).toMatchObject({
      region: 'local',
      schema: 't_site_00',
      disconnectCause: 'uninstalled',
      schemaGone: true,
      currentStatus: 'purged',
      backupsExpired: false,
      actor: 'user:purger',
    });
    expect(all.summary).toEqual({ purges: 5, tenants: 5, backupsStillHolding: 5 });
    const since = await purgeEvidence(fleet, { since: new Date(clock.now().getTime() - DAY_MS) });
    expect(since.purges.map((p) => p.tenant)).toEqual(['site-02', 'site-03', 'site-04']);
    clock.advance(100 * DAY_MS);
    expect((await purgeEvidence(fleet)).summary.backupsStillHolding).toBe(0);
  });
});

/** Wait until `n` backends of this database wait for a lock (so the interleaving is what the test says). */
async function waitForLockWaiters(fleetDb: Fleet, n: number): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    const { rows } = await fleetDb.regions[0]!.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if ((rows[0]?.n ?? 0) >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never saw ${n} backend(s) waiting for a lock`);
}

describe('a reinstall racing a purge: whichever commits first wins, the other sees it', () => {
  test('the reinstall commits first: the purge, already under way, skips the tenant and its data stays', async () => {
    const id = 'site-10';
    await uninstallTenant(fleet, id);
    clock.advance(31 * DAY_MS);
    // Hold the tenant's lease row (as a purge or support grant in progress would) so the purge stops right before its re-check.
    const blocker = new pg.Client({ connectionString: db().url });
    await blocker.connect();
    const other = await openTestFleet(db().url, { clock, actor: 'user:site-admin' });
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT fleet.lock_tenant_for_transaction($1)', [id]);
      const purge = purgeFleet(fleet, { execute: true, allowMass: true });
      await waitForLockWaiters(fleet, 1);
      const reinstall = await installTenant(other, id);
      expect(reinstall).toMatchObject({ outcome: 'reactivated', to: 'active' });
      await blocker.query('COMMIT');
      const report = await purge;
      expect(report.results.find((r) => r.tenant === id)).toMatchObject({
        status: 'skipped',
        reason: expect.stringMatching(/^active \(reinstalled/),
      });
      expect(await countRows(fleet, id)).toBe(4);
      expect((await tenantRow(fleet, id))?.status).toBe('active');
    } finally {
      await blocker.end();
      await other.close();
    }
  });

  test('the purge commits first: the reinstall, already under way, waits and then sees a purged tenant: fresh and empty', async () => {
    const id = 'site-11';
    await uninstallTenant(fleet, id);
    clock.advance(31 * DAY_MS);
    // A reader holding a table of the tenant makes the purge wait inside its transaction, after the re-check.
    const blocker = new pg.Client({ connectionString: db().url });
    await blocker.connect();
    const other = await openTestFleet(db().url, { clock, actor: 'user:site-admin' });
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE t_site_11.projects IN ACCESS SHARE MODE');
      const purge = purgeFleet(fleet, { execute: true, allowMass: true });
      await waitForLockWaiters(fleet, 1); // DROP SCHEMA waits; the purge holds the row lock
      const reinstall = installTenant(other, id);
      await waitForLockWaiters(fleet, 2); // the reinstall waits for the row
      await blocker.query('ROLLBACK');
      const report = await purge;
      expect(report.results.find((r) => r.tenant === id)).toMatchObject({ status: 'purged' });
      expect(await reinstall).toMatchObject({ outcome: 'reprovisioned', from: 'purged', to: 'active' });
      expect(await countRows(fleet, id)).toBe(0);
      const tomb = await fleet.regions[0]!.query('SELECT count(*)::int AS n FROM fleet.tombstones WHERE tenant_id = $1', [id]);
      expect(tomb.rows[0]?.n).toBe(1);
    } finally {
      await blocker.end();
      await other.close();
    }
  });
});
