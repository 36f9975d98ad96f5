/**
 * Gateway logins (logins: 'gateway'): one connection moved between tenants. From tenant alpha's
 * unit on a gateway connection, every way we know to leave something in the session for the
 * next tenant (bravo) served on the same connection; and the gateway itself: a member of one
 * tenant role at a time, NOLOGIN while held, its own settings and password reset at each claim.
 * maxConnections 1 makes every switch of tenant a move of the same connection.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { openTenantAccess, type TenantAccess } from '../../../src/access/with-tenant.ts';
import { tenantRoleName } from '../../../src/access/names.ts';
import { EXTENSIONS_SCHEMA } from '../../../src/db/search-path.ts';
import { dropRoles, schemaChecksum, seed, outcome } from './helpers.ts';
import { quoteIdent } from '../../../src/db/quote.ts';

const db = useTestDatabase('access_gateways');
const SECRET = 'gateway-attacks-secret-0123456789abcdef';
let fleet: Fleet;
let access: TenantAccess;
let prefix: string;
let bravoBefore: string;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { concurrency: 2 });
  await addTenants(fleet, ['alpha', 'bravo']);
  await seed(fleet, 't_alpha', 'alpha');
  await seed(fleet, 't_bravo', 'bravo');
  access = await openTenantAccess(fleet, { appSecret: SECRET, maxConnections: 1, logins: 'gateway' });
  prefix = access.info('local').prefix;
  bravoBefore = await schemaChecksum(fleet, 't_bravo');
});
afterAll(async () => {
  await access?.close();
  await fleet?.close();
  await dropRoles(db().url);
});

const admin = () => fleet.regions[0]!;
const q = quoteIdent;

/** What bravo's unit sees of its session, on the connection alpha's unit just used. */
async function bravoSession(): Promise<Record<string, unknown>> {
  return access.withTenant('bravo', async (c) => {
    const { rows } = await c.query(
      `SELECT current_user::text AS role, current_setting('search_path') AS path, current_setting('statement_timeout') AS timeout,
              current_setting('app.tenant', true) AS planted, (SELECT count(*)::int FROM pg_prepared_statements) AS prepared,
              (SELECT count(*)::int FROM pg_cursors) AS cursors, (SELECT count(*)::int FROM pg_listening_channels()) AS listening,
              pg_my_temp_schema() <> 0 AS temp_schema, (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory,
              (SELECT array_agg(summary ORDER BY summary) FROM issues) AS issues`,
    );
    return rows[0] as Record<string, unknown>;
  });
}

const clean = () => ({
  role: tenantRoleName(prefix, 't_bravo'),
  path: `t_bravo, ${EXTENSIONS_SCHEMA}, pg_temp`,
  timeout: '0',
  prepared: 0,
  cursors: 0,
  listening: 0,
  temp_schema: false,
  advisory: 0,
  issues: ['bravo secret issue'],
});

