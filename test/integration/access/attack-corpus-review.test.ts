/**
 * The attack corpus, second part: the holes a security review found (issue 14), each performed
 * as an attack. From a tenant's scope (withTenant), from `fleet sql` (runTenantSql) and against
 * the runner, the purge and the role backfill. Each test fails on the code before its fix.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { createTestDatabase, useTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { purgeFleet } from '../../../src/purge/purge-fleet.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';
import { readMigrationFiles } from '../../../src/migrate/migration-files.ts';
import { openTenantAccess, type TenantAccess } from '../../../src/access/with-tenant.ts';
import { runTenantSql } from '../../../src/access/tenant-sql.ts';
import { sessionRoleName, tenantRoleName, tenantRoleNameSql } from '../../../src/access/names.ts';
import { missingRolesCondition } from '../../../src/access/tenant-role.ts';
import { deriveSessionPassword } from '../../../src/access/session-login.ts';
import { tryTenantLock, releaseTenantLock } from '../../../src/tenants/tenant-lock.ts';
import { dropRoles, seed, outcome } from './helpers.ts';
import { quoteIdent } from '../../../src/db/quote.ts';

const db = useTestDatabase('access_review');
const clock = new ManualClock('2026-01-01T00:00:00Z');
const SECRET = 'review-attacks-secret-0123456789abcdef';
// 60 characters: the longest id, whose role names are hashed.
const LONG = `l${'o'.repeat(58)}g`;
let fleet: Fleet;
let access: TenantAccess;
let prefix: string;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { clock, concurrency: 2 });
  await addTenants(fleet, ['alpha', 'bravo', 'delta', 'echo', LONG]);
  for (const id of ['alpha', 'bravo', 'delta', 'echo']) await seed(fleet, `t_${id}`, id);
  access = await openTenantAccess(fleet, { appSecret: SECRET, maxConnections: 4 });
  prefix = access.info('local').prefix;
});
afterAll(async () => {
  await access?.close();
  await fleet?.close();
  await dropRoles(db().url);
});

const admin = () => fleet.regions[0]!;
const q = quoteIdent;

async function projects(schema: string): Promise<number> {
  return (await admin().query<{ n: number }>(`SELECT count(*)::int AS n FROM ${q(schema)}.projects`)).rows[0]!.n;
}

/** Large objects owned by these roles, or by anyone (as the administrator). */
async function largeObjects(roles?: readonly string[]): Promise<number> {
  const { rows } = await admin().query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_largeobject_metadata m WHERE $1::text[] IS NULL OR m.lomowner IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[]))`,
    [roles ?? null],
  );
  return rows[0]!.n;
}

describe('deletion: a purge leaves nothing of the tenant behind', () => {
  test('a unit may not create a large object: lo_from_bytea, lo_create, lo_import of a crafted oid, as the tenant or its session role', async () => {
    const alphaRoles = [tenantRoleName(prefix, 't_alpha'), sessionRoleName(prefix, 't_alpha')];
    const attempts = [
      `SELECT lo_from_bytea(0, 'alpha bytes')`,
      `SELECT lo_create(0)`,
      `SELECT lo_create(987654)`,
      `RESET ROLE; SELECT lo_from_bytea(0, 'as the session role'); SET LOCAL ROLE ${q(alphaRoles[0]!)}`,
      `SAVEPOINT s; SELECT lo_from_bytea(0, 'in a savepoint'); RELEASE SAVEPOINT s`,
    ];
    for (const sql of attempts) {
      expect(await outcome(access.withTenant('alpha', (c) => c.query(sql))), sql).not.toBe('ALLOWED');
      expect(await largeObjects(alphaRoles), sql).toBe(0);
    }
  });

  test('a read-only unit cannot commit a large object', async () => {
    const roles = [tenantRoleName(prefix, 't_alpha'), sessionRoleName(prefix, 't_alpha')];
    for (const sql of [
      'SELECT lo_create(0)',
      `SELECT lo_from_bytea(0, 'x')`,
      `RESET transaction_read_only; SELECT lo_from_bytea(0, 'x')`,
      `SET transaction_read_only TO DEFAULT; SELECT lo_create(0)`,
    ]) {
      expect(await outcome(access.withTenant('alpha', (c) => c.query(sql), { readOnly: true })), sql).not.toBe('ALLOWED');
      expect(await largeObjects(roles), sql).toBe(0);
    }
  });

  test('large objects a tenant role owns (made before they were refused) are deleted by the purge, not handed to the administrator', async () => {
    const role = tenantRoleName(prefix, 't_delta');
    const login = sessionRoleName(prefix, 't_delta');
    for (const owner of [role, login]) {
      const lo = await admin().query<{ oid: string }>(`SELECT lo_from_bytea(0, 'delta customer bytes')::text AS oid`);
      await admin().query(`ALTER LARGE OBJECT ${Number(lo.rows[0]!.oid)} OWNER TO ${q(owner)}`);
    }
    const before = await largeObjects();
    await uninstallTenant(fleet, 'delta');
    clock.advance(31 * DAY_MS);
    const report = await purgeFleet(fleet, { execute: true, allowMass: true });
    expect(report.results.find((r) => r.tenant === 'delta')).toMatchObject({ status: 'purged' });
    expect(await largeObjects()).toBe(before - 2);
    const left = await admin().query(`SELECT 1 FROM pg_largeobject WHERE convert_from(data, 'UTF8') LIKE '%delta customer bytes%'`);
    expect(left.rowCount).toBe(0);
  });

  test('a tenant login connects to its own database only: not to another fleet database of the server', async () => {
    let other: TestDatabase | undefined;
    let otherFleet: Fleet | undefined;
    try {
      other = await createTestDatabase('access_review_other');
      otherFleet = await openTestFleet(other.url, { clock });
      const login = sessionRoleName(prefix, 't_alpha');
      const asLogin = (url: string) => {
        const u = new URL(url);
        u.username = encodeURIComponent(login);
        u.password = encodeURIComponent(deriveSessionPassword(SECRET, login));
        return new pg.Client({ connectionString: u.toString() });
      };
      const home = asLogin(db().url);
      await home.connect();
      await home.end();
      const elsewhere = asLogin(other.url);
      elsewhere.on('error', () => undefined);
      expect(await outcome(elsewhere.connect())).toBe('42501');
      await elsewhere.end().catch(() => undefined);
    } finally {
      await otherFleet?.close();
      await other?.drop();
    }
  });

  test('sql.failed audit events keep the SQLSTATE, never PostgreSQL text quoting a value', async () => {
    expect(await outcome(runTenantSql(access, { tenantId: 'alpha', sql: `SELECT 'alpha-secret-value-77'::int` }))).toBe('22P02');
    const { rows } = await admin().query<{ details: Record<string, unknown> }>(
      `SELECT details FROM fleet.audit_events WHERE tenant_id = 'alpha' AND action = 'sql.failed' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]!.details).toMatchObject({ code: '22P02', statement: 1 });
    expect(JSON.stringify(rows[0]!.details)).not.toContain('alpha-secret-value-77');
  });
});

