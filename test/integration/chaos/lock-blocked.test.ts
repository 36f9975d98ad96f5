/**
 * A migration that blocks on a lock in some tenants (a long transaction of the application holds
 * the table): with lock_timeout 200 ms and 2 retries (a fleet description given with --config),
 * the run finishes in bounded time, fails only those tenants with lock_not_available, applies the
 * rest; once the locks are gone a rerun completes.
 */
import pg from 'pg';
import { expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { configWith, fleetHealth, idFile, ids, migrationsWith, runCli } from './chaos-helpers.ts';

const db = useTestDatabase('chaos_lock');

interface Report {
  summary: { applied: number; failed: number };
  results: { tenant: string; status: string; error?: { migration: string | null; code?: string } }[];
}

test('a migration blocked by a lock in some tenants: bounded run, only those fail, a rerun completes', async () => {
  const url = db().url;
  const config = configWith({ lockTimeoutMs: 200, lockRetries: 2, concurrency: 4 });
  const env = { FLEET_DATABASE_URL: url };
  const tenants = ids(24, 'lock');
  const add = await runCli(['--config', config, 'tenants', 'add', '--file', idFile(tenants), '--json'], env);
  expect(add.exitCode, add.stderr).toBe(0);

  const blocked = [tenants[2], tenants[11], tenants[20]] as string[];
  const holders: pg.Client[] = [];
  try {
    for (const id of blocked) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${schemaNameFor(id)}.comments IN ACCESS SHARE MODE`);
      holders.push(client);
    }
    const migrations = migrationsWith({ '0007_release.sql': 'ALTER TABLE comments ADD COLUMN edited_by text;\n' });
    const run = await runCli(['--config', config, 'migrate', '--json'], { ...env, FLEET_MIGRATIONS_DIR: migrations });
    // Three attempts of 200 ms plus backoff (at most 200 + 400 ms): seconds, not forever.
    expect(run.ms).toBeLessThan(20_000);
    expect(run.exitCode, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    const failed = report.results.filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.tenant).sort()).toEqual([...blocked].sort());
    for (const f of failed) {
      expect(f.error?.code).toBe('55P03');
      expect(f.error?.migration).toBe('0007_release');
    }
    expect(report.summary.applied).toBe(tenants.length - blocked.length);

    for (const client of holders.splice(0)) await client.end();
    const rerun = await runCli(['--config', config, 'migrate', '--json'], { ...env, FLEET_MIGRATIONS_DIR: migrations });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect((JSON.parse(rerun.stdout) as Report).summary.applied).toBe(blocked.length);
    const health = await fleetHealth(url, migrations);
    expect(health.verify.drifted).toEqual([]);
    expect(health.behind).toEqual([]);
  } finally {
    for (const client of holders) await client.end().catch(() => undefined);
  }
}, 120_000);
