import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet, migrationsCopy, writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';
import { rollbackFleet } from '../../../src/migrate/rollback-fleet.ts';
import { fleetStatus } from '../../../src/migrate/fleet-status.ts';
import { listTenants } from '../../../src/tenants/list-tenants.ts';
import { readMigrationFiles } from '../../../src/migrate/migration-files.ts';

const db = useTestDatabase('addmigrate');
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  dir = migrationsCopy();
  fleet = await openTestFleet(db().url, { migrationsDir: dir, concurrency: 4 });
});
afterAll(async () => fleet?.close());

async function tables(schema: string): Promise<string[]> {
  const { rows } = await fleet.regions[0]!.query<{ t: string }>(
    'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
    [schema],
  );
  return rows.map((r) => r.t);
}

describe('tenants add + migrate', () => {
  test('add registers, creates the schema and migrates to latest; a rerun skips and reports', async () => {
    const report = await addTenants(fleet, ['acme', 'globex', 'b4c1e1f2-0000-4000-8000-000000000001']);
    expect([...report.registered].sort()).toEqual(['acme', 'b4c1e1f2-0000-4000-8000-000000000001', 'globex']);
    expect(report.migrate.summary.failed).toBe(0);
    expect(await tables('t_acme')).toEqual(['audit_log', 'comments', 'issue_links', 'issues', 'projects']);
    expect(await tables('t_b4c1e1f2_0000_4000_8000_000000000001')).toHaveLength(5);
    const list = await listTenants(fleet);
    expect(list.map((t) => [t.id, t.status, t.schema])).toContainEqual(['acme', 'active', 't_acme']);

    const again = await addTenants(fleet, ['acme', 'initech']);
    expect(again.registered).toEqual(['initech']);
    expect(again.alreadyRegistered).toEqual([{ id: 'acme', region: 'local', status: 'active' }]);
  });

  test('a new migration is applied once to every tenant, its ledger row written with it', async () => {
    writeMigration(dir, '0007_add_watchers.sql', 'CREATE TABLE watchers (issue_id bigint REFERENCES issues(id), account text NOT NULL);');
    const report = await migrateFleet(fleet);
    expect(report.ok).toBe(true);
    expect(report.summary.applied).toBe(4);
    expect(report.summary.migrationsApplied).toBe(4);
    const { rows } = await fleet.regions[0]!.query<{ n: string }>(
      `SELECT count(*) AS n FROM fleet.migrations WHERE name = '0007_add_watchers'`,
    );
    expect(Number(rows[0]!.n)).toBe(4);
    const second = await migrateFleet(fleet);
    expect(second.planned).toHaveLength(0);
    expect(second.summary.upToDate).toBe(4);
  });

  test('status counts tenants per version per region', async () => {
    const status = await fleetStatus(fleet);
    expect(status.latest).toBe('0007_add_watchers');
    expect(status.regions[0]!.versions).toEqual({ '0007_add_watchers': 4 });
    expect(status.tenants.every((t) => t.pending === 0)).toBe(true);
  });

  test('rollback --to reverts later migrations with their down files; the named one stays', async () => {
    writeMigration(dir, '0007_add_watchers.down.sql', 'DROP TABLE watchers;');
    const report = await rollbackFleet(fleet, { to: '0005_audit_log', tenants: ['acme'] });
    expect(report.ok).toBe(true);
    expect(report.results[0]!.migrations).toEqual(['0007_add_watchers', '0006_issue_labels_and_priority']);
    const cols = await fleet.regions[0]!.query<{ c: string }>(
      `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 't_acme' AND table_name = 'issues' AND column_name = 'labels'`,
    );
    expect(cols.rows).toHaveLength(0);
    expect(await tables('t_acme')).not.toContain('watchers');
    const status = await fleetStatus(fleet);
    expect(status.tenants.find((t) => t.id === 'acme')).toMatchObject({ lastApplied: '0005_audit_log', pending: 2 });
    await migrateFleet(fleet, { tenants: ['acme'] });
  });

  test('a missing down file refuses the rollback before anything changes', async () => {
    const files = readMigrationFiles(dir);
    expect(files.find((f) => f.name === '0007_add_watchers')?.down).toBeDefined();
    writeMigration(dir, '0008_add_votes.sql', 'CREATE TABLE votes (issue_id bigint, account text);');
    await migrateFleet(fleet);
    await expect(rollbackFleet(fleet, { to: '0006_issue_labels_and_priority' })).rejects.toMatchObject({
      code: 'MIGRATION_FILES_INVALID',
      message: expect.stringContaining('0008_add_votes.down.sql'),
    });
    const { rows } = await fleet.regions[0]!.query<{ n: string }>(
      `SELECT count(*) AS n FROM fleet.migrations WHERE name IN ('0007_add_watchers', '0008_add_votes')`,
    );
    expect(Number(rows[0]!.n)).toBe(8);
  });

  test('no-transaction files run statement by statement (CREATE INDEX CONCURRENTLY)', async () => {
    writeMigration(
      dir,
      '0009_votes_index.sql',
      '-- fleet:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS votes_issue ON votes (issue_id);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS votes_account ON votes (account);\n',
    );
    const report = await migrateFleet(fleet);
    expect(report.ok, JSON.stringify(report.results)).toBe(true);
    const client = new pg.Client({ connectionString: db().url });
    await client.connect();
    const { rows } = await client.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 't_globex' AND tablename = 'votes' ORDER BY 1`,
    );
    await client.end();
    expect(rows.map((r) => r.indexname)).toEqual(['votes_account', 'votes_issue']);
  });
});