describe('read-only that is not', () => {
  const smuggle = (role: string) =>
    `INSERT INTO t_alpha.projects (id, key, name) VALUES (990, 'X990', 'smuggled'); BEGIN READ ONLY; SET LOCAL ROLE ${q(role)}; SET LOCAL search_path TO "t_alpha", pg_temp`;

  test('fleet sql without --write: a COMMIT hidden from the splitter (identifier ending in $, E-string, dollar tag with a digit) commits nothing', async () => {
    const role = tenantRoleName(prefix, 't_alpha');
    const before = await projects('t_alpha');
    const payloads = [
      `SELECT 1 AS x$q$; COMMIT; SET ROLE ${q(role)}; ${smuggle(role)}; SELECT 1 AS y$q$`,
      `SELECT E'\\''; COMMIT; SET ROLE ${q(role)}; ${smuggle(role)}; SELECT '\\'`,
      `SELECT $a1$ x $a1$; COMMIT; SET ROLE ${q(role)}; ${smuggle(role)}`,
    ];
    for (const sql of payloads) {
      expect(await outcome(runTenantSql(access, { tenantId: 'alpha', sql })), sql).not.toBe('ALLOWED');
      expect(await projects('t_alpha'), sql).toBe(before);
    }
  });

  test('withTenant: a unit that commits and begins another transaction is refused, and what it wrote there rolled back', async () => {
    const role = tenantRoleName(prefix, 't_alpha');
    const before = await projects('t_alpha');
    const result = await outcome(
      access.withTenant('alpha', async (c) => {
        await c.query('COMMIT');
        await c.query(`BEGIN; SET LOCAL ROLE ${q(role)}; SET LOCAL search_path TO "t_alpha", pg_temp`);
        await c.query(`INSERT INTO projects (id, key, name) VALUES (991, 'X991', 'second transaction')`);
      }),
    );
    expect(result).toBe('FLEET:REFUSED');
    expect(await projects('t_alpha')).toBe(before);
  });

  test('a read-only unit that turns read-only off (RESET / SET TO DEFAULT / SET ... off) commits nothing', async () => {
    const before = await projects('t_alpha');
    const tricks = [
      'RESET transaction_read_only',
      'SET transaction_read_only TO DEFAULT',
      'SET LOCAL transaction_read_only = off',
      'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; RESET transaction_read_only',
    ];
    const again: Array<[string, string]> = [
      ['RESET transaction_read_only', '; SET transaction_read_only = on'],
      ['SET transaction_read_only TO DEFAULT', '; SET LOCAL transaction_read_only TO on'],
    ];
    for (const [trick, after] of [...tricks.map((t): [string, string] => [t, '']), ...again]) {
      // `after`: read-only turned on again once the write is done.
      const sql = `${trick}; INSERT INTO projects (id, key, name) VALUES (992, 'X992', 'written read-only')${after}`;
      expect(await outcome(access.withTenant('alpha', (c) => c.query(sql), { readOnly: true })), trick).not.toBe('ALLOWED');
      expect(await outcome(runTenantSql(access, { tenantId: 'alpha', sql })), trick).not.toBe('ALLOWED');
      expect(await projects('t_alpha'), trick).toBe(before);
    }
  });
});

