import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';
import { fleetStatus } from '../../../src/migrate/fleet-status.ts';

const db = useTestDatabase('phases');
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  dir = migrationsCopy();
  fleet = await openTestFleet(db().url, { migrationsDir: dir });
  await addTenants(fleet, ['p1', 'p2']);
});
afterAll(async () => fleet?.close());

const ledger = async () => (await fleet.regions[0]!.query<{ n: string }>('SELECT count(*)::text AS n FROM fleet.migrations')).rows[0]!.n;

describe('phases', () => {
  test('pre-deploy applies up to the first post-deploy migration of each tenant; status shows both; post-deploy the rest', async () => {
    writeMigration(dir, '20260116093000_add_owner.sql', 'ALTER TABLE issues ADD COLUMN owner text;\n');
    writeMigration(dir, '20260116093100_drop_assignee.sql', '-- fleet:phase post-deploy\nALTER TABLE issues DROP COLUMN assignee;\n');
    writeMigration(dir, '20260116093200_add_votes.sql', 'CREATE TABLE votes (issue_id bigint NOT NULL);\n');
    const status = await fleetStatus(fleet);
    expect(status.tenants.map((t) => t.pendingByPhase)).toEqual([
      { preDeploy: 1, postDeploy: 2 },
      { preDeploy: 1, postDeploy: 2 },
    ]);
    expect(status.regions[0]!.pendingByPhase).toEqual({ preDeploy: 2, postDeploy: 2 });
    const pre = await migrateFleet(fleet, { phase: 'pre-deploy', canary: 1, lint: true });
    expect(pre.ok).toBe(true);
    expect(pre.results.map((r) => r.migrations)).toEqual([['20260116093000_add_owner'], ['20260116093000_add_owner']]);
    expect((await migrateFleet(fleet, { phase: 'pre-deploy' })).summary.upToDate).toBe(2);
    expect((await fleetStatus(fleet)).tenants[0]!.pendingByPhase).toEqual({ preDeploy: 0, postDeploy: 2 });
    const post = await migrateFleet(fleet, { phase: 'post-deploy', lint: true });
    expect(post.ok).toBe(true);
    expect(post.results.map((r) => r.migrations)).toEqual([
      ['20260116093100_drop_assignee', '20260116093200_add_votes'],
      ['20260116093100_drop_assignee', '20260116093200_add_votes'],
    ]);
    expect((await fleetStatus(fleet)).tenants[0]!.lastApplied).toBe('20260116093200_add_votes');
  });
});

describe('versions', () => {
  test('a new file sorting before the newest applied one is refused naming file and tenant, unless allowOutOfOrder', async () => {
    writeMigration(dir, '0007_late_branch.sql', 'CREATE TABLE late_branch (id bigint);\n');
    const before = await ledger();
    await expect(migrateFleet(fleet)).rejects.toMatchObject({
      code: 'MIGRATION_FILES_INVALID',
      option: 'allowOutOfOrder',
      problems: [expect.stringMatching(/0007_late_branch\.sql: version 7 is older than 20260116093200_add_votes, applied to tenant p1/)],
    });
    expect(await ledger()).toBe(before);
    const report = await migrateFleet(fleet, { allowOutOfOrder: true });
    expect(report.summary.migrationsApplied).toBe(2);
  });
});

describe('the lint before a run', () => {
  test('refuses a blocking index on an existing table before any tenant is touched; an allow line lets it through', async () => {
    writeMigration(dir, '20260201000000_index_status.sql', 'CREATE INDEX issues_status ON issues (status);\n');
    const before = await ledger();
    await expect(migrateFleet(fleet, { lint: true })).rejects.toMatchObject({
      code: 'MIGRATION_FILES_INVALID',
      problems: [expect.stringMatching(/20260201000000_index_status\.sql:1: require-concurrent-index-creation/)],
    });
    expect(await ledger()).toBe(before);
    writeMigration(
      dir,
      '20260201000000_index_status.sql',
      '-- fleet:allow require-concurrent-index-creation: issues is small in every tenant\nCREATE INDEX issues_status ON issues (status);\n',
    );
    const report = await migrateFleet(fleet, { lint: true });
    expect(report.ok).toBe(true);
    expect(report.lint?.findings.find((f) => f.rule === 'require-concurrent-index-creation')?.allowed).toBe(
      'issues is small in every tenant',
    );
  });
});
