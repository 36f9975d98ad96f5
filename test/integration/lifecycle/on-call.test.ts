/** The on-call engineer's tools, through the CLI: show, audit, list --status, status --tenant, several ids at once. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { cliEnv, runFleet, type CliResult } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { dumpDatabase, tenantRow } from './helpers.ts';

const db = useTestDatabase('oncall');
const clock = new ManualClock(new Date(Date.now() - 10 * DAY_MS));
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { clock, actor: 'setup' });
  await addTenants(fleet, ['oc-a', 'oc-b', 'oc-c', 'oc-d']);
  await uninstallTenant(fleet, 'oc-b', { reason: 'uninstall webhook' });
  dir = tempDir('oncall');
});
afterAll(async () => fleet?.close());

const cli = (...args: string[]) => runFleet(args, cliEnv(db().url));
const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown>;

describe('fleet tenants show', () => {
  test('a disconnected tenant in full: status, cause and date, purge date, the ledger with times, its audit events', async () => {
    const r = await cli('tenants', 'show', 'oc-b', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    const t = json(r);
    expect(t).toMatchObject({
      command: 'tenants show',
      ok: true,
      id: 'oc-b',
      region: 'local',
      schema: 't_oc_b',
      status: 'disconnected',
      disconnectedAt: clock.now().toISOString(),
      disconnectCause: 'uninstalled',
      purgeAfter: new Date(clock.now().getTime() + 30 * DAY_MS).toISOString(),
      hold: null,
    });
    const migrations = t.migrations as Array<{ name: string; appliedAt: string }>;
    expect(migrations.length).toBeGreaterThan(3);
    expect(migrations[0]).toMatchObject({ name: '0001_projects', appliedAt: clock.now().toISOString() });
    expect((t.audit as Array<{ action: string; reason: string; actor: string }>)[0]).toMatchObject({
      action: 'uninstalled',
      reason: 'uninstall webhook',
      actor: 'setup',
    });

    const text = await cli('tenants', 'show', 'oc-b');
    expect(text.stdout).toMatch(/disconnected .* \(uninstalled\); purge after /);
    expect(text.stdout).toMatch(/0001_projects {2}applied /);
  });

  test('an unknown id: exit 2, naming the regions searched', async () => {
    const r = await cli('tenants', 'show', 'oc-zz', '--json');
    expect(r.exitCode).toBe(2);
    expect(json(r)).toMatchObject({
      ok: false,
      error: { code: 'INPUT_INVALID', message: expect.stringContaining('not registered in local') },
    });
  });
});

describe('fleet audit, tenants list --status, status --tenant', () => {
  test('audit filtered by tenant, action and time, newest first, limited', async () => {
    const r = await cli('audit', '--action', 'uninstalled', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect((json(r).events as Array<{ tenant: string }>).map((e) => e.tenant)).toEqual(['oc-b']);
    const none = await cli('audit', '--tenant', 'oc-b', '--since', new Date(Date.now() + DAY_MS).toISOString(), '--json');
    expect(json(none).events).toEqual([]);
    const one = await cli('audit', '--limit', '1', '--json');
    expect((json(one).events as unknown[]).length).toBe(1);
    const bad = await cli('audit', '--limit', '0', '--json');
    expect(bad.exitCode).toBe(2);
    expect(json(bad)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  });

  test('tenants list --status, with the disconnect cause and date', async () => {
    const r = await cli('tenants', 'list', '--status', 'disconnected', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(json(r)).toEqual([
      expect.objectContaining({
        id: 'oc-b',
        status: 'disconnected',
        disconnectCause: 'uninstalled',
        disconnectedAt: clock.now().toISOString(),
      }),
    ]);
    const bad = await cli('tenants', 'list', '--status', 'gone', '--json');
    expect(bad.exitCode).toBe(2);
    expect(json(bad)).toMatchObject({ ok: false, error: { message: expect.stringContaining('--status "gone" is not a tenant status') } });
  });

  test('status --tenant: only those tenants; an unknown one exits 2', async () => {
    const r = await cli('status', '--tenant', 'oc-a', '--tenant', 'oc-c', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect((json(r).tenants as Array<{ id: string }>).map((t) => t.id)).toEqual(['oc-a', 'oc-c']);
    expect((await cli('status', '--tenant', 'oc-x')).exitCode).toBe(2);
  });
});

describe('several ids at once', () => {
  test('hold and release take ids and --file; one unknown id refuses the lot before anything changes', async () => {
    const file = path.join(dir, 'legal.txt');
    writeFileSync(file, '# LEGAL-42\noc-c\n\noc-d\n');
    const before = await dumpDatabase(fleet);
    const typo = await cli('tenants', 'hold', 'oc-a', 'oc-typo', '--file', file, '--reason', 'LEGAL-42', '--json');
    expect(typo.exitCode).toBe(2);
    expect(json(typo)).toMatchObject({ ok: false, error: { message: expect.stringContaining('oc-typo') } });
    expect(await dumpDatabase(fleet)).toEqual(before);

    const held = await cli('tenants', 'hold', 'oc-a', '--file', file, '--reason', 'LEGAL-42', '--json');
    expect(held.exitCode, held.stderr).toBe(0);
    expect((json(held).results as Array<{ tenant: string; holdReason: string }>).map((r) => [r.tenant, r.holdReason])).toEqual([
      ['oc-a', 'LEGAL-42'],
      ['oc-c', 'LEGAL-42'],
      ['oc-d', 'LEGAL-42'],
    ]);
    const released = await cli('tenants', 'release', '--file', file, '--reason', 'closed', '--json');
    expect(released.exitCode, released.stderr).toBe(0);
    expect((await tenantRow(fleet, 'oc-c'))?.hold_reason).toBeNull();
    expect((await tenantRow(fleet, 'oc-a'))?.hold_reason).toBe('LEGAL-42');
  });

  test('install of an id never seen is refused without --new (exit 2, nothing created); with --new it is provisioned', async () => {
    const typo = await cli('tenants', 'install', 'oc-b', 'oc-bb', '--json');
    expect(typo.exitCode).toBe(2);
    expect(json(typo)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/oc-bb.*--new/) } });
    expect(await tenantRow(fleet, 'oc-bb')).toBeUndefined();
    expect((await tenantRow(fleet, 'oc-b'))?.status).toBe('disconnected');

    const both = await cli('tenants', 'install', 'oc-b', 'oc-bb', '--new', '--json');
    expect(both.exitCode, both.stderr).toBe(0);
    expect((json(both).results as Array<{ tenant: string; outcome: string }>).map((r) => [r.tenant, r.outcome])).toEqual([
      ['oc-b', 'reactivated'],
      ['oc-bb', 'provisioned'],
    ]);
    expect((await tenantRow(fleet, 'oc-bb'))?.status).toBe('active');
  });
});
