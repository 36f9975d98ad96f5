/**
 * Aside schemas (a restore's replaced live schemas): listed by `fleet status`, dropped by the first
 * purge after their drop date (restore time + lifecycle.graceDays) whatever the tenant's state,
 * and with their tenant when the tenant is purged. Time moves by the injected clock.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { runFleet, cliEnv } from '../helpers/cli.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { holdTenant, releaseTenant } from '../../../src/lifecycle/hold.ts';
import { restoreTenant, discardAside } from '../../../src/copy/restore.ts';
import { fleetStatus } from '../../../src/migrate/fleet-status.ts';
import { purgeFleet } from '../../../src/purge/purge-fleet.ts';
import { withDb } from '../copy/helpers.ts';
import { auditOf, dumpDatabase } from '../lifecycle/helpers.ts';

// The CLI runs on the system clock: the library's clock starts 200 days before it and is moved
// across the drop dates by hand, so every aside schema made here is due by the CLI's time.
const T0 = new Date(Date.now() - 200 * DAY_MS);
const clock = new ManualClock(T0);
let live: TestDatabase;
let snapshot: TestDatabase;
let fleet: Fleet;

const schemaExists = (schema: string) =>
  withDb(live.url, async (c) => ((await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount ?? 0) > 0);
const asideRows = () =>
  withDb(live.url, async (c) => (await c.query<{ schema_name: string }>('SELECT schema_name FROM fleet.aside_schemas ORDER BY 1')).rows);

beforeAll(async () => {
  [live, snapshot] = await Promise.all([createTestDatabase('aside_live'), createTestDatabase('aside_snap')]);
  const old = await openTestFleet(snapshot.url, { clock });
  await addTenants(old, ['acme', 'globex', 'initech']);
  await old.close();
  fleet = await openTestFleet(live.url, {
    clock,
    actor: 'user:oncall',
    config: { lifecycle: { graceDays: 30, staleAfterDays: 30, purgeMaxShare: 1 } },
  });
  await addTenants(fleet, ['acme', 'globex', 'initech']);
  for (const id of ['acme', 'globex', 'initech'])
    await withDb(live.url, (c) => c.query(`INSERT INTO "t_${id}".projects (id, key, name) VALUES (1, 'A', 'live')`));
});
afterAll(async () => {
  await fleet?.close();
  await Promise.all([live?.drop(), snapshot?.drop()]);
});

describe('aside schemas', () => {
  let acmeAside: string;

  test('fleet status lists an aside schema with its tenant, dates and whether it is due', async () => {
    const restored = await restoreTenant(fleet, 'acme', { from: snapshot.url, execute: true });
    acmeAside = restored.aside as string;
    const dropAfter = new Date(T0.getTime() + 30 * DAY_MS).toISOString();
    expect(restored.asideDropAfter).toBe(dropAfter);
    const status = await fleetStatus(fleet);
    expect(status.aside).toEqual([
      { tenant: 'acme', region: 'local', schema: acmeAside, setAsideAt: T0.toISOString(), dropAfter, actor: 'user:oncall', due: false },
    ]);
    expect(status.regions[0]).toMatchObject({ region: 'local', aside: 1 });
  });

  test('the purge leaves it before its drop date, previews it, lists it in the dry run when due, then drops it', async () => {
    clock.advance(30 * DAY_MS - 1000);
    expect((await purgeFleet(fleet)).aside).toEqual([]);
    expect((await purgeFleet(fleet, { execute: true })).asideResults).toEqual([]);
    expect(await schemaExists(acmeAside)).toBe(true);
    // A preview of a later date lists it, changing nothing.
    const preview = await purgeFleet(fleet, { now: new Date(clock.now().getTime() + DAY_MS) });
    expect(preview.aside.map((a) => a.schema)).toEqual([acmeAside]);

    clock.advance(1000);
    expect((await fleetStatus(fleet)).aside[0]).toMatchObject({ schema: acmeAside, due: true });
    const before = await dumpDatabase(fleet);
    const dry = await purgeFleet(fleet);
    expect(dry).toMatchObject({ ok: true, dryRun: true, summary: { due: 0, asideDue: 1, asideDropped: 0 }, asideResults: [] });
    expect(dry.aside).toEqual([
      expect.objectContaining({ tenant: 'acme', region: 'local', schema: acmeAside, tables: 5, dropAfter: clock.now().toISOString() }),
    ]);
    expect(dry.aside[0]!.approxBytes).toBeGreaterThan(0);
    expect(await dumpDatabase(fleet)).toEqual(before);

    const done = await purgeFleet(fleet, { execute: true });
    expect(done).toMatchObject({ ok: true, summary: { due: 0, purged: 0, asideDue: 1, asideDropped: 1, asideFailed: 0 } });
    expect(done.asideResults).toEqual([
      expect.objectContaining({ tenant: 'acme', region: 'local', schema: acmeAside, status: 'dropped', tables: 5 }),
    ]);
    expect(await schemaExists(acmeAside)).toBe(false);
    expect(await asideRows()).toEqual([]);
    // The live tenant (the restored copy) is untouched and still active.
    expect(await schemaExists('t_acme')).toBe(true);
    const audit = (await auditOf(fleet, 'acme')).filter((e) => e.action === 'aside.dropped');
    expect(audit).toEqual([expect.objectContaining({ actor: 'user:oncall', reason: expect.stringMatching(/^kept aside until /) })]);
    expect((await fleetStatus(fleet)).aside).toEqual([]);
    // Nothing is left to do: a second run finds nothing.
    expect((await purgeFleet(fleet, { execute: true })).summary).toMatchObject({ asideDue: 0, asideDropped: 0 });
  });

  test('a purge of a tenant drops its aside schemas with it, before their drop date', async () => {
    const restored = await restoreTenant(fleet, 'globex', { from: snapshot.url, execute: true });
    const aside = restored.aside as string;
    // Uninstalled ten days before the restore: due twenty days after it, before the aside's date.
    await uninstallTenant(fleet, 'globex', { at: new Date(clock.now().getTime() - 10 * DAY_MS) });
    clock.advance(21 * DAY_MS);
    const dry = await purgeFleet(fleet);
    expect(dry.aside).toEqual([]);
    expect(dry.due).toEqual([expect.objectContaining({ tenant: 'globex', asideSchemas: [aside] })]);
    const report = await purgeFleet(fleet, { execute: true, tenants: ['globex'] });
    expect(report.results).toEqual([expect.objectContaining({ tenant: 'globex', status: 'purged', asideDropped: [aside] })]);
    expect(await schemaExists(aside)).toBe(false);
    expect(await schemaExists('t_globex')).toBe(false);
    expect(await asideRows()).toEqual([]);
    const purged = await fleet.regions[0]!.query<{ details: { asideDropped: string[] } }>(
      `SELECT details FROM fleet.audit_events WHERE tenant_id = 'globex' AND action = 'purged'`,
    );
    expect(purged.rows[0]?.details.asideDropped).toEqual([aside]);
  });

  test('a purge limited to some tenants drops only their aside schemas; a legal hold keeps them; --discard-aside drops at once', async () => {
    const acme = (await restoreTenant(fleet, 'acme', { from: snapshot.url, execute: true })).aside as string;
    const initech = (await restoreTenant(fleet, 'initech', { from: snapshot.url, execute: true })).aside as string;
    await holdTenant(fleet, 'initech', 'LEGAL-9');
    clock.advance(31 * DAY_MS);
    expect((await purgeFleet(fleet)).aside.map((a) => a.schema)).toEqual([acme]);
    expect((await purgeFleet(fleet, { execute: true, tenants: ['initech'] })).asideResults).toEqual([]);
    expect(await schemaExists(initech)).toBe(true);
    await expect(discardAside(fleet, 'initech')).rejects.toThrow(/on legal hold \(LEGAL-9\)/);
    await releaseTenant(fleet, 'initech');
    const only = await purgeFleet(fleet, { execute: true, tenants: ['initech'] });
    expect(only.asideResults.map((a) => [a.schema, a.status])).toEqual([[initech, 'dropped']]);
    expect(await schemaExists(acme)).toBe(true);
    expect(await discardAside(fleet, 'acme')).toEqual([acme]);
    expect(await schemaExists(acme)).toBe(false);
    expect(await asideRows()).toEqual([]);
  });

  test('the CLI: fleet status lists aside schemas (text and --json), fleet purge shows the due ones in its dry run', async () => {
    const aside = (await restoreTenant(fleet, 'acme', { from: snapshot.url, execute: true })).aside as string;
    const env = cliEnv(live.url);
    const json = await runFleet(['status', '--json'], env);
    expect(json.exitCode, json.stderr).toBe(0);
    const status = JSON.parse(json.stdout) as { aside: unknown[]; regions: Array<{ aside: number }> };
    expect(status.aside).toEqual([expect.objectContaining({ tenant: 'acme', region: 'local', schema: aside, due: true })]);
    expect(status.regions[0]?.aside).toBe(1);
    const text = await runFleet(['status'], env);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout + text.stderr).toMatch(new RegExp(`acme\\s+local\\s+${aside}\\s+\\S+\\s+\\S+ \\(due\\)`));
    const dry = await runFleet(['purge'], env);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout + dry.stderr).toContain(`local/acme  aside schema ${aside}, 5 table(s)`);
    const discard = await runFleet(['tenants', 'restore', 'acme', '--discard-aside', '--json'], env);
    expect(discard.exitCode, discard.stderr).toBe(0);
    expect(JSON.parse(discard.stdout)).toMatchObject({ dryRun: true, tenant: 'acme', aside: [{ schema: aside }] });
    expect(await schemaExists(aside)).toBe(true);
  });
});
