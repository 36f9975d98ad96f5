import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { discardAside, restoreTenant } from '../../../src/copy/restore.ts';
import { typesMigrations, withDb } from './helpers.ts';

// live: the region's database at 0007; snapshot: an older restore of it (0006, older rows).
let live: TestDatabase;
let snapshot: TestDatabase;
let fleet: Fleet;

async function projects(url: string, schema: string): Promise<string[]> {
  return withDb(url, async (c) =>
    (await c.query<{ name: string }>(`SELECT name FROM "${schema}".projects ORDER BY id`)).rows.map((r) => r.name),
  );
}

beforeAll(async () => {
  [live, snapshot] = await Promise.all([createTestDatabase('restore_live'), createTestDatabase('restore_snap')]);
  const old = await openTestFleet(snapshot.url, { region: 'local' });
  await addTenants(old, ['acme']);
  await withDb(snapshot.url, (c) => c.query(`INSERT INTO t_acme.projects (id, key, name) VALUES (1, 'A', 'old one'), (2, 'B', 'old two')`));
  await old.close();
  fleet = await openTestFleet(live.url, { migrationsDir: typesMigrations(), actor: 'user:oncall' });
  await addTenants(fleet, ['acme']);
  await withDb(live.url, (c) => c.query(`INSERT INTO t_acme.projects (id, key, name) VALUES (1, 'A', 'new one'), (3, 'C', 'new three')`));
});
afterAll(async () => {
  await fleet?.close();
  await Promise.all([live?.drop(), snapshot?.drop()]);
});

describe('restore', () => {
  test('a dry run changes nothing', async () => {
    const plan = await restoreTenant(fleet, 'acme', { from: snapshot.url, as: 'acme-old' });
    expect(plan).toMatchObject({ executed: false, mode: 'new-tenant', sourceVersion: '0006_issue_labels_and_priority' });
    expect(await withDb(live.url, async (c) => (await c.query(`SELECT 1 FROM fleet.tenants WHERE id = 'acme-old'`)).rowCount)).toBe(0);
  });

  test('--as: a new tenant holds the old copy, migrated forward; the live tenant is untouched', async () => {
    const result = await restoreTenant(fleet, 'acme', { from: snapshot.url, as: 'acme-old', execute: true });
    expect(result.migratedForward).toEqual(['0007_types']);
    expect(await projects(live.url, 't_acme_old')).toEqual(['old one', 'old two']);
    expect(await projects(live.url, 't_acme')).toEqual(['new one', 'new three']);
    const status = await withDb(live.url, async (c) => (await c.query(`SELECT id, status FROM fleet.tenants ORDER BY id`)).rows);
    expect(status).toEqual([
      { id: 'acme', status: 'active' },
      { id: 'acme-old', status: 'active' },
    ]);
    const ledger = await withDb(
      live.url,
      async (c) => (await c.query(`SELECT count(*)::int AS n FROM fleet.migrations WHERE tenant_id = 'acme-old'`)).rows[0],
    );
    expect(ledger).toEqual({ n: 7 });
  });

  test('replace: the restored copy takes the live name, the live schema is set aside without tenant privileges, then discarded', async () => {
    const result = await restoreTenant(fleet, 'acme', { from: snapshot.url, execute: true });
    expect(result.aside).toMatch(/^t_acme_aside_\d{14}$/);
    expect(await projects(live.url, 't_acme')).toEqual(['old one', 'old two']);
    expect(await projects(live.url, result.aside!)).toEqual(['new one', 'new three']);
    await withDb(live.url, async (c) => {
      // The privilege role: the one the tenant's session role is a member of.
      const role = (
        await c.query<{ r: string }>(
          `SELECT g.rolname AS r FROM fleet.session_roles s JOIN pg_roles l ON l.rolname = s.role_name JOIN pg_auth_members m ON m.member = l.oid JOIN pg_roles g ON g.oid = m.roleid WHERE s.tenant_id = 'acme'`,
        )
      ).rows[0]!.r;
      const can = await c.query<{ live: boolean; aside: boolean }>(
        `SELECT has_table_privilege($1, 't_acme.projects', 'SELECT') AS live, has_schema_privilege($1, $2, 'USAGE') AS aside`,
        [role, result.aside],
      );
      expect(can.rows[0]).toEqual({ live: true, aside: false });
      expect((await c.query(`SELECT count(*)::int AS n FROM fleet.migrations WHERE tenant_id = 'acme'`)).rows[0]).toEqual({ n: 7 });
      expect((await c.query(`SELECT id FROM fleet.tenants WHERE id LIKE 'acme%' ORDER BY id`)).rows).toEqual([
        { id: 'acme' },
        { id: 'acme-old' },
      ]);
    });
    expect(await discardAside(fleet, 'acme')).toEqual([result.aside]);
    expect(
      await withDb(live.url, async (c) => (await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [result.aside])).rowCount),
    ).toBe(0);
  });

  test('a copy newer than the migration files is refused', async () => {
    await withDb(snapshot.url, (c) =>
      c.query(
        `INSERT INTO fleet.migrations (tenant_id, name, checksum, applied_at, duration_ms) VALUES ('acme', '0099_future', 'x', now(), 0)`,
      ),
    );
    const error = await restoreTenant(fleet, 'acme', { from: snapshot.url, as: 'acme-new', execute: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FleetError);
    expect((error as Error).message).toMatch(/newer than these migration files/);
  });
});
