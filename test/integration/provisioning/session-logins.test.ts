import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { quoteIdent } from '../../../src/db/quote.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { createSessionLogins } from '../../../src/access/tenant-role.ts';
import { readRolePrefix, sessionRoleName, tenantRoleName } from '../../../src/access/names.ts';

const db = useTestDatabase('provisioning_logins');
let fleet: Fleet;
let prefix: string;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { migrationsDir: migrationsCopy(), concurrency: 4 });
  const client = await fleet.regions[0]!.controlPool.connect();
  try {
    prefix = await readRolePrefix(client);
  } finally {
    client.release();
  }
});
afterAll(async () => fleet?.close());

/** The logins (of this fleet) named in the database's ACL with CONNECT, each as many times as it appears. */
async function connectGrantees(): Promise<string[]> {
  const { rows } = await fleet.regions[0]!.query<{ r: string }>(
    `SELECT r.rolname::text AS r FROM pg_database d, aclexplode(d.datacl) a JOIN pg_roles r ON r.oid = a.grantee
      WHERE d.datname = current_database() AND a.privilege_type = 'CONNECT' AND starts_with(r.rolname, $1)`,
    [`${prefix}_l_`],
  );
  return rows.map((row) => row.r).sort();
}

describe('session logins made in bulk', () => {
  test('a bulk add gives each login CONNECT on this database once (granted with its chunk, not again per tenant)', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `bulk-${i}`);
    const report = await addTenants(fleet, ids);
    expect(report.migrate.summary.failed).toBe(0);
    expect(await connectGrantees()).toEqual(ids.map((id) => sessionRoleName(prefix, `t_${id.replace('-', '_')}`)).sort());
    // PUBLIC still has no CONNECT (control migration 0006): a login connects through its own grant only.
    const pub = await fleet.regions[0]!.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database() AND a.grantee = 0 AND a.privilege_type = 'CONNECT'`,
    );
    expect(pub.rows[0]?.n).toBe(0);
  });

  test('createSessionLogins is idempotent: existing logins are neither created nor granted again', async () => {
    const tenants = [
      { id: 'bulk-0', schema: 't_bulk_0' },
      { id: 'later', schema: 't_later' },
    ];
    // The control pool has one connection, which addTenants needs too: give it back before the add.
    const client = await fleet.regions[0]!.controlPool.connect();
    try {
      expect(await createSessionLogins(client, tenants)).toBe(1);
      expect(await createSessionLogins(client, tenants)).toBe(0);
    } finally {
      client.release();
    }
    const grantees = await connectGrantees();
    expect(grantees.filter((g) => g === sessionRoleName(prefix, 't_bulk_0'))).toHaveLength(1);
    expect(grantees.filter((g) => g === sessionRoleName(prefix, 't_later'))).toHaveLength(1);
    // A login made ahead of its tenant is completed by the add: a member of its tenant role only.
    const report = await addTenants(fleet, ['later']);
    expect(report.migrate.summary.failed).toBe(0);
    const member = await fleet.regions[0]!.query<{ g: string[] }>(
      'SELECT array_agg(g.rolname::text) AS g FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles l ON l.oid = m.member WHERE l.rolname = $1',
      [sessionRoleName(prefix, 't_later')],
    );
    expect(member.rows[0]?.g).toEqual([tenantRoleName(prefix, 't_later')]);
    expect((await connectGrantees()).filter((g) => g === sessionRoleName(prefix, 't_later'))).toHaveLength(1);
  });

  test('an existing login that is a member of another role is refused, and gets no CONNECT from the bulk step', async () => {
    const login = sessionRoleName(prefix, 't_squatter');
    const region = fleet.regions[0]!;
    await region.query(`CREATE ROLE ${quoteIdent(login)} LOGIN NOINHERIT IN ROLE ${quoteIdent(tenantRoleName(prefix, 't_bulk_1'))}`);
    try {
      const report = await addTenants(fleet, ['squatter', 'neighbour']);
      const failed = report.migrate.results.filter((r) => r.status === 'failed').map((r) => r.tenant);
      expect(failed).toEqual(['squatter']);
      const grantees = await connectGrantees();
      expect(grantees).not.toContain(login);
      expect(grantees).toContain(sessionRoleName(prefix, 't_neighbour'));
    } finally {
      await region.query(`DROP ROLE ${quoteIdent(login)}`);
    }
  });
});
