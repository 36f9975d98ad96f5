/**
 * Destructive commands as a pipeline runs them: they refuse the embedded default, name the database
 * they act on, the sweep has the purge's brake, and a purge of named tenants purges only those due.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { runFleet, type CliResult } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { dumpDatabase, tenantRow } from '../lifecycle/helpers.ts';

const db = useTestDatabase('destructivecli');
// The CLI runs on the system clock; the tenants were registered (and last heard from) 100 days ago.
const clock = new ManualClock(new Date(Date.now() - 100 * DAY_MS));
const ids = Array.from({ length: 10 }, (_, i) => `d-${i}`);
let fleet: Fleet;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { clock });
  await addTenants(fleet, ids);
});
afterAll(async () => fleet?.close());

const env = () => ({ FLEET_DATABASE_URL: db().url, FLEET_REGION: 'local', FLEET_ACTOR: 'test-cli', NO_COLOR: '1' });
const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown>;

describe('no database configured: destructive commands refuse the embedded default', () => {
  // No FLEET_DATABASE_URL: the package's description has three regions and no endpoint.
  const bare = () => ({ FLEET_HOME: tempDir('no-db'), FLEET_ACTOR: 'test-cli', NO_COLOR: '1', PATH: process.env.PATH ?? '' });

  test.each([
    [['purge', '--execute'], 'fleet purge --execute'],
    [['tenants', 'sweep', '--execute'], 'fleet tenants sweep --execute'],
    [['rollback', '--to', '0001_projects', '--execute'], 'fleet rollback --execute'],
  ])('%j: exit 2, the JSON error with the fix, no embedded server started', async (args, what) => {
    const home = bare();
    const r = await runFleet([...args, '--json'], home);
    expect(readdirSync(home.FLEET_HOME)).toEqual([]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(json(r)).toMatchObject({
      ok: false,
      error: { code: 'INPUT_INVALID', message: expect.stringContaining(`${what} would run against the embedded PostgreSQL`) },
    });
    expect((json(r).error as { message: string }).message).toMatch(/FLEET_DATABASE_URL.*--embedded/);
    expect(r.stderr).toMatch(/--embedded/);
  });

  test('a dry run is not refused, and neither is --embedded (it then runs on the embedded database)', async () => {
    const r = await runFleet(['purge', '--execute', '--embedded', '--region', 'eu', '--json'], bare());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ ok: true, dryRun: false, databases: [{ region: 'eu', database: 'embedded/fleet_eu' }] });
  });
});

describe('the header names the database acted on', () => {
  test('purge and sweep, as JSON and as text; never the password', async () => {
    const url = new URL(db().url);
    const where = `${url.hostname}:${url.port || 5432}${url.pathname}`;
    for (const args of [['purge'], ['tenants', 'sweep']]) {
      const r = await runFleet([...args, '--json'], env());
      expect(r.exitCode, r.stderr).toBe(0);
      expect(json(r).databases).toEqual([{ region: 'local', database: where }]);
      const text = await runFleet(args, env());
      expect(text.stdout).toContain(`database local: ${where}`);
      if (url.password) expect(text.stdout + r.stdout).not.toContain(url.password);
    }
  });
});

describe('the sweep has the purge brake', () => {
  test('--execute over the share: exit 1, REFUSED with the tenants, nothing changed; --max too; --allow-mass proceeds', async () => {
    const before = await dumpDatabase(fleet);
    const refused = await runFleet(['tenants', 'sweep', '--execute', '--json'], env());
    expect(refused.exitCode, refused.stderr).toBe(1);
    const error = json(refused).error as { code: string; problems: string[]; tenants: Array<{ tenant: string }> };
    expect(error.code).toBe('REFUSED');
    expect(error.problems).toEqual([
      'region local: 10 tenant(s) due of 10 not purged; the limit is 10% (lifecycle.purgeMaxShare), at most 1 at once — exceeded',
    ]);
    expect(error.tenants.map((t) => t.tenant)).toEqual(ids);
    expect(await dumpDatabase(fleet)).toEqual(before);

    const dry = await runFleet(['tenants', 'sweep', '--json'], env());
    expect(json(dry)).toMatchObject({ dryRun: true, brake: { tripped: true } });
    const text = await runFleet(['tenants', 'sweep'], env());
    expect(text.stdout).toMatch(/an --execute would be refused/);

    const done = await runFleet(['tenants', 'sweep', '--execute', '--allow-mass', '--max', '20', '--json'], env());
    expect(done.exitCode, done.stderr).toBe(0);
    expect(json(done)).toMatchObject({ ok: true, dryRun: false, disconnected: 10, allowMass: true });
    expect((await tenantRow(fleet, 'd-3'))?.status).toBe('disconnected');
  });

  test('--max trips it too', async () => {
    await fleet.regions[0]!.query(
      `UPDATE fleet.tenants SET status = 'active', disconnected_at = NULL, disconnect_cause = NULL, purge_after = NULL WHERE id IN ('d-0', 'd-1')`,
    );
    const config = { ...env() };
    const refused = await runFleet(['tenants', 'sweep', '--execute', '--max', '1', '--json'], config);
    expect(refused.exitCode).toBe(1);
    expect((json(refused).error as { problems: string[] }).problems).toContain('this run: 2 tenant(s) due; --max 1 — exceeded');
  });
});

describe('fleet purge --tenant', () => {
  test('purges exactly the listed tenants that are due; a listed tenant not due is reported, not purged', async () => {
    // The sweep ran on the system clock, so nobody it disconnected is due yet: start over, and
    // uninstall two on the test clock (100 days ago), past their 30-day grace.
    await fleet.regions[0]!.query(
      `UPDATE fleet.tenants SET status = 'active', disconnected_at = NULL, disconnect_cause = NULL, purge_after = NULL`,
    );
    await uninstallTenant(fleet, 'd-5');
    await uninstallTenant(fleet, 'd-6');
    const dry = await runFleet(['purge', '--tenant', 'd-5', 'd-7', 'nobody', '--json'], env());
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(json(dry)).toMatchObject({
      dryRun: true,
      summary: { due: 1 },
      dueSummary: { byCause: { uninstalled: 1 } },
      notDue: [
        { tenant: 'd-7', reason: 'region local: active (reinstalled or reconnected since the plan)' },
        { tenant: 'nobody', reason: 'no such tenant in local' },
      ],
    });
    expect((json(dry).due as Array<{ tenant: string }>).map((d) => d.tenant)).toEqual(['d-5']);

    const done = await runFleet(['purge', '--tenant', 'd-5', 'd-7', '--execute', '--json'], env());
    expect(done.exitCode, done.stderr).toBe(0);
    expect(json(done)).toMatchObject({ ok: true, summary: { due: 1, purged: 1 } });
    expect((await tenantRow(fleet, 'd-5'))?.status).toBe('purged');
    expect((await tenantRow(fleet, 'd-6'))?.status).toBe('disconnected');
    expect((await tenantRow(fleet, 'd-7'))?.status).toBe('active');
  });
});

describe('usage errors under --json', () => {
  test('a bad option value prints the JSON error document on stdout, exit 2', async () => {
    const r = await runFleet(['migrate', '--canary', 'x', '--json'], env());
    expect(r.exitCode).toBe(2);
    expect(json(r)).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('--canary') } });
    const unknown = await runFleet(['purge', '--bogus', '--json'], env());
    expect(unknown.exitCode).toBe(2);
    expect(json(unknown)).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('--bogus') } });
  });

  test('fleet-wide rollback --to 0 --execute needs --allow-mass (exit 2, nothing touched); without --execute it is a dry run', async () => {
    const before = await dumpDatabase(fleet);
    const mass = await runFleet(['rollback', '--to', '0', '--execute', '--json'], env());
    expect(mass.exitCode).toBe(2);
    expect(json(mass)).toMatchObject({ ok: false, error: { message: expect.stringContaining('--allow-mass') } });
    const dry = await runFleet(['rollback', '--to', '0005', '--json'], env());
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(json(dry)).toMatchObject({
      command: 'rollback',
      dryRun: true,
      target: '0005_audit_log',
      summary: { reverted: 0, migrationsReverted: 0 },
    });
    expect((json(dry).planned as Array<{ revert: string[] }>)[0]?.revert[0]).toMatch(/^00\d\d_/);
    expect(await dumpDatabase(fleet)).toEqual(before);
  });
});
