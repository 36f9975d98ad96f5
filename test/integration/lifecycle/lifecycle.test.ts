import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { installTenant } from '../../../src/lifecycle/install.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { touchTenant } from '../../../src/tenants/touch.ts';
import { sweepStaleTenants } from '../../../src/lifecycle/sweep.ts';
import { holdTenant, releaseTenant } from '../../../src/lifecycle/hold.ts';
import { purgeFleet } from '../../../src/purge/purge-fleet.ts';
import { auditOf, countRows, seedRows, tenantRow } from './helpers.ts';

const db = useTestDatabase('lifecycle');
const clock = new ManualClock('2026-01-01T00:00:00Z');
let fleet: Fleet;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, {
    clock,
    actor: 'user:oncall',
    config: { lifecycle: { graceDays: 30, staleAfterDays: 30, purgeMaxShare: 1 } },
  });
});
afterAll(async () => fleet?.close());

async function expectRefused(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FleetError);
  expect((error as FleetError).code).toBe(code);
  expect((error as FleetError).message).toMatch(message);
}

describe('install, uninstall, reinstall', () => {
  test('install of a new id provisions it: active, migrated, audited', async () => {
    const result = await installTenant(fleet, 'acme', { reason: 'test install' });
    expect(result).toMatchObject({
      tenant: 'acme',
      region: 'local',
      outcome: 'provisioned',
      changed: true,
      from: null,
      to: 'active',
      ok: true,
    });
    expect(await countRows(fleet, 'acme')).toBe(0);
    await seedRows(fleet, 'acme', 3);
    const audit = await auditOf(fleet, 'acme');
    expect(audit.map((a) => a.action)).toEqual(['registered', 'provisioned', 'installed']);
    expect(audit.at(-1)).toMatchObject({ reason: 'test install', actor: 'user:oncall', to_state: 'active' });
    expect(await installTenant(fleet, 'acme')).toMatchObject({ outcome: 'already-active', changed: false, to: 'active' });
  });

  test('uninstall: disconnected, purge_after = event time + grace, audited with who and why', async () => {
    clock.advance(DAY_MS);
    const at = new Date(clock.now().getTime() - 3_600_000);
    const result = await uninstallTenant(fleet, 'acme', { at, reason: 'site removed the app' });
    expect(result).toMatchObject({
      outcome: 'disconnected',
      changed: true,
      from: 'active',
      to: 'disconnected',
      disconnectedAt: at.toISOString(),
    });
    expect(result.purgeAfter).toBe(new Date(at.getTime() + 30 * DAY_MS).toISOString());
    const row = await tenantRow(fleet, 'acme');
    expect(row).toMatchObject({ status: 'disconnected', disconnect_cause: 'uninstalled' });
    expect(await auditOf(fleet, 'acme')).toContainEqual({
      action: 'uninstalled',
      from_state: 'active',
      to_state: 'disconnected',
      reason: 'site removed the app',
      actor: 'user:oncall',
    });
    // A repeated event keeps the first purge date.
    clock.advance(DAY_MS);
    expect(await uninstallTenant(fleet, 'acme')).toMatchObject({
      outcome: 'already-disconnected',
      changed: false,
      purgeAfter: result.purgeAfter,
    });
  });

  test('bad input is refused before anything changes: future --at, unknown tenant, stale event', async () => {
    await installTenant(fleet, 'globex');
    const before = await tenantRow(fleet, 'globex');
    await expectRefused(
      uninstallTenant(fleet, 'globex', { at: new Date(clock.now().getTime() + 60_000) }),
      'INPUT_INVALID',
      /in the future/,
    );
    await expectRefused(
      uninstallTenant(fleet, 'globex', { at: new Date('2025-12-01T00:00:00Z') }),
      'INPUT_INVALID',
      /before tenant globex's last contact or install/,
    );
    await expectRefused(uninstallTenant(fleet, 'nobody'), 'INPUT_INVALID', /not registered in any region/);
    await expectRefused(uninstallTenant(fleet, 'Bad Id'), 'INPUT_INVALID', /tenant id "Bad Id"/);
    await expectRefused(installTenant(fleet, 'globex', { region: 'mars' }), 'INPUT_INVALID', /unknown region "mars"/);
    expect(await tenantRow(fleet, 'globex')).toEqual(before);
  });

  test('reinstall before the purge: active again, every row kept, the purge date cleared', async () => {
    const result = await installTenant(fleet, 'acme', { reason: 'reinstalled by the site admin' });
    expect(result).toMatchObject({
      outcome: 'reactivated',
      changed: true,
      from: 'disconnected',
      to: 'active',
      purgeAfter: null,
      disconnectedAt: null,
    });
    expect(await countRows(fleet, 'acme')).toBe(6);
    expect(await tenantRow(fleet, 'acme')).toMatchObject({ status: 'active', purge_after: null, disconnect_cause: null });
    expect((await auditOf(fleet, 'acme')).at(-1)).toMatchObject({ action: 'reinstalled', from_state: 'disconnected', to_state: 'active' });
  });

  test('a purged tenant installed again is a fresh, empty tenant; its tombstone stays', async () => {
    await uninstallTenant(fleet, 'acme');
    clock.advance(31 * DAY_MS);
    const purge = await purgeFleet(fleet, { execute: true });
    expect(purge.results.find((r) => r.tenant === 'acme')).toMatchObject({ status: 'purged' });
    expect(await countRows(fleet, 'acme')).toBeNull();
    const again = await installTenant(fleet, 'acme');
    expect(again).toMatchObject({ outcome: 'reprovisioned', from: 'purged', to: 'active', ok: true });
    expect(await countRows(fleet, 'acme')).toBe(0);
    const { rows } = await fleet.regions[0]!.query('SELECT tenant_id FROM fleet.tombstones WHERE tenant_id = $1', ['acme']);
    expect(rows).toHaveLength(1);
    expect((await tenantRow(fleet, 'acme'))?.purged_at).toBeNull();
  });
});

