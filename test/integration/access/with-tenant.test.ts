import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { addTenants } from '../../../src/tenants/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { openTenantAccess, type TenantAccess } from '../../../src/access/with-tenant.ts';
import { readCredentials } from '../../../src/access/credentials.ts';
import { createTenantRole, dropTenantRole } from '../../../src/access/tenant-role.ts';
import { tenantRoleName } from '../../../src/access/names.ts';
import { credentialsDir, dropRoles, schemaChecksum, seed } from './helpers.ts';

const db = useTestDatabase('access_with_tenant');
let fleet: Fleet;
let access: TenantAccess;
let migrations: string;
let creds: string;

beforeAll(async () => {
  migrations = migrationsCopy();
  creds = credentialsDir();
  fleet = await openTestFleet(db().url, { migrationsDir: migrations, concurrency: 4 });
  await addTenants(fleet, ['acme', 'globex', 'initech', 'gone']);
  await seed(fleet, 't_acme', 'acme');
  await seed(fleet, 't_globex', 'globex');
  access = await openTenantAccess(fleet, { credentialsDir: creds, poolSize: 3 });
});
afterAll(async () => {
  await access?.close();
  await fleet?.close();
  await dropRoles(db().url);
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<FleetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FleetError);
  expect((error as FleetError).code).toBe(code);
  return error as FleetError;
}

