/**
 * The attack corpus: from tenant A's context (withTenant('alpha')), try to read or change tenant B
 * ('bravo') every way we know. Each attempt must be refused by PostgreSQL itself (an error with a
 * SQLSTATE, not a check of ours), and B must be unchanged afterwards (checksum of its structure,
 * grants and every row, taken as the administrator before and after).
 */
import { quoteIdent } from '../../../src/db/quote.ts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { openTenantAccess, type TenantAccess } from '../../../src/access/with-tenant.ts';
import { runTenantSql } from '../../../src/access/tenant-sql.ts';
import { sessionRoleName, tenantRoleName, tenantsGroupName } from '../../../src/access/names.ts';
import { credentialsDir, dropRoles, schemaChecksum, seed } from './helpers.ts';

/** The corpus, run with each kind of login withTenant can use (attack-corpus*.test.ts). */
export function attackCorpus(logins: 'tenant' | 'gateway'): void {
  const db = useTestDatabase(logins === 'tenant' ? 'access_attacks' : 'access_attacks_gw');
  let fleet: Fleet;
  let access: TenantAccess;
  let bravoBefore: string;
  let roles: { alpha: string; bravo: string; alphaLogin: string; bravoLogin: string; group: string; admin: string };
  let bravoLargeObject: string;
  let creds: string;

  beforeAll(async () => {
    fleet = await openTestFleet(db().url, { concurrency: 2 });
    await addTenants(fleet, ['alpha', 'bravo']);
    await seed(fleet, 't_alpha', 'alpha');
    await seed(fleet, 't_bravo', 'bravo');
    creds = credentialsDir();
    access = await openTenantAccess(fleet, { credentialsDir: creds, maxConnections: 2, logins });
    const prefix = access.info('local').prefix;
    const admin = (await fleet.regions[0]!.query<{ u: string }>('SELECT current_user::text AS u')).rows[0]!.u;
    roles = {
      alpha: tenantRoleName(prefix, 't_alpha'),
      bravo: tenantRoleName(prefix, 't_bravo'),
      alphaLogin: sessionRoleName(prefix, 't_alpha'),
      bravoLogin: sessionRoleName(prefix, 't_bravo'),
      group: tenantsGroupName(prefix),
      admin,
    };
    // bravo's session role is in use (connected, with its credentials), as in production.
    await access.withTenant('bravo', async () => undefined);
    // B's large object, and statistics on B's columns (pg_stats shows sampled values).
    const lo = await fleet.regions[0]!.query<{ oid: string }>(`SELECT lo_from_bytea(0, 'bravo large secret')::text AS oid`);
    bravoLargeObject = lo.rows[0]!.oid;
    await fleet.regions[0]!.query(`ALTER LARGE OBJECT ${Number(bravoLargeObject)} OWNER TO "${roles.bravo.replaceAll('"', '""')}"`);
    await fleet.regions[0]!.query('ANALYZE t_bravo.issues');
    bravoBefore = await schemaChecksum(fleet, 't_bravo');
  });
  afterAll(async () => {
    await access?.close();
    await fleet?.close();
    await dropRoles(db().url);
  });

  /** Run statements in order as tenant alpha; return the SQLSTATE of the first refusal, or 'ALLOWED'. */
  async function asAlpha(statements: readonly string[], params: Record<number, unknown[]> = {}): Promise<string> {
    try {
      await access.withTenant('alpha', async (client) => {
        for (const [i, sql] of statements.entries()) await client.query(sql, params[i]);
      });
      return 'ALLOWED';
    } catch (error) {
      if (error instanceof FleetError) return `FLEET:${error.code}`;
      const code = (error as { code?: string }).code;
      if (!code) throw error;
      return code;
    }
  }

  async function expectBravoUnchanged(): Promise<void> {
    expect(await schemaChecksum(fleet, 't_bravo')).toBe(bravoBefore);
    const lo = await fleet.regions[0]!.query<{ data: string }>(`SELECT convert_from(lo_get($1::oid), 'UTF8') AS data`, [bravoLargeObject]);
    expect(lo.rows[0]!.data).toBe('bravo large secret');
  }

  const q = quoteIdent;
  const DENIED = '42501';
  const NOT_VISIBLE = '42P01';

  describe('from tenant alpha, every attempt on tenant bravo is refused by PostgreSQL', () => {
    test('sanity: alpha reads its own rows; the corpus would notice an allowed attempt', async () => {
      expect(await asAlpha(['SELECT * FROM issues', 'SELECT * FROM t_alpha.projects'])).toBe('ALLOWED');
    });

    test.each([
      ['read by schema-qualified name', ['SELECT * FROM t_bravo.issues']],
      ['read one column', ['SELECT summary FROM t_bravo.issues']],
      ['join own and other', ['SELECT * FROM issues a JOIN t_bravo.issues b USING (id)']],
      ['subquery in a write of its own', [`INSERT INTO projects (id, key, name) SELECT 99, 'X', summary FROM t_bravo.issues`]],
      ['update', [`UPDATE t_bravo.issues SET summary = 'pwned'`]],
      ['delete', ['DELETE FROM t_bravo.projects']],
      ['insert', [`INSERT INTO t_bravo.projects (id, key, name) VALUES (77, 'EVIL', 'evil')`]],
      ['truncate', ['TRUNCATE t_bravo.issues CASCADE']],
      ['drop table', ['DROP TABLE t_bravo.issues CASCADE']],
      ['alter table', ['ALTER TABLE t_bravo.issues ADD COLUMN evil text']],
      ['drop schema', ['DROP SCHEMA t_bravo CASCADE']],
      ['create in the other schema', ['CREATE TABLE t_bravo.evil (x int)']],
      ['lock', ['LOCK TABLE t_bravo.issues IN ACCESS EXCLUSIVE MODE']],
    ])('schema-qualified names: %s', async (_name, statements) => {
      expect(await asAlpha(statements)).toBe(DENIED);
      await expectBravoUnchanged();
    });

    test.each([
      ['SET search_path', ['SET search_path = t_bravo', 'SELECT * FROM issues']],
      ['SET LOCAL search_path', ['SET LOCAL search_path = t_bravo', 'SELECT * FROM issues']],
      ['set_config(search_path)', [`SELECT set_config('search_path', 't_bravo', false)`, `UPDATE issues SET summary = 'pwned'`]],
    ])('search_path: %s', async (_name, statements) => {
      // A schema without USAGE is skipped by name lookup: "relation does not exist" (42P01).
      expect(await asAlpha(statements)).toBe(NOT_VISIBLE);
      await expectBravoUnchanged();
    });

    test('SET ROLE to bravo, to bravo session role, to the administrator, to built-in roles that read files or all data, to its own login: refused', async () => {
      const targets = [
        roles.bravo,
        roles.bravoLogin,
        roles.admin,
        'pg_read_all_data',
        'pg_write_all_data',
        'pg_read_server_files',
        'pg_write_server_files',
        'pg_execute_server_program',
        'pg_signal_backend',
        'pg_monitor',
        roles.alphaLogin,
      ];
      for (const role of targets) {
        for (const statements of [
          [`SET ROLE ${q(role)}`, 'SELECT * FROM t_bravo.issues'],
          [`SET LOCAL ROLE ${q(role)}`, `UPDATE t_bravo.issues SET summary = 'pwned'`],
          [`SET SESSION ROLE ${q(role)}`, 'DELETE FROM t_bravo.projects'],
        ]) {
          // alpha's own login is reachable (it is the session user) but reads nothing.
          expect([statements, await asAlpha(statements)]).toEqual([statements, DENIED]);
        }
      }
      // And the refusal is PostgreSQL's, at the SET ROLE itself: alpha's session user is a member of alpha's role only.
      for (const role of [roles.bravo, roles.bravoLogin, roles.admin, 'pg_read_all_data']) {
        const message = await access
          .withTenant('alpha', (c) => c.query(`SET ROLE ${q(role)}`))
          .then(
            () => 'ALLOWED',
            (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
          );
        expect(message).toBe(`${DENIED}: permission denied to set role "${role}"`);
      }
      await expectBravoUnchanged();
    });

    test('the former tenants group is gone; RESET ROLE, SET ROLE NONE: each lands on alpha session role, which reads nothing', async () => {
      expect((await fleet.regions[0]!.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [roles.group])).rowCount).toBe(0);
      // 22023: the role does not exist.
      expect(await asAlpha([`SET ROLE ${q(roles.group)}`, 'SELECT * FROM t_bravo.issues'])).toBe('22023');
      for (const statements of [
        ['RESET ROLE', 'SELECT * FROM t_bravo.issues'],
        ['RESET ROLE', 'SELECT * FROM t_alpha.issues'],
        ['RESET ROLE', `UPDATE t_bravo.issues SET summary = 'pwned'`],
        ['SET ROLE NONE', 'SELECT * FROM t_bravo.projects'],
        [`SELECT set_config('role', 'none', true)`, 'DELETE FROM t_bravo.projects'],
        ['RESET ALL', 'SELECT * FROM t_bravo.issues'],
      ]) {
        expect([statements, await asAlpha(statements)]).toEqual([statements, DENIED]);
      }
      await expectBravoUnchanged();
    });

    test('SET SESSION AUTHORIZATION to the administrator, to bravo, to bravo session role, to its own login: refused', async () => {
      for (const role of [roles.admin, roles.bravo, roles.bravoLogin, roles.alphaLogin, 'postgres']) {
        expect(await asAlpha([`SET SESSION AUTHORIZATION ${q(role)}`, 'SELECT * FROM t_bravo.issues'])).toBe(DENIED);
      }
      expect(await asAlpha(['RESET SESSION AUTHORIZATION', 'SELECT * FROM t_bravo.issues'])).toBe(DENIED);
      await expectBravoUnchanged();
    });

    test('functions and views created in alpha that reach into bravo: refused', async () => {
      const attempts: Array<readonly string[]> = [
        ['CREATE FUNCTION t_alpha.peek() RETURNS SETOF text LANGUAGE sql AS $$ SELECT summary FROM t_bravo.issues $$'],
        ['CREATE VIEW t_alpha.peek AS SELECT * FROM t_bravo.issues'],
        ['CREATE VIEW peek AS SELECT 1 AS x'],
        ['CREATE TEMP VIEW peek AS SELECT * FROM t_bravo.issues'],
        [
          'CREATE FUNCTION pg_temp.peek() RETURNS SETOF text LANGUAGE sql AS $$ SELECT summary FROM t_bravo.issues $$',
          'SELECT * FROM pg_temp.peek()',
        ],
        [
          'CREATE FUNCTION pg_temp.wipe() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t_bravo.issues; END $$',
          'SELECT pg_temp.wipe()',
        ],
        ['CREATE MATERIALIZED VIEW t_alpha.peek AS SELECT * FROM t_bravo.issues'],
        [`CREATE TRIGGER evil AFTER INSERT ON t_bravo.issues EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger()`],
      ];
      for (const statements of attempts) expect([statements, await asAlpha(statements)]).toEqual([statements, DENIED]);
      await expectBravoUnchanged();
    });

    test('SECURITY DEFINER: one alpha creates runs as alpha; the control schema definer function is out of reach', async () => {
      expect(
        await asAlpha([
          'CREATE FUNCTION t_alpha.sd() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER AS $$ SELECT summary FROM t_bravo.issues $$',
        ]),
      ).toBe(DENIED);
      expect(
        await asAlpha([
          'CREATE FUNCTION pg_temp.sd() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER AS $$ SELECT summary FROM t_bravo.issues $$',
          'SELECT * FROM pg_temp.sd()',
        ]),
      ).toBe(DENIED);
      expect(
        await asAlpha([
          'CREATE FUNCTION pg_temp.sd() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN UPDATE t_bravo.issues SET summary = $q$pwned$q$; END $$',
          'SELECT pg_temp.sd()',
        ]),
      ).toBe(DENIED);
      expect(await asAlpha([`SELECT * FROM fleet.tenant_status('bravo')`])).toBe(DENIED);
      // The one function a session may call tells it its own tenant, and takes no argument to ask about another.
      expect(await access.withTenant('alpha', async (c) => (await c.query('SELECT * FROM fleet_access.session_tenant()')).rows)).toEqual([
        { tenant_id: 'alpha', status: 'active', schema_name: 't_alpha' },
      ]);
      expect(await asAlpha([`SELECT * FROM fleet_access.session_tenant('bravo')`])).toBe('42883');
      expect(await asAlpha(['CREATE FUNCTION fleet_access.session_tenant(text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$'])).toBe(DENIED);
      expect(
        await asAlpha([
          'CREATE OR REPLACE FUNCTION fleet_access.session_tenant() RETURNS TABLE (tenant_id text, status text, schema_name text) LANGUAGE sql AS $$ SELECT $q$bravo$q$, $q$active$q$, $q$t_bravo$q$ $$',
        ]),
      ).toBe(DENIED);
      await expectBravoUnchanged();
    });

    test.each([
      ['fleet.tenants', ['SELECT * FROM fleet.tenants']],
      ['fleet.tenants update', [`UPDATE fleet.tenants SET status = 'purged' WHERE id = 'bravo'`]],
      ['fleet.migrations', ['SELECT * FROM fleet.migrations']],
      ['fleet.audit_events', ['SELECT * FROM fleet.audit_events']],
      ['fleet.audit_events insert', [`INSERT INTO fleet.audit_events (at, action, actor) VALUES (now(), 'forged', 'alpha')`]],
      ['fleet.support_grants', ['SELECT * FROM fleet.support_grants']],
      ['fleet.access_settings', ['SELECT * FROM fleet.access_settings']],
      ['fleet.session_roles', ['SELECT * FROM fleet.session_roles']],
      ['fleet.session_roles update', [`UPDATE fleet.session_roles SET tenant_id = 'bravo'`]],
      ['fleet.control_migrations', ['SELECT * FROM fleet.control_migrations']],
    ])('the control schema: %s', async (_name, statements) => {
      expect(await asAlpha(statements)).toBe(DENIED);
      await expectBravoUnchanged();
    });

    test.each([
      ['COPY bravo to stdout', ['COPY t_bravo.issues TO STDOUT']],
      ['COPY query of bravo', ['COPY (SELECT * FROM t_bravo.issues) TO STDOUT']],
      ['COPY to a server file', [`COPY (SELECT 1) TO '/tmp/fleet-attack-out'`]],
      ['COPY from a server file', [`COPY projects FROM '/etc/hostname'`]],
      ['COPY to a program', [`COPY (SELECT 1) TO PROGRAM 'cat > /tmp/fleet-attack-program'`]],
      ['COPY from a program', [`COPY projects FROM PROGRAM 'id'`]],
      ['pg_read_file', [`SELECT pg_read_file('/etc/passwd')`]],
      ['pg_read_file of the data directory', [`SELECT pg_read_file('postgresql.auto.conf')`]],
      ['pg_read_binary_file', [`SELECT pg_read_binary_file('/etc/passwd')`]],
      ['pg_ls_dir', [`SELECT pg_ls_dir('.')`]],
      ['pg_stat_file', [`SELECT pg_stat_file('postgresql.conf')`]],
      ['large object of bravo: read', ['SELECT lo_get($1::oid)']],
      ['large object of bravo: write', [`SELECT lo_put($1::oid, 0, 'pwned'::bytea)`]],
      ['large object of bravo: unlink', ['SELECT lo_unlink($1::oid)']],
      ['large object of bravo: export to a file', [`SELECT lo_export($1::oid, '/tmp/fleet-attack-lo')`]],
      ['large object: import a server file', [`SELECT lo_import('/etc/passwd')`]],
    ])('files, programs, large objects: %s', async (name, statements) => {
      const params: Record<number, unknown[]> = name.startsWith('large object of bravo') ? { 0: [bravoLargeObject] } : {};
      expect(await asAlpha(statements, params)).toBe(DENIED);
      await expectBravoUnchanged();
    });

    test('dblink (installed for this test when the server has it): no connection without a password, nothing read', async (context) => {
      const available = await fleet.regions[0]!.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'dblink'`);
      if (available.rowCount === 0) context.skip();
      expect(await asAlpha(['CREATE EXTENSION dblink SCHEMA t_alpha'])).toBe(DENIED);
      await fleet.regions[0]!.query('CREATE EXTENSION IF NOT EXISTS dblink SCHEMA public');
      const base = `dbname=${db().name} host=127.0.0.1 port=${new URL(db().url).port || 5432}`;
      const conns = [roles.admin, roles.bravoLogin].flatMap((user) => [`${base} user=${user}`, `${base} user=${user} password=guess`]);
      for (const conn of conns) {
        const outcome = await asAlpha([`SELECT * FROM public.dblink($1, 'SELECT summary FROM t_bravo.issues') AS t(s text)`], {
          0: [conn],
        });
        // 2F003: dblink refuses a non-superuser whose connection did not use a password; 08001: the server refused it.
        expect(['2F003', '08001']).toContain(outcome);
        expect(await asAlpha([`SELECT * FROM public.dblink_exec($1, 'DELETE FROM t_bravo.issues')`], { 0: [conn] })).toMatch(
          /^(2F003|08001)$/,
        );
      }
      await expectBravoUnchanged();
    });

    test('prepared statements: alpha cannot prepare against bravo, and never runs on a connection of bravo (nor meets its prepared statements)', async () => {
      expect(await asAlpha(['PREPARE peek AS SELECT * FROM t_bravo.issues'])).toBe(DENIED);
      for (const maxConnections of [1, 2]) {
        const other = await openTenantAccess(fleet, { credentialsDir: creds, maxConnections, logins });
        try {
          // The session user: the tenant's own login, or a gateway that is a member of that tenant's role only.
          const session = (tenant: string) =>
            other.withTenant(tenant, async (c) => {
              const { u, of } = (
                await c.query<{ u: string; of: string[] }>(
                  `SELECT session_user::text AS u, (SELECT array_agg(g.rolname::text) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles s ON s.oid = m.member WHERE s.rolname = session_user) AS of`,
                )
              ).rows[0]!;
              return logins === 'tenant'
                ? u
                : of.length === 1 && of[0] === tenantRoleName(access.info('local').prefix, `t_${tenant}`) && /_l_gw_[0-9]+$/.test(u)
                  ? tenant === 'alpha'
                    ? roles.alphaLogin
                    : roles.bravoLogin
                  : `gateway ${u} member of ${of.join(',')}`;
            });
          await other.withTenant('bravo', (c) =>
            c.query('PREPARE qualified AS SELECT summary FROM t_bravo.issues; PREPARE unqualified AS SELECT summary FROM issues'),
          );
          const run = (tenant: string, name: string) =>
            other
              .withTenant(tenant, async (c) => (await c.query<{ summary: string }>(`EXECUTE ${name}`)).rows.map((r) => r.summary))
              .catch((e: unknown) => (e as { code?: string }).code);
          // Every connection alpha gets is logged in as alpha's session role: bravo's statements are not there (26000).
          expect(await session('alpha')).toBe(roles.alphaLogin);
          expect(await run('alpha', 'qualified')).toBe('26000');
          expect(await run('alpha', 'unqualified')).toBe('26000');
          // bravo's own connection kept them while it stayed open (two slots); with one slot alpha's unit closed it.
          expect(await run('bravo', 'qualified')).toEqual(maxConnections === 2 ? ['bravo secret issue'] : '26000');
          expect(await session('bravo')).toBe(roles.bravoLogin);
        } finally {
          await other.close();
        }
      }
      await expectBravoUnchanged();
    });

    test.each([
      ['read', [`DO $$ BEGIN PERFORM * FROM t_bravo.issues; END $$`]],
      ['write', [`DO $$ BEGIN UPDATE t_bravo.issues SET summary = 'pwned'; END $$`]],
      ['dynamic SQL', [`DO $$ BEGIN EXECUTE 'DELETE FROM ' || 't_bravo' || '.issues'; END $$`]],
      ['role change', [`DO $$ BEGIN EXECUTE 'SET SESSION AUTHORIZATION postgres'; DELETE FROM t_bravo.issues; END $$`]],
      ['search_path change', [`DO $$ BEGIN SET search_path = t_bravo; DELETE FROM issues; END $$`], NOT_VISIBLE],
    ])('DO blocks: %s', async (_name, statements, expected = DENIED) => {
      expect(await asAlpha(statements)).toBe(expected);
      await expectBravoUnchanged();
    });

    test('privilege changes: grant itself bravo, alter roles, create roles or schemas: refused', async () => {
      for (const statements of [
        [`GRANT ${q(roles.bravo)} TO ${q(roles.alpha)}`],
        [`GRANT SELECT ON t_bravo.issues TO ${q(roles.alpha)}`],
        [`GRANT USAGE ON SCHEMA t_bravo TO ${q(roles.alpha)}`],
        [`ALTER ROLE ${q(roles.alpha)} SUPERUSER`],
        [`ALTER ROLE ${q(roles.alphaLogin)} INHERIT`],
        [`GRANT ${q(roles.bravo)} TO ${q(roles.alphaLogin)}`],
        [`GRANT ${q(roles.bravoLogin)} TO ${q(roles.alphaLogin)}`],
        [`ALTER ROLE ${q(roles.bravoLogin)} PASSWORD 'guess-what'`],
        [`ALTER ROLE ${q(roles.bravoLogin)} NOLOGIN`],
        [`ALTER ROLE ${q(roles.bravo)} LOGIN PASSWORD 'guess-what'`],
        [`DROP ROLE ${q(roles.bravoLogin)}`],
        ['CREATE ROLE evil LOGIN'],
        ['CREATE SCHEMA evil'],
        ['CREATE TABLE public.evil (x int)'],
        [`ALTER SCHEMA t_bravo OWNER TO ${q(roles.alpha)}`],
      ]) {
        expect([statements, await asAlpha(statements)]).toEqual([statements, DENIED]);
      }
      await expectBravoUnchanged();
    });

    test('statistics and activity of bravo do not leak through the catalogs', async () => {
      const seen = await access.withTenant(
        'alpha',
        async (c) => (await c.query(`SELECT * FROM pg_stats WHERE schemaname = 't_bravo'`)).rowCount,
      );
      expect(seen).toBe(0);
      expect(await asAlpha(['SELECT * FROM pg_catalog.pg_statistic'])).toBe(DENIED);

      // bravo runs a query carrying a marker; alpha looks at pg_stat_activity meanwhile.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const bravo = access.withTenant('bravo', async (c) => {
        await c.query(`SELECT 'bravo-marker-42' AS m`);
        started();
        await held;
      });
      let texts: string[];
      try {
        await running;
        texts = await access.withTenant('alpha', async (c) =>
          (await c.query<{ query: string | null }>('SELECT query FROM pg_stat_activity')).rows.map((r) => r.query ?? ''),
        );
        // The marker is there, as bravo's session's last query: the administrator sees it.
        const all = (
          await fleet.regions[0]!.query<{ query: string }>(
            `SELECT query FROM pg_stat_activity WHERE query LIKE '%bravo-marker-42%' AND pid <> pg_backend_pid()`,
          )
        ).rows;
        expect(all.length).toBeGreaterThan(0);
      } finally {
        release();
        await bravo;
      }
      expect(texts.some((t) => t.includes('bravo-marker-42'))).toBe(false);
      await expectBravoUnchanged();
    });

    test('SET ROLE to bravo (or bravo session role) and back, from inside alpha, by any route: refused by PostgreSQL, nothing read', async () => {
      for (const target of [roles.bravo, roles.bravoLogin]) {
        let leaked: unknown = 'nothing read';
        const outcome = await access
          .withTenant('alpha', async (c) => {
            await c.query(`SET LOCAL ROLE ${q(target)}`);
            leaked = (await c.query<{ summary: string }>('SELECT summary FROM t_bravo.issues')).rows;
            await c.query(`SET LOCAL ROLE ${q(roles.alpha)}`);
          })
          .then(
            () => 'ALLOWED',
            (e: unknown) => (e as { code?: string }).code,
          );
        expect([target, outcome, leaked]).toEqual([target, DENIED, 'nothing read']);
        for (const [statements, params] of [
          [[`SELECT set_config('role', $1, true)`, 'SELECT summary FROM t_bravo.issues'], { 0: [target] }],
          [[`SELECT set_config('role', $1, false)`, `UPDATE t_bravo.issues SET summary = 'pwned'`], { 0: [target] }],
          [['SAVEPOINT s', `SET LOCAL ROLE ${q(target)}`, 'ROLLBACK TO SAVEPOINT s', 'SELECT summary FROM t_bravo.issues'], {}],
          [[`DO $$ BEGIN EXECUTE format('SET LOCAL ROLE %I', '${target}'); DELETE FROM t_bravo.issues; END $$`], {}],
          [
            [
              `CREATE FUNCTION pg_temp.become() RETURNS text LANGUAGE sql AS $$ SELECT set_config('role', '${target}', true) $$`,
              'SELECT pg_temp.become()',
              'SELECT summary FROM t_bravo.issues',
            ],
            {},
          ],
          [['RESET ROLE', `SET ROLE ${q(target)}`, 'SELECT summary FROM t_bravo.issues'], {}],
          [[`SET SESSION AUTHORIZATION ${q(target)}`, 'SELECT summary FROM t_bravo.issues'], {}],
        ] as Array<[string[], Record<number, unknown[]>]>) {
          expect([statements, await asAlpha(statements, params)]).toEqual([statements, DENIED]);
        }
      }
      await expectBravoUnchanged();
    });

    test('fleet sql path: runTenantSql from alpha cannot switch to bravo either', async () => {
      for (const sql of [
        `SET ROLE ${q(roles.bravo)}; SELECT summary FROM t_bravo.issues`,
        `SELECT set_config('role', ${"'"}${roles.bravoLogin}${"'"}, true)`,
      ]) {
        const outcome = await runTenantSql(access, { tenantId: 'alpha', sql, write: true }).then(
          () => 'ALLOWED',
          (e: unknown) => (e as { code?: string }).code,
        );
        expect([sql, outcome]).toEqual([sql, DENIED]);
      }
      await expectBravoUnchanged();
    });
  });
}