describe('touch and sweep', () => {
  test('touch writes at most once a minute per tenant; within the minute this process sends nothing', async () => {
    await installTenant(fleet, 'initech');
    clock.advance(120_000);
    const first = await touchTenant(fleet, 'initech');
    expect(first).toMatchObject({ written: true, throttled: false, status: 'active', region: 'local' });
    clock.advance(30_000);
    expect(await touchTenant(fleet, 'initech')).toMatchObject({ written: false, throttled: true });
    clock.advance(31_000);
    expect(await touchTenant(fleet, 'initech')).toMatchObject({ written: true, throttled: false });
    expect(((await tenantRow(fleet, 'initech'))?.last_contact_at as Date).toISOString()).toBe(clock.now().toISOString());
    expect(await touchTenant(fleet, 'nobody-here')).toMatchObject({ region: null, written: false, status: null });
  });

  test('the database skips a write when another process recorded contact within the minute', async () => {
    const other = await openTestFleet(db().url, { clock, actor: 'other-process' });
    try {
      clock.advance(120_000);
      expect(await touchTenant(other, 'initech')).toMatchObject({ written: true });
      clock.advance(10_000);
      expect(await touchTenant(fleet, 'initech')).toMatchObject({ written: false, throttled: false, status: 'active' });
    } finally {
      await other.close();
    }
  });

  test('sweep: a dry run lists silent tenants and changes nothing; --execute disconnects them, audited', async () => {
    await installTenant(fleet, 'hooli');
    clock.advance(10 * DAY_MS);
    await touchTenant(fleet, 'hooli');
    await touchTenant(fleet, 'acme');
    clock.advance(25 * DAY_MS);
    // initech and globex: silent for 35 days; hooli: contact 25 days ago.
    const dry = await sweepStaleTenants(fleet);
    expect(dry.dryRun).toBe(true);
    expect(dry.stale.map((s) => s.tenant)).toEqual(['globex', 'initech']);
    expect((await tenantRow(fleet, 'initech'))?.status).toBe('active');
    const run = await sweepStaleTenants(fleet, { execute: true });
    expect(run).toMatchObject({ dryRun: false, disconnected: 2 });
    const row = await tenantRow(fleet, 'initech');
    expect(row).toMatchObject({ status: 'disconnected', disconnect_cause: 'stale' });
    expect((row?.purge_after as Date).getTime()).toBe(clock.now().getTime() + 30 * DAY_MS);
    expect((await auditOf(fleet, 'initech')).at(-1)).toMatchObject({
      action: 'stale',
      from_state: 'active',
      to_state: 'disconnected',
      actor: 'user:oncall',
    });
    expect((await tenantRow(fleet, 'hooli'))?.status).toBe('active');
    expect((await sweepStaleTenants(fleet, { staleAfterDays: 20 })).stale.map((s) => s.tenant)).toEqual(['acme', 'hooli']);
    await expectRefused(sweepStaleTenants(fleet, { staleAfterDays: 0 }), 'INPUT_INVALID', /staleAfterDays/);
  });

  test('contact from a tenant a sweep disconnected brings it back; after an uninstall it does not', async () => {
    const back = await touchTenant(fleet, 'initech');
    expect(back).toMatchObject({ resumed: true, written: true, status: 'active' });
    expect(await tenantRow(fleet, 'initech')).toMatchObject({ status: 'active', purge_after: null });
    expect((await auditOf(fleet, 'initech')).at(-1)).toMatchObject({
      action: 'contact-resumed',
      from_state: 'disconnected',
      to_state: 'active',
    });
    await uninstallTenant(fleet, 'hooli');
    clock.advance(2 * 60_000);
    expect(await touchTenant(fleet, 'hooli')).toMatchObject({ resumed: false, written: false, status: 'disconnected' });
    expect((await tenantRow(fleet, 'hooli'))?.status).toBe('disconnected');
  });
});