describe('withTenant', () => {
  test('runs fn in one transaction as the tenant role with the tenant schema on the search_path', async () => {
    const prefix = access.app('local').prefix;
    const seen = await access.withTenant('acme', async (client) => {
      const { rows } = await client.query<{ role: string; session: string; path: string; xact: boolean; summary: string }>(
        `SELECT current_user::text AS role, session_user::text AS session, current_setting('search_path') AS path,
                now() = statement_timestamp() AS xact, (SELECT summary FROM issues WHERE key = 'P1-1') AS summary`,
      );
      return rows[0]!;
    });
    expect(seen.role).toBe(tenantRoleName(prefix, 't_acme'));
    expect(seen.session).toBe(access.app('local').role);
    expect(seen.path).toBe('"t_acme", pg_temp');
    expect(seen.summary).toBe('acme secret issue');
  });

  test('commits what fn wrote, rolls back when fn throws', async () => {
    await access.withTenant('acme', (c) => c.query(`INSERT INTO projects (id, key, name) VALUES (3, 'P3', 'kept')`));
    await expect(
      access.withTenant('acme', async (c) => {
        await c.query(`INSERT INTO projects (id, key, name) VALUES (4, 'P4', 'lost')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await fleet.regions[0]!.query<{ key: string }>(`SELECT key FROM t_acme.projects WHERE id IN (3, 4) ORDER BY id`);
    expect(rows.map((r) => r.key)).toEqual(['P3']);
  });

  test('readOnly: PostgreSQL refuses every write', async () => {
    const error = await access.withTenant('acme', (c) => c.query(`DELETE FROM issues`), { readOnly: true }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('25006');
    const { rows } = await fleet.regions[0]!.query(`SELECT 1 FROM t_acme.issues`);
    expect(rows).toHaveLength(1);
  });

  test('unknown, provisioning, disconnected and purged tenants are refused with typed errors, and status is never cached', async () => {
    await expectCode(access.withTenant('nobody', async () => 1), 'TENANT_NOT_FOUND');
    expect(await access.withTenant('gone', async () => 'ok')).toBe('ok');
    await uninstallTenant(fleet, 'gone');
    const refused = await expectCode(access.withTenant('gone', async () => 'ran'), 'TENANT_NOT_ACTIVE');
    expect(refused.message).toContain('disconnected');
    await fleet.regions[0]!.query(`UPDATE fleet.tenants SET status = 'purged', purged_at = now() WHERE id = 'gone'`);
    await expectCode(access.withTenant('gone', async () => 'ran'), 'TENANT_NOT_ACTIVE');
    await fleet.regions[0]!.query(`INSERT INTO fleet.tenants (id, schema_name, region, status, created_at, updated_at) VALUES ('halfway', 't_halfway', 'local', 'provisioning', now(), now())`);
    await expectCode(access.withTenant('halfway', async () => 'ran'), 'TENANT_NOT_ACTIVE');
  });

  test('injection-crafted tenant ids are refused before anything is sent, and nothing changes', async () => {
    const before = await Promise.all(['t_acme', 't_globex'].map((s) => schemaChecksum(fleet, s)));
    const registry = await fleet.regions[0]!.query(`SELECT id, status FROM fleet.tenants ORDER BY id`);
    const crafted = [
      "acme'; DROP SCHEMA t_globex CASCADE; --",
      'acme"; DROP TABLE issues; --',
      'acme; RESET ROLE',
      'ACME',
      "' OR '1'='1",
      'acme\u0000globex',
      't_globex.issues',
      'acme globex',
      '../globex',
      'a'.repeat(61),
      '',
      'acmé',
    ];
    for (const id of crafted) {
      let ran = false;
      await expectCode(
        access.withTenant(id, async () => {
          ran = true;
        }),
        'INPUT_INVALID',
      );
      expect(ran).toBe(false);
    }
    expect(await Promise.all(['t_acme', 't_globex'].map((s) => schemaChecksum(fleet, s)))).toEqual(before);
    expect((await fleet.regions[0]!.query(`SELECT id, status FROM fleet.tenants ORDER BY id`)).rows).toEqual(registry.rows);
  });

  test('RESET ROLE inside withTenant lands on the login role, which reads no tenant and no control table', async () => {
    const outcome = await access.withTenant('acme', async (c) => {
      await c.query('SAVEPOINT s');
      await c.query('RESET ROLE');
      const who = (await c.query<{ u: string }>('SELECT current_user::text AS u')).rows[0]!.u;
      const attempts: Record<string, string> = {};
      for (const sql of ['SELECT * FROM t_acme.issues', 'SELECT * FROM issues', 'SELECT * FROM t_globex.issues', 'SELECT * FROM fleet.tenants', 'SELECT * FROM fleet.support_grants', 'SELECT * FROM fleet.audit_events']) {
        await c.query('SAVEPOINT a');
        try {
          await c.query(sql);
          attempts[sql] = 'READ';
        } catch (error) {
          attempts[sql] = (error as { code?: string }).code ?? '?';
          await c.query('ROLLBACK TO SAVEPOINT a');
        }
      }
      await c.query('ROLLBACK TO SAVEPOINT s');
      return { who, attempts };
    });
    expect(outcome.who).toBe(access.app('local').role);
    // 42501 permission denied (schema or table); nothing was readable.
    expect(Object.values(outcome.attempts).every((code) => code === '42501' || code === '42P01')).toBe(true);
    expect(outcome.attempts['SELECT * FROM t_globex.issues']).toBe('42501');
    expect(outcome.attempts['SELECT * FROM t_acme.issues']).toBe('42501');
  });

  test('a unit that ends in another role or search_path is rolled back and refused', async () => {
    const error = await expectCode(
      access.withTenant('acme', async (c) => {
        await c.query(`INSERT INTO projects (id, key, name) VALUES (5, 'P5', 'switched')`);
        await c.query('RESET ROLE');
      }),
      'REFUSED',
    );
    expect(error.message).toContain('rolled back');
    await expectCode(access.withTenant('acme', (c) => c.query(`INSERT INTO projects (id, key, name) VALUES (6, 'P6', 'x'); SET search_path = public`)), 'REFUSED');
    const { rows } = await fleet.regions[0]!.query(`SELECT 1 FROM t_acme.projects WHERE id IN (5, 6)`);
    expect(rows).toHaveLength(0);
    // A session-level role change (set_config(..., false)) is not carried to the next unit.
    await expectCode(access.withTenant('acme', (c) => c.query(`SELECT set_config('role', current_user::text, false), set_config('role', $1, false)`, [access.app('local').role])), 'REFUSED');
    for (let i = 0; i < 4; i += 1) {
      expect(await access.withTenant('globex', async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM issues')).rows[0]!.n)).toBe(1);
    }
  });

  test('a connection that made temporary objects is not reused: one tenant never meets another tenant temp table', async () => {
    await access.withTenant('acme', (c) => c.query(`CREATE TEMP TABLE issues (key text); INSERT INTO pg_temp.issues VALUES ('planted by acme'); GRANT ALL ON pg_temp.issues TO PUBLIC`));
    for (let i = 0; i < 6; i += 1) {
      const keys = await access.withTenant('globex', async (c) => (await c.query<{ key: string }>('SELECT key FROM issues')).rows.map((r) => r.key));
      expect(keys).toEqual(['P1-1']);
      const temp = await access.withTenant('globex', async (c) => (await c.query<{ t: string | null }>(`SELECT to_regclass('pg_temp.issues')::text AS t`)).rows[0]!.t);
      expect(temp).toBeNull();
    }
  });

  test('tables and sequences made by a later migration are reachable by the tenant role (default privileges)', async () => {
    writeMigration(migrations, '0007_watchers.sql', 'CREATE TABLE watchers (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, issue_id bigint REFERENCES issues (id), account text NOT NULL);');
    expect((await migrateFleet(fleet)).ok).toBe(true);
    const ids = await access.withTenant('acme', async (c) => {
      await c.query(`INSERT INTO watchers (issue_id, account) VALUES (10, 'alice'), (10, 'bob')`);
      return (await c.query<{ id: string }>('SELECT id FROM watchers ORDER BY id')).rows.map((r) => Number(r.id));
    });
    expect(ids).toEqual([1, 2]);
    // ...and still only its own: globex's watchers table is out of acme's reach.
    const denied = await access.withTenant('acme', (c) => c.query('SELECT * FROM t_globex.watchers')).catch((e: unknown) => e);
    expect((denied as { code?: string }).code).toBe('42501');
  });

  test('contact is recorded for stale detection', async () => {
    await fleet.regions[0]!.query(`UPDATE fleet.tenants SET last_contact_at = now() - interval '10 days' WHERE id = 'initech'`);
    await access.withTenant('initech', async () => undefined);
    const { rows } = await fleet.regions[0]!.query<{ recent: boolean }>(`SELECT last_contact_at > now() - interval '1 minute' AS recent FROM fleet.tenants WHERE id = 'initech'`);
    expect(rows[0]?.recent).toBe(true);
  });
});

describe('tenant roles', () => {
  test('dropTenantRole is idempotent, works with the schema present or gone; a missing role is restored when the access opens', async () => {
    const region = fleet.regions[0]!;
    // A 60-character id: its role name takes the hashed form (the backfill query must agree with names.ts).
    const long = `l${'o'.repeat(58)}g`;
    await addTenants(fleet, [long]);
    const longRole = tenantRoleName(access.app('local').prefix, `t_${long}`);
    expect(longRole).toHaveLength(63);
    const role = tenantRoleName(access.app('local').prefix, 't_initech');
    const exists = async (name = role) => (await region.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
    expect(await exists(longRole)).toBe(true);
    const client = await region.controlPool.connect();
    try {
      await dropTenantRole(client, { id: 'initech', schema: 't_initech' });
      await dropTenantRole(client, { id: 'initech', schema: 't_initech' });
      await dropTenantRole(client, { id: long, schema: `t_${long}` });
    } finally {
      client.release();
    }
    expect(await exists()).toBe(false);
    expect(await exists(longRole)).toBe(false);
    await expectCode(access.withTenant('initech', async () => 'ran'), 'REFUSED');
    // A tenant registered before roles existed (or whose role went missing): opening the access restores it.
    const reopened = await openTenantAccess(fleet, { credentialsDir: creds, poolSize: 1 });
    try {
      expect(await exists()).toBe(true);
      expect(await exists(longRole)).toBe(true);
      expect(await reopened.withTenant(long, async (c) => (await c.query('SELECT current_user::text AS u')).rows[0])).toEqual({ u: longRole });
      expect(await reopened.withTenant('initech', async (c) => (await c.query('SELECT count(*)::int AS n FROM projects')).rows[0])).toEqual({ n: 0 });
    } finally {
      await reopened.close();
    }
    // createTenantRole is idempotent too.
    const again = await region.controlPool.connect();
    try {
      await createTenantRole(again, { id: 'initech', schema: 't_initech' });
      await createTenantRole(again, { id: 'initech', schema: 't_initech' });
      // And a drop after the schema is gone (the purge's order) leaves nothing behind.
      await again.query('CREATE SCHEMA t_doomed');
      await createTenantRole(again, { id: 'doomed', schema: 't_doomed' });
      await again.query('CREATE TABLE t_doomed.x (id int)');
      await again.query('DROP SCHEMA t_doomed CASCADE');
      await dropTenantRole(again, { id: 'doomed', schema: 't_doomed' });
      expect((await again.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [tenantRoleName(access.app('local').prefix, 't_doomed')])).rowCount).toBe(0);
    } finally {
      again.release();
    }
  });
});

describe('the application login role', () => {
  test('is LOGIN, NOINHERIT, not a superuser; its password is in a 0600 file and reopening reuses it', async () => {
    const app = access.app('local');
    const { rows } = await fleet.regions[0]!.query<{ rolcanlogin: boolean; rolinherit: boolean; rolsuper: boolean; rolbypassrls: boolean; rolcreaterole: boolean }>(
      'SELECT rolcanlogin, rolinherit, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = $1',
      [app.role],
    );
    expect(rows[0]).toEqual({ rolcanlogin: true, rolinherit: false, rolsuper: false, rolbypassrls: false, rolcreaterole: false });
    expect(app.credentialsFile).toBeDefined();
    expect(statSync(app.credentialsFile!).mode & 0o777).toBe(0o600);
    expect(statSync(creds).mode & 0o777).toBe(0o700);
    const stored = await readCredentials(app.credentialsFile!);
    expect(stored?.role).toBe(app.role);
    const audit = await fleet.regions[0]!.query<{ n: number }>(`SELECT count(*)::int AS n FROM fleet.access_settings WHERE app_role = $1`, [app.role]);
    expect(audit.rows[0]?.n).toBe(1);

    const again = await openTenantAccess(fleet, { credentialsDir: creds, poolSize: 1 });
    try {
      expect((await readCredentials(app.credentialsFile!))?.password).toBe(stored?.password);
      expect(await again.withTenant('acme', async () => 'ok')).toBe('ok');
    } finally {
      await again.close();
    }
  });

  test('a lost credentials file makes a new password; the URL holds the app role, not the administrator', async () => {
    const file = access.app('local').credentialsFile!;
    const old = await readCredentials(file);
    await fs.rm(file);
    const fresh = await openTenantAccess(fleet, { credentialsDir: creds, poolSize: 1 });
    try {
      const stored = await readCredentials(file);
      expect(stored?.password).toBeDefined();
      expect(stored?.password).not.toBe(old?.password);
      const url = new URL(String(fresh.app('local').connection.connectionString));
      expect(decodeURIComponent(url.username)).toBe(fresh.app('local').role);
      const client = new pg.Client(fresh.app('local').connection);
      await client.connect();
      try {
        expect((await client.query<{ u: string }>('SELECT session_user::text AS u')).rows[0]!.u).toBe(fresh.app('local').role);
      } finally {
        await client.end();
      }
      expect(await fresh.withTenant('acme', async () => 'ok')).toBe('ok');
    } finally {
      await fresh.close();
    }
  });
});

describe('roles of databases that are gone', () => {
  test('sweepOrphanedAccessRoles finds (and drops) the roles of a dropped database, never those of a live one', async () => {
    const { createTestDatabase, databaseUrl } = await import('../helpers/database.ts');
    const doomed = await createTestDatabase('access_orphans');
    const other = await openTestFleet(doomed.url);
    let doomedPrefix: string;
    try {
      await addTenants(other, ['orphan-a', 'orphan-b']);
      doomedPrefix = (await other.regions[0]!.query<{ p: string }>('SELECT role_prefix AS p FROM fleet.access_settings')).rows[0]!.p;
    } finally {
      await other.close();
    }
    await doomed.drop();
    const connect = async (database: string) => {
      const client = new pg.Client({ connectionString: databaseUrl(database) });
      await client.connect();
      return client;
    };
    const livePrefix = access.app('local').prefix;
    const { sweepOrphanedAccessRoles } = await import('../../../src/access/cleanup.ts');
    const found = await sweepOrphanedAccessRoles(connect);
    expect(found.filter((r) => r.startsWith(doomedPrefix)).sort()).toEqual([`${doomedPrefix}_t_orphan_a`, `${doomedPrefix}_t_orphan_b`, `${doomedPrefix}_tenants`]);
    expect(found.some((r) => r.startsWith(livePrefix))).toBe(false);
    await sweepOrphanedAccessRoles(connect, { drop: true });
    const left = await fleet.regions[0]!.query(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [`${doomedPrefix}_`]);
    expect(left.rows).toEqual([]);
    expect(await access.withTenant('acme', async () => 'still fine')).toBe('still fine');
  });
});
