import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet } from '../helpers/fleet.ts';
import { cliEnv, runFleet, startFleet } from '../helpers/cli.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { readMigrationFiles } from '../../../src/migrate/migration-files.ts';

const db = useTestDatabase('crash');
let fleet: Fleet;
let dir: string;
const TENANT_COUNT = 120;

/** Which tables each starter migration creates (0006 alters: it adds issues.labels). */
const EVIDENCE: Record<string, string> = {
  '0001_projects': 'projects',
  '0002_issues': 'issues',
  '0003_issue_links': 'issue_links',
  '0004_comments': 'comments',
  '0005_audit_log': 'audit_log',
};

beforeAll(async () => {
  dir = migrationsCopy();
  fleet = await openTestFleet(db().url, { migrationsDir: dir });
});
afterAll(async () => fleet?.close());

/** For every tenant: the ledger and the schema's real objects tell the same story. */
async function assertLedgerMatchesSchemas(): Promise<{ complete: number }> {
  const { rows } = await fleet.regions[0]!.query<{
    id: string;
    schema_name: string;
    applied: string[];
    tables: string[];
    has_labels: boolean;
  }>(`
    SELECT t.id, t.schema_name,
           coalesce((SELECT array_agg(name ORDER BY name) FROM fleet.migrations m WHERE m.tenant_id = t.id), '{}') AS applied,
           coalesce((SELECT array_agg(table_name::text ORDER BY table_name) FROM information_schema.tables WHERE table_schema = t.schema_name), '{}') AS tables,
           EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = t.schema_name AND table_name = 'issues' AND column_name = 'labels') AS has_labels
      FROM fleet.tenants t`);
  let complete = 0;
  for (const row of rows) {
    const expectedTables = row.applied
      .map((name) => EVIDENCE[name])
      .filter(Boolean)
      .sort();
    expect(row.tables, row.id).toEqual(expectedTables);
    expect(row.has_labels, row.id).toBe(row.applied.includes('0006_issue_labels_and_priority'));
    if (row.applied.length === 6) complete += 1;
  }
  const dupes = await fleet.regions[0]!.query('SELECT tenant_id, name FROM fleet.migrations GROUP BY 1, 2 HAVING count(*) > 1');
  expect(dupes.rows).toEqual([]);
  return { complete };
}

async function ledgerRows(): Promise<number> {
  const { rows } = await fleet.regions[0]!.query<{ n: string }>('SELECT count(*) AS n FROM fleet.migrations');
  return Number(rows[0]!.n);
}

describe('kill -9 at any instant', () => {
  test('every tenant is before or after each migration, never between; a rerun completes the fleet', async () => {
    expect(readMigrationFiles(dir)).toHaveLength(6);
    const ids = Array.from({ length: TENANT_COUNT }, (_, i) => `crash-${String(i).padStart(3, '0')}`);
    const env = cliEnv(db().url, { FLEET_MIGRATIONS_DIR: dir });
    // Kill at growing amounts of progress (ledger rows written), so each kill lands inside the run
    // whatever the machine's load; between kills, the ledger and the schemas must agree.
    const total = TENANT_COUNT * 6;
    const thresholds = [1, total * 0.15, total * 0.3, total * 0.5, total * 0.7];
    let midRun = 0;
    for (const threshold of thresholds) {
      const child = startFleet(['tenants', 'add', ...ids, '--concurrency', '4'], env);
      let exited = false;
      void child.finally(() => (exited = true));
      while (!exited && (await ledgerRows()) < threshold) await new Promise((r) => setTimeout(r, 15));
      child.kill('SIGKILL');
      await child;
      const { complete } = await assertLedgerMatchesSchemas();
      if (complete < TENANT_COUNT && (await ledgerRows()) > 0) midRun += 1;
    }
    // The kills must have landed inside the run, or this test proved nothing.
    expect(midRun).toBeGreaterThanOrEqual(3);
    const rerun = await runFleet(['tenants', 'add', ...ids, '--json'], env);
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const finish = await runFleet(['migrate', '--json'], env);
    expect(finish.exitCode, finish.stderr).toBe(0);
    const { complete } = await assertLedgerMatchesSchemas();
    expect(complete).toBe(TENANT_COUNT);
    const { rows } = await fleet.regions[0]!.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM fleet.tenants GROUP BY status',
    );
    expect(rows).toEqual([{ status: 'active', n: String(TENANT_COUNT) }]);
  });
});