describe('legal hold', () => {
  test('a held tenant is never purged; released, it is due at the next purge', async () => {
    await expectRefused(holdTenant(fleet, 'hooli', '  '), 'INPUT_INVALID', /^reason is required/);
    const held = await holdTenant(fleet, 'hooli', 'LEGAL-42 litigation hold');
    expect(held).toMatchObject({
      outcome: 'held',
      changed: true,
      holdReason: 'LEGAL-42 litigation hold',
      from: 'disconnected',
      to: 'disconnected',
    });
    expect(await holdTenant(fleet, 'hooli', 'another')).toMatchObject({
      outcome: 'already-held',
      changed: false,
      holdReason: 'LEGAL-42 litigation hold',
    });
    clock.advance(40 * DAY_MS);
    const purge = await purgeFleet(fleet, { execute: true });
    expect(purge.due.map((d) => d.tenant)).not.toContain('hooli');
    expect((await tenantRow(fleet, 'hooli'))?.status).toBe('disconnected');
    expect(await tenantRow(fleet, 'hooli')).toMatchObject({ held_by: 'user:oncall' });

    const released = await releaseTenant(fleet, 'hooli', { reason: 'LEGAL-42 closed' });
    expect(released).toMatchObject({ outcome: 'released', changed: true, holdReason: null });
    expect(await releaseTenant(fleet, 'hooli')).toMatchObject({ outcome: 'not-held', changed: false });
    const audit = await auditOf(fleet, 'hooli');
    expect(audit.filter((a) => a.action.startsWith('hold-')).map((a) => [a.action, a.reason])).toEqual([
      ['hold-placed', 'LEGAL-42 litigation hold'],
      ['hold-released', 'LEGAL-42 closed'],
    ]);
    const next = await purgeFleet(fleet, { execute: true });
    expect(next.results).toContainEqual(expect.objectContaining({ tenant: 'hooli', status: 'purged' }));
    await expectRefused(holdTenant(fleet, 'hooli', 'too late'), 'INPUT_INVALID', /was purged/);
  });
});
