import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { cliEnv, runFleet } from '../helpers/cli.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';

const db = useTestDatabase('ids');
let fleet: Fleet;

async function snapshot(): Promise<unknown> {
  const { rows } = await fleet.regions[0]!.query(
    `SELECT (SELECT array_agg(nspname ORDER BY nspname) FROM pg_namespace) AS schemas,
            (SELECT array_agg(id ORDER BY id) FROM fleet.tenants) AS tenants,
            (SELECT count(*) FROM fleet.migrations) AS ledger,
            (SELECT count(*) FROM fleet.audit_events) AS audit`,
  );
  return rows[0];
}

beforeAll(async () => {
  fleet = await openTestFleet(db().url);
  await addTenants(fleet, ['acme-1', 'globex']);
});
afterAll(async () => fleet?.close());

const HOSTILE = [
  `evil'; DROP SCHEMA fleet CASCADE; --`,
  'evil"; DROP TABLE fleet.tenants; --',
  'evil; select 1',
  'with space',
  'UPPERCASE',
  'ünïcödé',
  'x'.repeat(100),
  't_acme_1',
];

describe('hostile and colliding tenant ids', () => {
  test.each(HOSTILE.slice(0, 7))('%j is refused by the library and nothing changes', async (id) => {
    const before = await snapshot();
    await expect(addTenants(fleet, ['fine-one', id])).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(migrateFleet(fleet, { tenants: [id] })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(await snapshot()).toEqual(before);
  });

  test('an id that is valid but looks like a schema name is handled safely', async () => {
    const report = await addTenants(fleet, ['t_acme_1']);
    expect(report.registered).toEqual(['t_acme_1']);
    const { rows } = await fleet.regions[0]!.query(`SELECT schema_name FROM fleet.tenants WHERE id = 't_acme_1'`);
    expect(rows[0]).toEqual({ schema_name: 't_t_acme_1' });
  });

  test('two ids mapping to one schema are refused, in one list or against the registry', async () => {
    const before = await snapshot();
    await expect(addTenants(fleet, ['beta-2', 'beta_2'])).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringContaining('share one schema'),
    });
    await expect(addTenants(fleet, ['acme_1'])).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      problems: [expect.stringContaining('already used by acme-1')],
    });
    expect(await snapshot()).toEqual(before);
  });

  test('the CLI refuses hostile ids with exit 2 and a clear message, and changes nothing', async () => {
    const before = await snapshot();
    const result = await runFleet(['tenants', 'add', 'ok-tenant', HOSTILE[0]!], cliEnv(db().url));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('INPUT_INVALID');
    expect(result.stderr).toContain('lowercase a-z');
    expect(await snapshot()).toEqual(before);
  });
});