describe('gateway logins', () => {
  test('the session user is a gateway, a member of the tenant served and nothing else; session_tenant() follows each move', async () => {
    const seen = async (tenant: string) =>
      access.withTenant(tenant, async (c) => {
        const { rows } = await c.query<{ u: string; of: string[]; t: string }>(
          `SELECT session_user::text AS u, (SELECT array_agg(g.rolname::text) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles s ON s.oid = m.member WHERE s.rolname = session_user) AS of,
                  (SELECT tenant_id FROM fleet_access.session_tenant()) AS t`,
        );
        return rows[0]!;
      });
    const a = await seen('alpha');
    const b = await seen('bravo');
    expect(a.u).toMatch(new RegExp(`^${prefix}_l_gw_[0-9]+$`));
    expect(b.u).toBe(a.u);
    expect(a).toMatchObject({ of: [tenantRoleName(prefix, 't_alpha')], t: 'alpha' });
    expect(b).toMatchObject({ of: [tenantRoleName(prefix, 't_bravo')], t: 'bravo' });
    const role = (
      await admin().query<{ rolcanlogin: boolean; rolinherit: boolean; rolsuper: boolean; rolcreaterole: boolean }>(
        'SELECT rolcanlogin, rolinherit, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = $1',
        [a.u],
      )
    ).rows[0];
    expect(role).toEqual({ rolcanlogin: false, rolinherit: false, rolsuper: false, rolcreaterole: false });
  });

  test('alpha, once moved away from, is out of reach: SET ROLE alpha from bravo unit is refused', async () => {
    await access.withTenant('alpha', async () => undefined);
    expect(await outcome(access.withTenant('bravo', (c) => c.query(`SET LOCAL ROLE ${q(tenantRoleName(prefix, 't_alpha'))}`)))).toBe(
      '42501',
    );
    expect(
      await outcome(
        access.withTenant('alpha', (c) => c.query(`SET LOCAL ROLE ${q(tenantRoleName(prefix, 't_bravo'))}; SELECT * FROM t_bravo.issues`)),
      ),
    ).toBe('42501');
  });

  test.each([
    ['session-level SET ROLE', [`SELECT set_config('role', current_user::text, false)`]],
    ['SET ROLE then RESET in a savepoint', ['SAVEPOINT s', 'SET ROLE NONE', 'ROLLBACK TO SAVEPOINT s']],
    ['session search_path', [`SELECT set_config('search_path', 't_alpha', false)`]],
    ['set_config(..., false) of an app setting', [`SELECT set_config('app.tenant', 'alpha', false)`]],
    ['SET statement_timeout (session)', [`SELECT set_config('statement_timeout', '1', false)`]],
    ['prepared statement', [`PREPARE planted AS SELECT 'planted by alpha' AS summary`]],
    ['WITH HOLD cursor', ['DECLARE held CURSOR WITH HOLD FOR SELECT summary FROM issues']],
    ['temp table shadowing', [`CREATE TEMP TABLE issues (summary text)`, `INSERT INTO pg_temp.issues VALUES ('planted by alpha')`]],
    ['temp function', [`CREATE FUNCTION pg_temp.f() RETURNS text LANGUAGE sql AS $$ SELECT 'alpha' $$`]],
    ['LISTEN', ['LISTEN alpha_channel']],
    ['session advisory lock', ['SELECT pg_advisory_lock(4242)']],
    ['SET SESSION CHARACTERISTICS read only', ['SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY']],
  ])('left by alpha for bravo: %s', async (_name, statements) => {
    await outcome(
      access.withTenant('alpha', async (c) => {
        for (const sql of statements) await c.query(sql);
      }),
    );
    expect(await bravoSession()).toMatchObject(clean());
    // bravo can write (no read-only session default carried over), and nothing of alpha is there.
    await access.withTenant('bravo', (c) =>
      c.query(`INSERT INTO projects (id, key, name) VALUES (9, 'P9', 'bravo writes'); DELETE FROM projects WHERE id = 9`),
    );
    expect(await outcome(access.withTenant('bravo', (c) => c.query('EXECUTE planted')))).toBe('26000');
    expect(await outcome(access.withTenant('bravo', (c) => c.query('FETCH ALL FROM held')))).toBe('34000');
    expect(await schemaChecksum(fleet, 't_bravo')).toBe(bravoBefore);
  });

  test("a named statement of the application, parsed in alpha's unit, is parsed again for bravo (pg's cache follows the scrub)", async () => {
    const list = { name: 'list-issues', text: 'SELECT summary FROM issues ORDER BY id' };
    expect(await access.withTenant('alpha', async (c) => (await c.query<{ summary: string }>(list)).rows.map((r) => r.summary))).toEqual([
      'alpha secret issue',
    ]);
    expect(await access.withTenant('bravo', async (c) => (await c.query<{ summary: string }>(list)).rows.map((r) => r.summary))).toEqual([
      'bravo secret issue',
    ]);
    // alpha replaces the statement under the application's name with its own: bravo never runs it.
    await outcome(
      access.withTenant('alpha', (c) => c.query(`DEALLOCATE ALL; PREPARE "list-issues" AS SELECT 'phished by alpha' AS summary`)),
    );
    expect(await access.withTenant('bravo', async (c) => (await c.query<{ summary: string }>(list)).rows.map((r) => r.summary))).toEqual([
      'bravo secret issue',
    ]);
  });

  test('a unit that fails midway leaves nothing: the next tenant gets a clean session', async () => {
    expect(await outcome(access.withTenant('alpha', (c) => c.query(`SELECT set_config('app.tenant', 'alpha', false); SELECT 1/0`)))).toBe(
      '22012',
    );
    expect(
      await outcome(
        access.withTenant('alpha', async (c) => {
          await c.query(`PREPARE p2 AS SELECT 1`);
          throw new Error('fn failed');
        }),
      ),
    ).toBe('Error: fn failed');
    expect(await bravoSession()).toMatchObject(clean());
  });

  test('the gateway altering itself (after RESET ROLE): its settings and password carry nowhere', async () => {
    const gateway = await access.withTenant(
      'alpha',
      async (c) => (await c.query<{ u: string }>('SELECT session_user::text AS u')).rows[0]!.u,
    );
    await access.withTenant('alpha', async (c) => {
      await c.query('RESET ROLE');
      await c.query(`ALTER ROLE ${q(gateway)} SET role = ${q(tenantRoleName(prefix, 't_alpha'))}`);
      await c.query(`ALTER ROLE ${q(gateway)} SET search_path = t_alpha`);
      await c.query(`ALTER ROLE ${q(gateway)} PASSWORD 'known-to-alpha'`);
      await c.query(`SET LOCAL ROLE ${q(tenantRoleName(prefix, 't_alpha'))}`);
    });
    // The gateway is NOLOGIN while held: the password alpha chose lets nobody in.
    const url = new URL(db().url);
    url.username = gateway;
    url.password = 'known-to-alpha';
    const direct = new pg.Client({ connectionString: url.toString() });
    expect(await outcome(direct.connect())).toBe('28000');
    await direct.end().catch(() => undefined);
    expect(await bravoSession()).toMatchObject(clean());
    // A new holder (another access) claims it again: settings reset, and its session starts clean.
    await access.close();
    access = await openTenantAccess(fleet, { appSecret: SECRET, maxConnections: 1, logins: 'gateway' });
    const again = await access.withTenant(
      'bravo',
      async (c) => (await c.query<{ u: string }>('SELECT session_user::text AS u')).rows[0]!.u,
    );
    expect(again).toBe(gateway);
    expect((await admin().query('SELECT setconfig FROM pg_db_role_setting WHERE setrole = $1::regrole', [gateway])).rows).toEqual([]);
    expect(await bravoSession()).toMatchObject(clean());
  });

  test('a large object made as the gateway is refused like one made as the tenant', async () => {
    const before = (await admin().query('SELECT count(*)::int AS n FROM pg_largeobject_metadata')).rows[0];
    expect(
      await outcome(
        access.withTenant('alpha', (c) =>
          c.query(`RESET ROLE; SELECT lo_from_bytea(0, 'x'); SET LOCAL ROLE ${q(tenantRoleName(prefix, 't_alpha'))}`),
        ),
      ),
    ).toBe('FLEET:REFUSED');
    expect((await admin().query('SELECT count(*)::int AS n FROM pg_largeobject_metadata')).rows[0]).toEqual(before);
  });

  test('a connection that dies while idle is replaced; two accesses never share a gateway, and a gateway is a member of one tenant at most', async () => {
    const gateway = await access.withTenant(
      'alpha',
      async (c) => (await c.query<{ u: string }>('SELECT session_user::text AS u')).rows[0]!.u,
    );
    await admin().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [gateway]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await bravoSession()).toMatchObject(clean());
    const other = await openTenantAccess(fleet, { appSecret: SECRET, maxConnections: 2, logins: 'gateway' });
    try {
      const mine = await access.withTenant(
        'alpha',
        async (c) => (await c.query<{ u: string }>('SELECT session_user::text AS u')).rows[0]!.u,
      );
      const theirs = await Promise.all(
        ['alpha', 'bravo'].map((t) =>
          other.withTenant(t, async (c) => (await c.query<{ u: string }>('SELECT session_user::text AS u')).rows[0]!.u),
        ),
      );
      expect(theirs).not.toContain(mine);
      const memberships = await admin().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles s ON s.oid = m.member WHERE s.rolname LIKE $1 GROUP BY m.member ORDER BY 1 DESC LIMIT 1`,
        [`${prefix}\\_l\\_gw\\_%`],
      );
      expect(memberships.rows[0]!.n).toBe(1);
    } finally {
      await other.close();
    }
    expect(await schemaChecksum(fleet, 't_bravo')).toBe(bravoBefore);
  });

  test('a claim reuses the gateways whose holders ended, never one a live connection holds', async () => {
    const sessionUser = (c: pg.ClientBase) => c.query<{ u: string }>('SELECT pg_sleep(0.2), session_user::text AS u');
    const unitUser = async (a: TenantAccess) => a.withTenant('alpha', async (c) => (await sessionUser(c)).rows[0]!.u);
    // n units at once on one tenant: n connections, n gateways.
    const held = async (a: TenantAccess, n: number) => new Set(await Promise.all(Array.from({ length: n }, () => unitUser(a))));
    const mine = await unitUser(access);
    const first = await openTenantAccess(fleet, { appSecret: SECRET, maxConnections: 3, logins: 'gateway' });
    const firstSet = await held(first, 3).finally(() => first.close());
    expect(firstSet.size).toBe(3);
    expect(firstSet).not.toContain(mine);
    const roles = async () => (await admin().query<{ n: number }>('SELECT count(*)::int AS n FROM fleet.gateways')).rows[0]!.n;
    const before = await roles();
    // claim_gateway skips a gateway claimed in the last minute (its claimer may still be connecting).
    await admin().query('UPDATE fleet.gateways SET claimed_at = NULL WHERE claimed_at IS NOT NULL');
    const second = await openTenantAccess(fleet, { appSecret: SECRET, maxConnections: 3, logins: 'gateway' });
    try {
      const secondSet = await held(second, 3);
      expect([...secondSet].sort()).toEqual([...firstSet].sort());
      expect(await roles()).toBe(before);
      // The first access's connection is still its own.
      expect(await unitUser(access)).toBe(mine);
    } finally {
      await second.close();
    }
  });
});
