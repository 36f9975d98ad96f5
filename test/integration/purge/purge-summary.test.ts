/** The purge's answers for an on-call engineer: by cause and date, the refused tenants listed, an interrupt not ok. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { sweepStaleTenants } from '../../../src/lifecycle/sweep.ts';
import { purgeFleet } from '../../../src/purge/purge-fleet.ts';
import { BrakeRefusal } from '../../../src/purge/brake-refusal.ts';
import { dumpDatabase, tenantRow } from '../lifecycle/helpers.ts';

const db = useTestDatabase('purgesummary');
const clock = new ManualClock('2026-01-01T00:00:00Z');
let fleet: Fleet;
const ids = Array.from({ length: 10 }, (_, i) => `ps-${i}`);

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { clock });
  await addTenants(fleet, ids);
  await uninstallTenant(fleet, 'ps-0');
  await uninstallTenant(fleet, 'ps-1');
  clock.advance(40 * DAY_MS);
  // The others but two make contact; those two go stale on the sweep, on a later day.
  await fleet.regions[0]!.query(`UPDATE fleet.tenants SET last_contact_at = $1 WHERE id NOT IN ('ps-2', 'ps-3')`, [clock.now()]);
  await sweepStaleTenants(fleet, { execute: true, allowMass: true });
  clock.advance(31 * DAY_MS);
  await fleet.regions[0]!.query(`UPDATE fleet.tenants SET last_contact_at = $1 WHERE status = 'active'`, [clock.now()]);
});
afterAll(async () => fleet?.close());

describe('the purge summary', () => {
  test('the dry run counts the due tenants by disconnect cause and by day', async () => {
    const dry = await purgeFleet(fleet);
    expect(dry.due.map((d) => d.tenant)).toEqual(['ps-0', 'ps-1', 'ps-2', 'ps-3']);
    expect(dry.dueSummary).toEqual({ byCause: { stale: 2, uninstalled: 2 }, byDate: { '2026-01-01': 2, '2026-02-10': 2 } });
    expect(dry.databases).toEqual([{ region: 'local', database: expect.stringMatching(/^[^@]+:\d+\/\w+$/) }]);
  });

  test("the brake's refusal carries the tenants and the same summary; nothing changes", async () => {
    const before = await dumpDatabase(fleet);
    const error = await purgeFleet(fleet, { execute: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BrakeRefusal);
    const refusal = error as BrakeRefusal<{ tenant: string }>;
    expect(refusal.code).toBe('REFUSED');
    expect(refusal.tenants.map((t) => t.tenant)).toEqual(['ps-0', 'ps-1', 'ps-2', 'ps-3']);
    expect(refusal.dueSummary.byCause).toEqual({ stale: 2, uninstalled: 2 });
    expect(await dumpDatabase(fleet)).toEqual(before);
  });

  test('interrupted before it starts a tenant: that tenant is still due, the run is not ok', async () => {
    const controller = new AbortController();
    controller.abort();
    const report = await purgeFleet(fleet, { execute: true, allowMass: true, signal: controller.signal });
    expect(report.ok).toBe(false);
    expect(report.summary).toMatchObject({ due: 4, purged: 0, interrupted: 4 });
    expect(report.results.every((r) => r.status === 'skipped' && r.interrupted === true)).toBe(true);
    expect((await tenantRow(fleet, 'ps-0'))?.status).toBe('disconnected');
  });
});
