import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { ManualClock } from '../../../src/clock.ts';
import { FleetError } from '../../../src/errors.ts';
import { quoteIdent } from '../../../src/db/quote.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { parseTtl } from '../../../src/access/duration.ts';
import { grantSupport, listSupportGrants, revokeSupportGrant, sweepSupportGrants } from '../../../src/access/support.ts';
import { sessionRoleName } from '../../../src/access/names.ts';
import { openTenantAccess } from '../../../src/access/with-tenant.ts';
import { credentialsDir, dropRoles, schemaChecksum, seed } from './helpers.ts';

const db = useTestDatabase('access_support');
// Real time: a login role's VALID UNTIL is checked by the server against its own clock.
const clock = new ManualClock(new Date());
let fleet: Fleet;
const staff = `staff_${randomBytes(4).toString('hex')}`;
const staffPassword = randomBytes(16).toString('hex');

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { clock, concurrency: 2 });
  await addTenants(fleet, ['acme', 'globex']);
  await seed(fleet, 't_acme', 'acme');
  await seed(fleet, 't_globex', 'globex');
  await fleet.regions[0]!.query(`CREATE ROLE ${quoteIdent(staff)} LOGIN NOINHERIT PASSWORD '${staffPassword}'`);
});
afterAll(async () => {
  // The grants gave it CONNECT on this database: DROP OWNED takes that away, or the role could not be dropped.
  await fleet.regions[0]?.query(`DROP OWNED BY ${quoteIdent(staff)}; DROP ROLE IF EXISTS ${quoteIdent(staff)}`);
  await fleet?.close();
  await dropRoles(db().url);
});

function urlAs(user: string, password: string): string {
  const url = new URL(db().url);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function code(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ALLOWED',
    (e: unknown) => (e instanceof FleetError ? `FLEET:${e.code}` : ((e as { code?: string }).code ?? String(e))),
  );
}

async function auditFor(grantId: string): Promise<Array<{ action: string; reason: string; ticket: string }>> {
  const { rows } = await fleet.regions[0]!.query<{ action: string; reason: string; ticket: string }>(
    `SELECT action, reason, details->>'ticket' AS ticket FROM fleet.audit_events WHERE details->>'grantId' = $1 ORDER BY id`,
    [grantId],
  );
  return rows;
}

