import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';

const db = useTestDatabase('failures');
let fleet: Fleet;
let dir: string;
const TENANTS = ['t01', 't02', 't03', 't04', 't05', 't06', 't07', 't08', 't09', 't10'];

async function ledger(tenant: string): Promise<string[]> {
  const { rows } = await fleet.regions[0]!.query<{ name: string }>('SELECT name FROM fleet.migrations WHERE tenant_id = $1 ORDER BY name', [
    tenant,
  ]);
  return rows.map((r) => r.name);
}

async function hasTable(schema: string, table: string): Promise<boolean> {
  const { rows } = await fleet.regions[0]!.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [
    schema,
    table,
  ]);
  return rows.length === 1;
}

beforeAll(async () => {
  dir = migrationsCopy();
  fleet = await openTestFleet(db().url, {
    migrationsDir: dir,
    concurrency: 3,
    config: { runner: { concurrency: 3, lockTimeoutMs: 200, statementTimeoutMs: 30_000, lockRetries: 2 } },
  });
  await addTenants(fleet, TENANTS);
  // Poison two tenants so that the next migration fails there, after it has already done some work.
  for (const t of ['t04', 't08'])
    await fleet.regions[0]!.query(`INSERT INTO ${schemaNameFor(t)}.projects (id, key, name) VALUES (1, 'BAD', 'poison')`);
});
afterAll(async () => fleet?.close());

const FAILING = `CREATE TABLE sprints (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO sprints VALUES (1, 'first');
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM projects WHERE key = 'BAD') THEN RAISE EXCEPTION 'project BAD cannot be migrated'; END IF;
END $$;
`;

describe('a migration failing in some tenants', () => {
  test('canary: a failure among the first N stops the rollout before any other tenant is touched', async () => {
    writeMigration(dir, '0007_sprints.sql', FAILING);
    const report = await migrateFleet(fleet, { canary: 4 });
    expect(report.ok).toBe(false);
    expect(report.stopped).toMatch(/canary failed \(t04\)/);
    const byTenant = new Map(report.results.map((r) => [r.tenant, r]));
    expect(byTenant.get('t04')).toMatchObject({
      status: 'failed',
      error: { migration: '0007_sprints', message: expect.stringContaining('project BAD cannot be migrated'), code: 'P0001' },
    });
    for (const t of ['t01', 't02', 't03']) expect(byTenant.get(t)?.status).toBe('applied');
    for (const t of ['t05', 't06', 't07', 't08', 't09', 't10']) {
      expect(byTenant.get(t)).toMatchObject({ status: 'skipped', reason: expect.stringContaining('canary failed') });
      expect(await ledger(t)).not.toContain('0007_sprints');
      expect(await hasTable(schemaNameFor(t), 'sprints')).toBe(false);
    }
  });

  test('the failed tenant stays at its previous version with nothing half-applied; the others go on', async () => {
    const report = await migrateFleet(fleet);
    expect(report.ok).toBe(false);
    const failed = report.results
      .filter((r) => r.status === 'failed')
      .map((r) => r.tenant)
      .sort();
    expect(failed).toEqual(['t04', 't08']);
    for (const t of ['t04', 't08']) {
      expect(await ledger(t)).toEqual([
        '0001_projects',
        '0002_issues',
        '0003_issue_links',
        '0004_comments',
        '0005_audit_log',
        '0006_issue_labels_and_priority',
      ]);
      // The CREATE TABLE and INSERT that ran before the exception are rolled back with it.
      expect(await hasTable(schemaNameFor(t), 'sprints')).toBe(false);
    }
    for (const t of TENANTS.filter((x) => !['t04', 't08'].includes(x))) {
      expect(await ledger(t)).toContain('0007_sprints');
      expect(await hasTable(schemaNameFor(t), 'sprints')).toBe(true);
    }
  });

  test('--fail-fast stops starting tenants after the first failure', async () => {
    writeMigration(
      dir,
      '0008_boards.sql',
      `CREATE TABLE boards (id bigint PRIMARY KEY);\nDO $$ BEGIN IF EXISTS (SELECT 1 FROM projects WHERE key = 'BAD') THEN RAISE EXCEPTION 'no boards for BAD'; END IF; END $$;`,
    );
    await fleet.regions[0]!.query(`DELETE FROM t_t04.projects; DELETE FROM t_t08.projects`);
    await fleet.regions[0]!.query(`INSERT INTO t_t01.projects (id, key, name) VALUES (1, 'BAD', 'poison')`);
    const report = await migrateFleet(fleet, { failFast: true, concurrency: 1 });
    expect(report.ok).toBe(false);
    expect(report.stopped).toMatch(/after t01 failed \(failFast\)/);
    const applied = report.results.filter((r) => r.status === 'applied');
    const skipped = report.results.filter((r) => r.status === 'skipped');
    expect(report.results.find((r) => r.tenant === 't01')?.status).toBe('failed');
    // With one worker, t01 runs first: every later tenant is skipped, untouched.
    expect(applied).toHaveLength(0);
    expect(skipped.length).toBe(TENANTS.length - 1);
    expect(await hasTable('t_t02', 'boards')).toBe(false);
  });

  test('a migration blocked by a lock gives up after lock_timeout, retries, and fails only that tenant', async () => {
    await fleet.regions[0]!.query(`DELETE FROM t_t01.projects`);
    writeMigration(dir, '0009_issue_votes.sql', 'ALTER TABLE issues ADD COLUMN votes integer NOT NULL DEFAULT 0;');
    const blocker = new pg.Client({ connectionString: db().url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE t_t05.issues IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    try {
      const report = await migrateFleet(fleet, { settings: { backoffMs: (n) => 50 * 2 ** n } });
      const elapsed = Date.now() - started;
      const t05 = report.results.find((r) => r.tenant === 't05');
      expect(t05).toMatchObject({ status: 'failed', error: { code: '55P03', message: expect.stringContaining('lock timeout') } });
      expect(report.results.filter((r) => r.status === 'failed').map((r) => r.tenant)).toEqual(['t05']);
      // 3 attempts x 200 ms lock_timeout + backoff: bounded, nowhere near hanging.
      expect(elapsed).toBeLessThan(20_000);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    const rerun = await migrateFleet(fleet);
    expect(rerun.ok).toBe(true);
    expect(rerun.results.map((r) => r.tenant)).toEqual(['t05']);
  });
});
