import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import { cliEnv, startFleet } from '../helpers/cli.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';

const db = useTestDatabase('concurrency');
let fleet: Fleet;
let dir: string;
const TENANTS = Array.from({ length: 40 }, (_, i) => `site-${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  dir = migrationsCopy();
  fleet = await openTestFleet(db().url, { migrationsDir: dir, concurrency: 4 });
  await addTenants(fleet, TENANTS);
});
afterAll(async () => fleet?.close());

describe('concurrency', () => {
  test('two `fleet migrate` started at the same moment apply each migration to each tenant exactly once; both exit 0', async () => {
    // Each application leaves a row: applying twice would leave two (or fail on the ledger key).
    writeMigration(
      dir,
      '0007_applied_log.sql',
      `CREATE TABLE applied_log (at timestamptz DEFAULT clock_timestamp());\nINSERT INTO applied_log DEFAULT VALUES;\nSELECT pg_sleep(0.01);`,
    );
    writeMigration(dir, '0008_applied_again.sql', `INSERT INTO applied_log DEFAULT VALUES;`);
    const env = cliEnv(db().url, { FLEET_MIGRATIONS_DIR: dir });
    const [a, b] = await Promise.all([
      startFleet(['migrate', '--json', '--concurrency', '3'], env),
      startFleet(['migrate', '--json', '--concurrency', '3'], env),
    ]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    const counts = await fleet.regions[0]!.query<{ n: string }>(
      `SELECT count(*) AS n FROM fleet.migrations WHERE name IN ('0007_applied_log', '0008_applied_again')`,
    );
    expect(Number(counts.rows[0]!.n)).toBe(TENANTS.length * 2);
    for (const t of TENANTS) {
      const { rows } = await fleet.regions[0]!.query<{ n: string }>(`SELECT count(*) AS n FROM ${schemaNameFor(t)}.applied_log`);
      expect(Number(rows[0]!.n), t).toBe(2);
    }
    const reports = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    const appliedTotal = reports.reduce((n, r) => n + r.summary.migrationsApplied, 0);
    expect(appliedTotal).toBe(TENANTS.length * 2);
  });

  test('never more connections to the database than --concurrency plus one', async () => {
    writeMigration(dir, '0009_slow.sql', 'SELECT pg_sleep(0.05);\nCREATE TABLE slow_done (id int);');
    const watcher = new pg.Client({ connectionString: db().url });
    await watcher.connect();
    const database = new URL(db().url).pathname.slice(1);
    // Connections that exist before the run (this test's own fleet) are not the runner's.
    const before = await watcher.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
    const ignore = before.rows.map((r) => r.pid);
    let peak = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const { rows } = await watcher.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'fleet-%' AND pid <> ALL($2::int[])`,
          [database, ignore],
        );
        peak = Math.max(peak, Number(rows[0]!.n));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const result = await startFleet(['migrate', '--concurrency', '3'], cliEnv(db().url, { FLEET_MIGRATIONS_DIR: dir }));
    polling = false;
    await poll;
    await watcher.end();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
  });

  test('a migrate with nothing pending reads registry and ledger with one query per region', async () => {
    const seen: string[] = [];
    const original = pg.Client.prototype.query;
    // Count every query the runner sends from here on (the fleet is already connected).
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0];
      seen.push(typeof first === 'string' ? first : String((first as { text?: string })?.text ?? first));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      const report = await migrateFleet(fleet);
      expect(report.planned).toHaveLength(0);
      expect(report.summary.upToDate).toBe(TENANTS.length);
    } finally {
      pg.Client.prototype.query = original;
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/fleet\.tenants/);
  });
});