describe('one tenant blocking another', () => {
  const oldKey = `hashtextextended('fleet:tenant:' || $1::text, 0)`;

  test("a tenant holding another tenant's (former) advisory key blocks neither the runner's lease nor the purge", async () => {
    await uninstallTenant(fleet, 'echo');
    clock.advance(31 * DAY_MS);
    const runner = new pg.Client({ connectionString: db().url });
    await runner.connect();
    try {
      const report = await access.withTenant('alpha', async (c) => {
        await c.query(`SELECT pg_advisory_lock(${oldKey})`, ['echo']);
        await c.query(`SELECT pg_advisory_lock(${oldKey})`, ['bravo']);
        expect(await tryTenantLock(runner, 'bravo')).toBe(true);
        await releaseTenantLock(runner, 'bravo');
        return purgeFleet(fleet, { execute: true, allowMass: true });
      });
      expect(report.results.find((r) => r.tenant === 'echo')).toMatchObject({ status: 'purged' });
    } finally {
      await runner.end();
    }
  });

  test('the lease is out of a tenant session reach', async () => {
    for (const sql of [
      `SELECT fleet.try_tenant_lease('bravo')`,
      `SELECT fleet.lock_tenant_for_transaction('bravo')`,
      `SELECT * FROM fleet.tenant_leases FOR UPDATE`,
      `INSERT INTO fleet.tenant_leases (tenant_id, holder_pid) VALUES ('bravo', 1)`,
    ]) {
      expect(await outcome(access.withTenant('alpha', (c) => c.query(sql))), sql).toBe('42501');
    }
  });

  test('a pooled connection keeps no session-level lock after its unit', async () => {
    await access.withTenant('alpha', (c) => c.query(`SELECT pg_advisory_lock(${oldKey}), pg_advisory_lock(42)`, ['bravo']));
    const held = await admin().query(
      `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.usename = $1`,
      [sessionRoleName(prefix, 't_alpha')],
    );
    expect(held.rowCount).toBe(0);
  });

  test('a purge that finds a due tenant held by a runner reports it and is not ok', async () => {
    await addTenants(fleet, ['foxtrot']);
    await uninstallTenant(fleet, 'foxtrot');
    clock.advance(31 * DAY_MS);
    const runner = new pg.Client({ connectionString: db().url });
    await runner.connect();
    try {
      expect(await tryTenantLock(runner, 'foxtrot')).toBe(true);
      const report = await purgeFleet(fleet, { execute: true, allowMass: true });
      expect(report.results.find((r) => r.tenant === 'foxtrot')).toMatchObject({ status: 'skipped', busy: true });
      expect(report.ok).toBe(false);
      await releaseTenantLock(runner, 'foxtrot');
      expect((await purgeFleet(fleet, { execute: true, allowMass: true })).ok).toBe(true);
    } finally {
      await runner.end();
    }
  });

  test('a 60-character tenant id is not "missing roles": the SQL naming rule is the one of names.ts, for every length', async () => {
    const missing = missingRolesCondition(prefix);
    const found = await admin().query(`SELECT t.id FROM fleet.tenants t WHERE t.id = $1 AND ${missing.sql}`, [LONG, ...missing.params]);
    expect(found.rowCount).toBe(0);
    const schemas = Array.from({ length: 62 }, (_, i) => `t_${'a'.repeat(i + 1)}`.slice(0, i + 2));
    const { rows } = await admin().query<{ s: string; name: string }>(
      `SELECT s, ${tenantRoleNameSql(prefix, 's')} AS name FROM unnest($1::text[]) AS s`,
      [schemas],
    );
    for (const row of rows) expect(row.name, row.s).toBe(tenantRoleName(prefix, row.s));
  });

  test('opening the access does not wait unbounded for a tenant a runner holds', async () => {
    // A tenant whose session role went missing is backfilled under its lease; a runner holds it.
    await admin().query('DELETE FROM fleet.session_roles WHERE tenant_id = $1', ['bravo']);
    const runner = new pg.Client({ connectionString: db().url });
    await runner.connect();
    try {
      // A runner migrating bravo, then a purge (or another backfill) in the middle of its transaction.
      expect(await tryTenantLock(runner, 'bravo')).toBe(true);
      let started = Date.now();
      const again = await openTenantAccess(fleet, { appSecret: SECRET, maxConnections: 1 });
      await again.close();
      expect(Date.now() - started).toBeLessThan(10_000);
      await releaseTenantLock(runner, 'bravo');
      await runner.query('BEGIN');
      await runner.query('SELECT fleet.lock_tenant_for_transaction($1)', ['bravo']);
      started = Date.now();
      const once = await openTenantAccess(fleet, { appSecret: SECRET, maxConnections: 1 });
      await once.close();
      expect(Date.now() - started).toBeLessThan(10_000);
      await runner.query('COMMIT');
      const restored = await openTenantAccess(fleet, { appSecret: SECRET, maxConnections: 1 });
      await restored.close();
      expect((await admin().query('SELECT 1 FROM fleet.session_roles WHERE tenant_id = $1', ['bravo'])).rowCount).toBe(1);
    } finally {
      await runner.end();
    }
  }, 30_000);

  test('a migrate that finds a pending tenant held by another runner is not ok and names it', async () => {
    await addTenants(fleet, ['golf']);
    const dir = migrationsCopy();
    const next = String(readMigrationFiles(dir).length + 1).padStart(4, '0');
    writeMigration(dir, `${next}_review_extra.sql`, 'CREATE TABLE review_extra (id int PRIMARY KEY);');
    const later = await openTestFleet(db().url, { clock, migrationsDir: dir });
    const runner = new pg.Client({ connectionString: db().url });
    await runner.connect();
    try {
      expect(await tryTenantLock(runner, 'golf')).toBe(true);
      const held = await migrateFleet(later, { tenants: ['golf'] });
      expect(held.results).toEqual([expect.objectContaining({ tenant: 'golf', status: 'skipped', reason: 'locked by another runner' })]);
      expect(held.ok).toBe(false);
      await releaseTenantLock(runner, 'golf');
      const done = await migrateFleet(later, { tenants: ['golf'] });
      expect(done).toMatchObject({ ok: true, summary: { applied: 1 } });
    } finally {
      await runner.end();
      await later.close();
    }
  });
});
