import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';
import { rollbackFleet } from '../../../src/migrate/rollback-fleet.ts';

const db = useTestDatabase('edited');
let fleet: Fleet;
let dir: string;
const UP = 'CREATE TABLE votes (id int);\n';
const DOWN = 'DROP TABLE votes;\n';

beforeAll(async () => {
  dir = migrationsCopy();
  fleet = await openTestFleet(db().url, { migrationsDir: dir });
  await addTenants(fleet, ['early', 'late']);
});
afterAll(async () => fleet?.close());

const query = <R extends Record<string, unknown>>(sql: string, params?: unknown[]) =>
  fleet.regions[0]!.query<R>(sql, params).then((r) => r.rows);

describe('a migration edited after it reached some tenants', () => {
  test('the ledger keeps the up and down SQL each tenant ran', async () => {
    writeMigration(dir, '0007_votes.sql', UP);
    writeMigration(dir, '0007_votes.down.sql', DOWN);
    expect((await migrateFleet(fleet, { tenants: ['early'] })).ok).toBe(true);
    expect(await query(`SELECT tenant_id, sql, down_sql FROM fleet.migrations WHERE name = '0007_votes'`)).toEqual([
      { tenant_id: 'early', sql: UP, down_sql: DOWN },
    ]);
  });

  test('the run refuses the edited file and says the way out; rollback reverts with the recorded down; migrate applies the edit', async () => {
    writeMigration(dir, '0007_votes.sql', 'CREATE TABLE votes (id int, weight int NOT NULL DEFAULT 1);\n');
    // The edited down would fail on a tenant that ran the old up: the recorded one must be used.
    writeMigration(dir, '0007_votes.down.sql', 'ALTER TABLE votes DROP COLUMN weight;\nDROP TABLE votes;\n');
    const refused = await migrateFleet(fleet).then(
      () => undefined,
      (e: unknown) => e as { code: string; problems: string[] },
    );
    expect(refused?.code).toBe('LEDGER_MISMATCH');
    expect(refused?.problems.join('\n')).toMatch(
      /0007_votes\.sql was changed after it was applied \(region local, tenant\(s\) early\).*fleet rollback --tenant ID --to 0006_issue_labels_and_priority.*fleet migrate/,
    );
    const rolled = await rollbackFleet(fleet, { to: '0006_issue_labels_and_priority', tenants: ['early'] });
    expect(rolled.ok).toBe(true);
    expect(rolled.results.map((r) => [r.tenant, r.status, r.migrations])).toEqual([['early', 'applied', ['0007_votes']]]);
    const report = await migrateFleet(fleet);
    expect(report.ok).toBe(true);
    expect(report.summary.migrationsApplied).toBe(2);
    const columns = await query<{ schema: string; n: string }>(
      `SELECT table_schema AS schema, count(*)::text AS n FROM information_schema.columns WHERE table_name = 'votes' GROUP BY 1 ORDER BY 1`,
    );
    expect(columns).toEqual([
      { schema: 't_early', n: '2' },
      { schema: 't_late', n: '2' },
    ]);
  });
});