describe('support grants', () => {
  test('bad input is refused before anything changes: ttl over 8h, empty ticket, unknown tenant, unknown --to', async () => {
    const before = (
      await fleet.regions[0]!.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM fleet.support_grants)::int + (SELECT count(*) FROM fleet.audit_events)::int AS n',
      )
    ).rows[0]!.n;
    expect(() => parseTtl('9h')).toThrow(/at most 8 hours/);
    expect(() => parseTtl('8h1s')).toThrow(FleetError);
    expect(() => parseTtl('soon')).toThrow(FleetError);
    expect(parseTtl('8h')).toBe(8 * 3_600_000);
    expect(parseTtl('1h30m')).toBe(90 * 60_000);
    expect(await code(grantSupport(fleet, { tenantId: 'acme', ticket: 'SUP-1', ttlMs: 8 * 3_600_000 + 1 }))).toBe('FLEET:INPUT_INVALID');
    expect(await code(grantSupport(fleet, { tenantId: 'acme', ticket: '', ttlMs: 60_000 }))).toBe('FLEET:INPUT_INVALID');
    expect(await code(grantSupport(fleet, { tenantId: 'acme', ticket: 'SUP\n1', ttlMs: 60_000 }))).toBe('FLEET:INPUT_INVALID');
    expect(await code(grantSupport(fleet, { tenantId: "acme'; --", ticket: 'SUP-1', ttlMs: 60_000 }))).toBe('FLEET:INPUT_INVALID');
    expect(await code(grantSupport(fleet, { tenantId: 'nobody', ticket: 'SUP-1', ttlMs: 60_000 }))).toBe('FLEET:TENANT_NOT_FOUND');
    expect(await code(grantSupport(fleet, { tenantId: 'acme', ticket: 'SUP-1', ttlMs: 60_000, to: 'no_such_user_x' }))).toBe(
      'FLEET:INPUT_INVALID',
    );
    expect(await code(grantSupport(fleet, { tenantId: 'acme', ticket: 'SUP-1', ttlMs: 60_000, to: 'x"; DROP ROLE postgres; --' }))).toBe(
      'FLEET:INPUT_INVALID',
    );
    // A tenant's session role can never be handed a grant (it would then reach a second schema).
    const prefix = (await fleet.regions[0]!.query<{ p: string }>('SELECT role_prefix AS p FROM fleet.access_settings')).rows[0]!.p;
    expect(
      await code(grantSupport(fleet, { tenantId: 'acme', ticket: 'SUP-1', ttlMs: 60_000, to: sessionRoleName(prefix, 't_globex') })),
    ).toBe('FLEET:INPUT_INVALID');
    const after = (
      await fleet.regions[0]!.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM fleet.support_grants)::int + (SELECT count(*) FROM fleet.audit_events)::int AS n',
      )
    ).rows[0]!.n;
    expect(after).toBe(before);
  });

  test('a login grant reads only its tenant, cannot write, and reads nothing after it expires and the sweep ran', async () => {
    const globexBefore = await schemaChecksum(fleet, 't_globex');
    const acmeBefore = await schemaChecksum(fleet, 't_acme');
    const { grant, login } = await grantSupport(fleet, { tenantId: 'acme', ticket: 'SUP-100', ttlMs: parseTtl('2h') });
    expect(grant.state).toBe('active');
    expect(grant.expiresAt.getTime() - grant.grantedAt.getTime()).toBe(2 * 3_600_000);
    expect(login).toBeDefined();
    const session = await connect(urlAs(login!.user, login!.password));
    try {
      expect((await session.query<{ summary: string }>('SELECT summary FROM issues')).rows).toEqual([{ summary: 'acme secret issue' }]);
      expect((await session.query('SELECT * FROM t_acme.projects')).rowCount).toBe(2);
      expect(await code(session.query(`UPDATE issues SET summary = 'changed'`))).toBe('25006');
      await session.query('BEGIN READ WRITE');
      expect(await code(session.query('DELETE FROM t_acme.issues'))).toBe('42501');
      await session.query('ROLLBACK');
      await session.query('SET default_transaction_read_only = off');
      expect(await code(session.query(`INSERT INTO projects (id, key, name) VALUES (9, 'P9', 'x')`))).toBe('42501');
      expect(await code(session.query('SELECT * FROM t_globex.issues'))).toBe('42501');
      expect(await code(session.query('SELECT * FROM fleet.tenants'))).toBe('42501');
      expect(await code(session.query('SELECT * FROM fleet.support_grants'))).toBe('42501');
      expect(await code(session.query(`SET ROLE ${quoteIdent(grant.role.replace(/_support_\d+$/, '_t_acme'))}`))).toBe('42501');
      // A support login is a member of nothing: no tenant role, no tenant session role, no other login.
      const prefix = grant.role.replace(/_support_\d+$/, '');
      for (const role of [`${prefix}_t_globex`, sessionRoleName(prefix, 't_acme'), sessionRoleName(prefix, 't_globex')]) {
        expect([role, await code(session.query(`SET ROLE ${quoteIdent(role)}`))]).toEqual([role, '42501']);
      }
      expect(await code(session.query(`SET SESSION AUTHORIZATION ${quoteIdent(sessionRoleName(prefix, 't_globex'))}`))).toBe('42501');
      expect((await session.query('SELECT * FROM fleet_access.session_tenant()')).rows).toEqual([]);
      expect(
        (
          await session.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = current_user',
          )
        ).rows[0]!.n,
      ).toBe(0);

      // Time passes: still open until the sweep, which revokes it and ends the session.
      clock.advance(2 * 3_600_000 + 1_000);
      expect((await listSupportGrants(fleet)).find((g) => g.id === grant.id)?.state).toBe('expired');
      const swept = await sweepSupportGrants(fleet);
      expect(swept.revoked.map((g) => g.id)).toEqual([grant.id]);
      expect(await code(session.query('SELECT summary FROM issues'))).not.toBe('ALLOWED');
    } finally {
      await session.end().catch(() => undefined);
    }
    expect(await code(connect(urlAs(login!.user, login!.password)))).not.toBe('ALLOWED');
    const role = await fleet.regions[0]!.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [grant.role]);
    expect(role.rowCount).toBe(0);
    expect((await listSupportGrants(fleet)).map((g) => g.id)).not.toContain(grant.id);
    expect((await listSupportGrants(fleet, { all: true })).find((g) => g.id === grant.id)).toMatchObject({
      state: 'revoked',
      revokeReason: 'expired',
    });
    expect(await auditFor(grant.id)).toEqual([
      { action: 'support.granted', reason: 'ticket SUP-100', ticket: 'SUP-100' },
      { action: 'support.revoked', reason: expect.stringMatching(/^ticket SUP-100: expired/), ticket: 'SUP-100' },
    ]);
    expect((await sweepSupportGrants(fleet)).revoked).toEqual([]);
    expect(await schemaChecksum(fleet, 't_globex')).toBe(globexBefore);
    expect(await schemaChecksum(fleet, 't_acme')).toBe(acmeBefore);
  });

  test('--to: the staff user can SET ROLE to the grant and read its tenant only; revoke takes it away', async () => {
    const { grant, login } = await grantSupport(fleet, { tenantId: 'globex', ticket: 'SUP-200', ttlMs: parseTtl('30m'), to: staff });
    expect(login).toBeUndefined();
    const session = await connect(urlAs(staff, staffPassword));
    try {
      await session.query(`SET ROLE ${quoteIdent(grant.role)}`);
      expect((await session.query<{ summary: string }>('SELECT summary FROM t_globex.issues')).rows).toEqual([
        { summary: 'globex secret issue' },
      ]);
      expect(await code(session.query(`DELETE FROM t_globex.issues`))).toBe('42501');
      expect(await code(session.query('SELECT * FROM t_acme.issues'))).toBe('42501');
      await session.query('RESET ROLE');

      const revoked = await revokeSupportGrant(fleet, grant.id);
      expect(revoked.changed).toBe(true);
      expect((await revokeSupportGrant(fleet, grant.id)).changed).toBe(false);
      expect(await code(session.query(`SET ROLE ${quoteIdent(grant.role)}`))).not.toBe('ALLOWED');
      expect(await code(session.query('SELECT * FROM t_globex.issues'))).toBe('42501');
    } finally {
      await session.end().catch(() => undefined);
    }
    expect(await auditFor(grant.id)).toEqual([
      { action: 'support.granted', reason: 'ticket SUP-200', ticket: 'SUP-200' },
      { action: 'support.revoked', reason: 'ticket SUP-200: revoked before expiry', ticket: 'SUP-200' },
    ]);
  });

  test('the sweep is safe to run concurrently: each expired grant is revoked once, with one audit event', async () => {
    const grants = await Promise.all([1, 2, 3].map((n) => grantSupport(fleet, { tenantId: 'acme', ticket: `SUP-30${n}`, ttlMs: 60_000 })));
    const unexpired = await grantSupport(fleet, { tenantId: 'acme', ticket: 'SUP-399', ttlMs: parseTtl('8h') });
    clock.advance(61_000);
    const results = await Promise.all([sweepSupportGrants(fleet), sweepSupportGrants(fleet), sweepSupportGrants(fleet)]);
    expect(results.flatMap((r) => r.revoked.map((g) => g.id)).sort()).toEqual(grants.map((g) => g.grant.id).sort());
    for (const { grant } of grants) expect((await auditFor(grant.id)).map((e) => e.action)).toEqual(['support.granted', 'support.revoked']);
    expect((await listSupportGrants(fleet)).map((g) => g.id)).toEqual([unexpired.grant.id]);
    await revokeSupportGrant(fleet, unexpired.grant.id);
  });

  test("--to refuses logins that would outlive the grant or reach further: INHERIT, members of other roles, roles with members, another fleet's roles", async () => {
    const suffix = randomBytes(4).toString('hex');
    const inherit = `staff_inherit_${suffix}`;
    const member = `staff_member_${suffix}`;
    const group = `staff_group_${suffix}`;
    const foreign = `f0000abcd_l_t_other_${suffix}`;
    const region = fleet.regions[0]!;
    await region.query(
      `CREATE ROLE ${quoteIdent(inherit)} LOGIN INHERIT; CREATE ROLE ${quoteIdent(group)} NOLOGIN; CREATE ROLE ${quoteIdent(member)} LOGIN NOINHERIT IN ROLE ${quoteIdent(group)}; CREATE ROLE ${quoteIdent(foreign)} LOGIN NOINHERIT`,
    );
    try {
      const before = (await region.query<{ n: number }>('SELECT count(*)::int AS n FROM fleet.support_grants')).rows[0]!.n;
      for (const to of [inherit, member, group, foreign]) {
        expect(await code(grantSupport(fleet, { tenantId: 'acme', ticket: 'SUP-500', ttlMs: 60_000, to })), to).toBe('FLEET:INPUT_INVALID');
      }
      expect((await region.query<{ n: number }>('SELECT count(*)::int AS n FROM fleet.support_grants')).rows[0]!.n).toBe(before);
    } finally {
      await region.query(`DROP ROLE IF EXISTS ${quoteIdent(inherit)}, ${quoteIdent(member)}, ${quoteIdent(group)}, ${quoteIdent(foreign)}`);
    }
  });

  test('an expired grant ends without a sweep: its open session is ended when the toolkit next opens the tenant access', async () => {
    const { grant, login } = await grantSupport(fleet, { tenantId: 'acme', ticket: 'SUP-600', ttlMs: 60_000 });
    const session = await connect(urlAs(login!.user, login!.password));
    try {
      expect((await session.query('SELECT * FROM t_acme.projects')).rowCount).toBe(2);
      clock.advance(61_000);
      const access = await openTenantAccess(fleet, { credentialsDir: credentialsDir(), maxConnections: 1 });
      await access.close();
      expect(await code(session.query('SELECT * FROM t_acme.projects'))).not.toBe('ALLOWED');
      expect((await listSupportGrants(fleet, { all: true })).find((g) => g.id === grant.id)?.state).toBe('revoked');
    } finally {
      await session.end().catch(() => undefined);
    }
  });

  test('a grant id that does not exist, or is malformed, is refused', async () => {
    expect(await code(revokeSupportGrant(fleet, 'local-999999'))).toBe('FLEET:INPUT_INVALID');
    expect(await code(revokeSupportGrant(fleet, '1; DROP TABLE fleet.support_grants'))).toBe('FLEET:INPUT_INVALID');
    expect(await code(revokeSupportGrant(fleet, 'mars-1'))).toBe('FLEET:INPUT_INVALID');
  });
});
