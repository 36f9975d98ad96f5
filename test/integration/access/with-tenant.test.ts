import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { quoteIdent } from '../../../src/db/quote.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { openTenantAccess, type TenantAccess } from '../../../src/access/with-tenant.ts';
import { readCredentials } from '../../../src/access/credentials.ts';
import { createTenantRole, dropTenantRole } from '../../../src/access/tenant-role.ts';
import { sessionRoleName, tenantRoleName } from '../../../src/access/names.ts';
import { deriveSessionPassword, secretKeyId } from '../../../src/access/session-login.ts';
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
  access = await openTenantAccess(fleet, { credentialsDir: creds, maxConnections: 3 });
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
  test("a unit finds its session's tenant through the registry's indexes: no unit reads fleet.session_roles or fleet.gateways whole", async () => {
    const admin = new pg.Client({ connectionString: db().url });
    await admin.connect();
    try {
      const scans = async () =>
        (
          await admin.query<{ relname: string; seq: string; idx: string }>(
            `SELECT relname, seq_scan::text AS seq, coalesce(idx_scan, 0)::text AS idx FROM pg_stat_user_tables
              WHERE schemaname = 'fleet' AND relname IN ('session_roles', 'gateways') ORDER BY relname`,
          )
        ).rows;
      const units = 20;
      const run = async (n: number) => {
        for (let i = 0; i < n; i += 1) await access.withTenant('acme', (c) => c.query('SELECT 1'), { recordContact: false });
      };
      // An idle backend reports its counters within PGSTAT_IDLE_INTERVAL (10 s).
      const settled = async (before: Awaited<ReturnType<typeof scans>>, n: number) => {
        let after = before;
        for (let wait = 0; wait < 50; wait += 1) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          await admin.query('SELECT pg_stat_clear_snapshot()');
          after = await scans();
          if (after.every((r, i) => Number(r.idx) - Number(before[i]!.idx) >= n)) break;
        }
        return after;
      };
      // A warm-up batch (a first login may read a table once), then the batch that is measured.
      await admin.query('SELECT pg_stat_clear_snapshot()');
      const start = await scans();
      await run(units);
      const before = await settled(start, units);
      await run(units);
      const after = await settled(before, units);
      for (const [i, row] of after.entries()) {
        expect(Number(row.idx) - Number(before[i]!.idx), row.relname).toBeGreaterThanOrEqual(units);
        expect(Number(row.seq) - Number(before[i]!.seq), row.relname).toBe(0);
      }
    } finally {
      await admin.end();
    }
  });

  test('runs fn in one transaction as the tenant role with the tenant schema on the search_path', async () => {
    const prefix = access.info('local').prefix;
    const seen = await access.withTenant('acme', async (client) => {
      const { rows } = await client.query<{ role: string; session: string; path: string; xact: boolean; summary: string }>(
        `SELECT current_user::text AS role, session_user::text AS session, current_setting('search_path') AS path,
                now() = statement_timestamp() AS xact, (SELECT summary FROM issues WHERE key = 'P1-1') AS summary`,
      );
      return rows[0]!;
    });
    expect(seen.role).toBe(tenantRoleName(prefix, 't_acme'));
    expect(seen.session).toBe(access.sessionRole('local', 'acme'));
    expect(seen.session).toBe(sessionRoleName(prefix, 't_acme'));
    expect(seen.path).toBe('t_acme, fleet_ext, pg_temp');
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
    await expectCode(
      access.withTenant('nobody', async () => 1),
      'TENANT_NOT_FOUND',
    );
    expect(await access.withTenant('gone', async () => 'ok')).toBe('ok');
    await uninstallTenant(fleet, 'gone');
    const refused = await expectCode(
      access.withTenant('gone', async () => 'ran'),
      'TENANT_NOT_ACTIVE',
    );
    expect(refused.message).toContain('disconnected');
    await fleet.regions[0]!.query(`UPDATE fleet.tenants SET status = 'purged', purged_at = now() WHERE id = 'gone'`);
    await expectCode(
      access.withTenant('gone', async () => 'ran'),
      'TENANT_NOT_ACTIVE',
    );
    await fleet.regions[0]!.query(
      `INSERT INTO fleet.tenants (id, schema_name, region, status, created_at, updated_at) VALUES ('halfway', 't_halfway', 'local', 'provisioning', now(), now())`,
    );
    await expectCode(
      access.withTenant('halfway', async () => 'ran'),
      'TENANT_NOT_ACTIVE',
    );
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

  test('RESET ROLE inside withTenant lands on the tenant session role, which reads no tenant (not even its own) and no control table', async () => {
    const outcome = await access.withTenant('acme', async (c) => {
      await c.query('SAVEPOINT s');
      await c.query('RESET ROLE');
      const who = (await c.query<{ u: string }>('SELECT current_user::text AS u')).rows[0]!.u;
      const attempts: Record<string, string> = {};
      for (const sql of [
        'SELECT * FROM t_acme.issues',
        'SELECT * FROM issues',
        'SELECT * FROM t_globex.issues',
        'SELECT * FROM fleet.tenants',
        'SELECT * FROM fleet.support_grants',
        'SELECT * FROM fleet.audit_events',
      ]) {
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
    expect(outcome.who).toBe(access.sessionRole('local', 'acme'));
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
    await expectCode(
      access.withTenant('acme', (c) => c.query(`INSERT INTO projects (id, key, name) VALUES (6, 'P6', 'x'); SET search_path = public`)),
      'REFUSED',
    );
    const { rows } = await fleet.regions[0]!.query(`SELECT 1 FROM t_acme.projects WHERE id IN (5, 6)`);
    expect(rows).toHaveLength(0);
    // A session-level role change (set_config(..., false)) is not carried to the next unit.
    await expectCode(
      access.withTenant('acme', (c) =>
        c.query(`SELECT set_config('role', current_user::text, false), set_config('role', $1, false)`, [
          access.sessionRole('local', 'acme'),
        ]),
      ),
      'REFUSED',
    );
    for (let i = 0; i < 4; i += 1) {
      expect(
        await access.withTenant('globex', async (c) => (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM issues')).rows[0]!.n),
      ).toBe(1);
    }
  });

  test('a connection that made temporary objects is not reused: one tenant never meets another tenant temp table', async () => {
    await access.withTenant('acme', (c) =>
      c.query(
        `CREATE TEMP TABLE issues (key text); INSERT INTO pg_temp.issues VALUES ('planted by acme'); GRANT ALL ON pg_temp.issues TO PUBLIC`,
      ),
    );
    for (let i = 0; i < 6; i += 1) {
      const keys = await access.withTenant('globex', async (c) =>
        (await c.query<{ key: string }>('SELECT key FROM issues')).rows.map((r) => r.key),
      );
      expect(keys).toEqual(['P1-1']);
      const temp = await access.withTenant(
        'globex',
        async (c) => (await c.query<{ t: string | null }>(`SELECT to_regclass('pg_temp.issues')::text AS t`)).rows[0]!.t,
      );
      expect(temp).toBeNull();
    }
  });

  test('tables and sequences made by a later migration are reachable by the tenant role (default privileges)', async () => {
    writeMigration(
      migrations,
      '0007_watchers.sql',
      'CREATE TABLE watchers (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, issue_id bigint REFERENCES issues (id), account text NOT NULL);',
    );
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
    const { rows } = await fleet.regions[0]!.query<{ recent: boolean }>(
      `SELECT last_contact_at > now() - interval '1 minute' AS recent FROM fleet.tenants WHERE id = 'initech'`,
    );
    expect(rows[0]?.recent).toBe(true);
  });
});

describe('tenant roles', () => {
  test('dropTenantRole is idempotent, works with the schema present or gone; a missing role is restored when the access opens', async () => {
    const region = fleet.regions[0]!;
    // A 60-character id: its role name takes the hashed form (the backfill query must agree with names.ts).
    const long = `l${'o'.repeat(58)}g`;
    await addTenants(fleet, [long]);
    const prefix = access.info('local').prefix;
    const longRole = tenantRoleName(prefix, `t_${long}`);
    const longLogin = sessionRoleName(prefix, `t_${long}`);
    expect(longRole).toHaveLength(63);
    expect(longLogin).toHaveLength(63);
    const role = tenantRoleName(prefix, 't_initech');
    const login = sessionRoleName(prefix, 't_initech');
    const exists = async (name = role) => (await region.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
    const registered = async (id: string, on: { query: typeof region.query } = region) =>
      (await on.query('SELECT 1 FROM fleet.session_roles WHERE tenant_id = $1', [id])).rowCount === 1;
    expect(await exists(longRole)).toBe(true);
    expect(await exists(longLogin)).toBe(true);
    expect(await exists(login)).toBe(true);
    expect(await registered(long)).toBe(true);
    const client = await region.controlPool.connect();
    try {
      await dropTenantRole(client, { id: 'initech', schema: 't_initech' });
      await dropTenantRole(client, { id: 'initech', schema: 't_initech' });
      await dropTenantRole(client, { id: long, schema: `t_${long}` });
    } finally {
      client.release();
    }
    expect(await exists()).toBe(false);
    expect(await exists(login)).toBe(false);
    expect(await exists(longRole)).toBe(false);
    expect(await exists(longLogin)).toBe(false);
    expect(await registered('initech')).toBe(false);
    await expectCode(
      access.withTenant('initech', async () => 'ran'),
      'REFUSED',
    );
    // A tenant registered before roles existed (or whose role went missing): opening the access restores it.
    const reopened = await openTenantAccess(fleet, { credentialsDir: creds, maxConnections: 1 });
    try {
      expect(await exists()).toBe(true);
      expect(await exists(login)).toBe(true);
      expect(await exists(longRole)).toBe(true);
      expect(await exists(longLogin)).toBe(true);
      expect(
        await reopened.withTenant(long, async (c) => (await c.query('SELECT current_user::text AS u, session_user::text AS s')).rows[0]),
      ).toEqual({ u: longRole, s: longLogin });
      expect(await reopened.withTenant('initech', async (c) => (await c.query('SELECT count(*)::int AS n FROM projects')).rows[0])).toEqual(
        { n: 0 },
      );
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
      expect(
        (
          await again.query('SELECT 1 FROM pg_roles WHERE rolname = ANY($1::text[])', [
            [tenantRoleName(prefix, 't_doomed'), sessionRoleName(prefix, 't_doomed')],
          ])
        ).rowCount,
      ).toBe(0);
      expect(await registered('doomed', again)).toBe(false);
      // A session role that is a member of anything else (a name collision, tampering) is refused, not reused.
      await again.query('CREATE SCHEMA t_tampered');
      await again.query(
        `CREATE ROLE ${quoteIdent(sessionRoleName(prefix, 't_tampered'))} LOGIN NOINHERIT IN ROLE ${quoteIdent(tenantRoleName(prefix, 't_acme'))}`,
      );
      await expectCode(createTenantRole(again, { id: 'tampered', schema: 't_tampered' }), 'REFUSED');
      expect(await registered('tampered', again)).toBe(false);
      await again.query(`DROP ROLE ${quoteIdent(sessionRoleName(prefix, 't_tampered'))}`);
      await again.query('DROP SCHEMA t_tampered');
      await dropTenantRole(again, { id: 'tampered', schema: 't_tampered' });
    } finally {
      again.release();
    }
  });
});

describe('session roles (one login per tenant)', () => {
  test('each is LOGIN, NOINHERIT, powerless, owns nothing, holds no privilege, and is a member of exactly its tenant role', async () => {
    const region = fleet.regions[0]!;
    const prefix = access.info('local').prefix;
    for (const id of ['acme', 'globex']) {
      const login = sessionRoleName(prefix, `t_${id}`);
      const { rows } = await region.query(
        `SELECT r.rolcanlogin, r.rolinherit, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
                (SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS member_of,
                (SELECT count(*)::int FROM pg_auth_members m WHERE m.roleid = r.oid) AS members,
                (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) + (SELECT count(*)::int FROM pg_namespace WHERE nspowner = r.oid) + (SELECT count(*)::int FROM pg_proc WHERE proowner = r.oid) AS owns,
                has_schema_privilege(r.oid, $2, 'USAGE') AS own_schema, has_schema_privilege(r.oid, 'fleet', 'USAGE') AS fleet_schema,
                (SELECT count(*)::int FROM pg_class c, aclexplode(c.relacl) a WHERE a.grantee = r.oid) + (SELECT count(*)::int FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee = r.oid) AS grants
           FROM pg_roles r WHERE r.rolname = $1`,
        [login, `t_${id}`],
      );
      expect(rows[0]).toEqual({
        rolcanlogin: true,
        rolinherit: false,
        rolsuper: false,
        rolbypassrls: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolreplication: false,
        member_of: [tenantRoleName(prefix, `t_${id}`)],
        members: 0,
        owns: 0,
        own_schema: false,
        fleet_schema: false,
        grants: 0,
      });
    }
    // The shared login and the group that reached every tenant role are gone (control migration 0004).
    const legacy = await region.query(`SELECT rolname FROM pg_roles WHERE rolname IN ($1, $2)`, [`${prefix}_tenants`, `${prefix}_app`]);
    expect(legacy.rows).toEqual([]);
    // No role but the tenant's own session role is a member of its tenant role (apart from the administrator who made it).
    const members = await region.query<{ rolname: string }>(
      `SELECT m.rolname::text FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
        WHERE g.rolname = $1 AND NOT m.rolsuper AND m.rolname <> current_user`,
      [tenantRoleName(prefix, 't_acme')],
    );
    expect(members.rows.map((r) => r.rolname)).toEqual([sessionRoleName(prefix, 't_acme')]);
  });

  test('the password is derived from the application secret, kept in a 0600 file, stored in no table; reopening reuses it', async () => {
    const info = access.info('local');
    expect(info.auth).toBe('scram');
    expect(info.credentialsFile).toBeDefined();
    expect(statSync(info.credentialsFile!).mode & 0o777).toBe(0o600);
    expect(statSync(creds).mode & 0o777).toBe(0o700);
    const stored = await readCredentials(info.credentialsFile!);
    expect(stored?.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const login = access.sessionRole('local', 'acme');
    // The session role has this application's credentials once it has been used.
    const { rows } = await fleet.regions[0]!.query<{ login_auth: string }>(
      'SELECT login_auth FROM fleet.session_roles WHERE role_name = $1',
      [login],
    );
    expect(rows[0]?.login_auth).toBe(`scram:${secretKeyId(stored!.secret)}`);
    // It connects with the derived password (the server holds its SCRAM verifier only).
    const url = new URL(db().url);
    url.username = login;
    url.password = deriveSessionPassword(stored!.secret, login);
    const direct = new pg.Client({ connectionString: url.toString() });
    await direct.connect();
    try {
      expect((await direct.query('SELECT session_user::text AS u, current_user::text AS c')).rows[0]).toEqual({ u: login, c: login });
      // Even connected directly, it reads nothing until it takes its tenant role; and only that one.
      expect(await direct.query('SELECT * FROM t_acme.issues').catch((e: { code?: string }) => e.code)).toBe('42501');
      expect((await direct.query('SELECT * FROM fleet_access.session_tenant()')).rows).toEqual([
        { tenant_id: 'acme', status: 'active', schema_name: 't_acme' },
      ]);
    } finally {
      await direct.end();
    }

    const again = await openTenantAccess(fleet, { credentialsDir: creds, maxConnections: 1 });
    try {
      expect((await readCredentials(info.credentialsFile!))?.secret).toBe(stored?.secret);
      expect(await again.withTenant('acme', async () => 'ok')).toBe('ok');
    } finally {
      await again.close();
    }
  });

  test('a lost credentials file makes a new secret; session roles get the new credentials at their next connection', async () => {
    const file = access.info('local').credentialsFile!;
    const old = await readCredentials(file);
    await fs.rm(file);
    const fresh = await openTenantAccess(fleet, { credentialsDir: creds, maxConnections: 1 });
    try {
      const stored = await readCredentials(file);
      expect(stored?.secret).toBeDefined();
      expect(stored?.secret).not.toBe(old?.secret);
      expect(await fresh.withTenant('acme', async (c) => (await c.query('SELECT session_user::text AS u')).rows[0])).toEqual({
        u: fresh.sessionRole('local', 'acme'),
      });
      const { rows } = await fleet.regions[0]!.query<{ login_auth: string }>(
        'SELECT login_auth FROM fleet.session_roles WHERE tenant_id = $1',
        ['acme'],
      );
      expect(rows[0]?.login_auth).toBe(`scram:${secretKeyId(stored!.secret)}`);
    } finally {
      await fresh.close();
    }
  });

  test('FLEET_APP_SECRET (appSecret): used instead of a file; a short one is refused', async () => {
    await expectCode(openTenantAccess(fleet, { appSecret: 'too-short', credentialsDir: creds }), 'CONFIG_INVALID');
    const dir = credentialsDir();
    const secret = 'a-secret-shared-by-every-application-host-0123456789';
    const shared = await openTenantAccess(fleet, { appSecret: secret, credentialsDir: dir, maxConnections: 2 });
    try {
      expect(shared.info('local').credentialsFile).toBeUndefined();
      expect(await shared.withTenant('globex', async (c) => (await c.query('SELECT count(*)::int AS n FROM issues')).rows[0])).toEqual({
        n: 1,
      });
      expect(await fs.readdir(dir)).toEqual([]);
      const { rows } = await fleet.regions[0]!.query<{ login_auth: string }>(
        'SELECT login_auth FROM fleet.session_roles WHERE tenant_id = $1',
        ['globex'],
      );
      expect(rows[0]?.login_auth).toBe(`scram:${secretKeyId(secret)}`);
    } finally {
      await shared.close();
    }
  });

  test('connections: one pool per tenant under a global cap, least recently used idle tenant evicted, never above the cap', async () => {
    const cap = 2;
    const capped = await openTenantAccess(fleet, { credentialsDir: creds, maxConnections: cap });
    const prefix = capped.info('local').prefix;
    const serverSide = async () =>
      (
        await fleet.regions[0]!.query<{ u: string }>(
          `SELECT usename::text AS u FROM pg_stat_activity WHERE starts_with(usename::text, $1) AND application_name = 'fleet-tenant' ORDER BY 1`,
          [`${prefix}_l_`],
        )
      ).rows.map((r) => r.u);
    const baseline = await serverSide();
    try {
      await capped.withTenant('acme', async () => undefined);
      await capped.withTenant('globex', async () => undefined);
      expect(capped.stats('local')).toMatchObject({ open: 2, idle: 2, warmTenants: 2 });
      // A warm unit reuses the tenant's connection: the backend is the same.
      const pid = async (id: string) =>
        capped.withTenant(id, async (c) => (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p);
      const acmePid = await pid('acme');
      expect(await pid('acme')).toBe(acmePid);
      // globex is now the least recently used: initech takes its slot.
      await capped.withTenant('initech', async () => undefined);
      expect(capped.stats('local')).toMatchObject({ open: 2, idle: 2 });
      expect(await pid('acme')).toBe(acmePid);
      // Many units of many tenants at once: never more than the cap open, on our side or the server's.
      let peak = 0;
      let serverPeak = 0;
      const units = Array.from({ length: 24 }, (_, i) =>
        capped.withTenant(['acme', 'globex', 'initech'][i % 3]!, async (c) => {
          peak = Math.max(peak, capped.stats('local').open);
          const n = (
            await c.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE starts_with(usename::text, $1) AND application_name = 'fleet-tenant'`,
              [`${prefix}_l_`],
            )
          ).rows[0]!.n;
          serverPeak = Math.max(serverPeak, n);
          return (await c.query<{ u: string }>('SELECT current_user::text AS u')).rows[0]!.u;
        }),
      );
      const roles = await Promise.all(units);
      expect(roles.every((r, i) => r === tenantRoleName(prefix, `t_${['acme', 'globex', 'initech'][i % 3]}`))).toBe(true);
      expect(peak).toBeLessThanOrEqual(cap);
      expect(serverPeak - baseline.length).toBeLessThanOrEqual(cap);
      expect(capped.stats('local').waiting).toBe(0);
    } finally {
      await capped.close();
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
    // Dropped the way a killed run (or a decommissioning without dropAccessRoles) leaves it: roles behind.
    await fleet.regions[0]!.query(`DROP DATABASE ${quoteIdent(doomed.name)} WITH (FORCE)`);
    await doomed.drop();
    const connect = async (database: string) => {
      const client = new pg.Client({ connectionString: databaseUrl(database) });
      await client.connect();
      return client;
    };
    const livePrefix = access.info('local').prefix;
    const { sweepOrphanedAccessRoles } = await import('../../../src/access/cleanup.ts');
    const found = await sweepOrphanedAccessRoles(connect);
    expect(found.filter((r) => r.startsWith(doomedPrefix)).sort()).toEqual([
      `${doomedPrefix}_l_t_orphan_a`,
      `${doomedPrefix}_l_t_orphan_b`,
      `${doomedPrefix}_t_orphan_a`,
      `${doomedPrefix}_t_orphan_b`,
    ]);
    expect(found.some((r) => r.startsWith(livePrefix))).toBe(false);
    await sweepOrphanedAccessRoles(connect, { drop: true });
    const left = await fleet.regions[0]!.query(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [`${doomedPrefix}_`]);
    expect(left.rows).toEqual([]);
    expect(await access.withTenant('acme', async () => 'still fine')).toBe('still fine');
  });

  test("a test database's drop() drops its access roles first (and copes with a database without the control schema)", async () => {
    const { createTestDatabase } = await import('../helpers/database.ts');
    const plain = await createTestDatabase('access_plain');
    await plain.drop();
    const other = await createTestDatabase('access_drop');
    const otherFleet = await openTestFleet(other.url);
    let prefix: string;
    try {
      await addTenants(otherFleet, ['drop-a']);
      prefix = (await otherFleet.regions[0]!.query<{ p: string }>('SELECT role_prefix AS p FROM fleet.access_settings')).rows[0]!.p;
    } finally {
      await otherFleet.close();
    }
    const before = await fleet.regions[0]!.query(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [`${prefix}_`]);
    expect(before.rowCount).toBe(2);
    await other.drop();
    const after = await fleet.regions[0]!.query(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [`${prefix}_`]);
    expect(after.rows).toEqual([]);
  });
});
