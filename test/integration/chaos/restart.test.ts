/**
 * The database restarted in the middle of a run. The run's shared server must not be touched, so
 * this test starts an embedded PostgreSQL of its own in a temp dir, stops it (fast shutdown, what
 * `pg_ctl stop -m fast` sends) while `fleet migrate` is under way, and starts it again: the run
 * reports the tenants it could not finish, with the database's error, and a rerun completes.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { acquireEmbeddedServer, type EmbeddedServer } from '../../../src/db/embedded/index.ts';
import { FAST_SETTINGS } from '../global-setup.ts';
import { fleetHealth, idFile, ids, migrationsWith, query, runCli, sleep, startCli, tempDir } from './chaos-helpers.ts';

const dir = tempDir('restart');
let server: EmbeddedServer | undefined;
afterAll(async () => {
  await server?.release();
  rmSync(dir, { recursive: true, force: true });
});

function postmasterPid(): number {
  return Number(readFileSync(path.join(dir, 'postgres-data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Report {
  ok: boolean;
  summary: { applied: number; failed: number; skipped: number };
  results: { tenant: string; status: string; error?: { message: string; code?: string } }[];
}

test('the database restarted mid-run: failed tenants are reported, a rerun completes', async () => {
  server = await acquireEmbeddedServer({ dir, settings: FAST_SETTINGS });
  await server.ensureDatabase('chaos');
  const url = server.url('chaos');
  const add = await runCli(['tenants', 'add', '--file', idFile(ids(60, 'restart')), '--json'], { FLEET_DATABASE_URL: url });
  expect(add.exitCode, add.stderr).toBe(0);

  // A release slow enough (20 ms per tenant) that the restart lands mid-run.
  const migrations = migrationsWith({
    '0007_slow_release.sql': 'SELECT pg_sleep(0.02);\nALTER TABLE comments ADD COLUMN edited_by text;\n',
  });
  const before = (await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM fleet.migrations'))[0]?.n ?? 0;
  const running = startCli(['migrate', '--concurrency', '2', '--json'], { FLEET_DATABASE_URL: url, FLEET_MIGRATIONS_DIR: migrations });
  while (((await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM fleet.migrations'))[0]?.n ?? 0) < before + 5) await sleep(10);

  const pid = postmasterPid();
  process.kill(pid, 'SIGINT');
  while (alive(pid)) await sleep(10);
  const outcome = await running.done;

  // The runner finished on its own (no crash, no hang), exit 1, and says which tenants failed and why.
  expect(outcome.signal).toBeNull();
  expect(outcome.exitCode, outcome.stderr).toBe(1);
  if (outcome.stdout.trim() === '') throw new Error(`no report on stdout; stderr: ${outcome.stderr}`);
  const report = JSON.parse(outcome.stdout) as Report;
  expect(report.ok).toBe(false);
  expect(report.summary.applied).toBeGreaterThan(0);
  expect(report.summary.failed).toBeGreaterThan(0);
  expect(report.summary.applied + report.summary.failed + report.summary.skipped).toBe(60);
  for (const failed of report.results.filter((r) => r.status === 'failed')) {
    expect(failed.error?.message).toMatch(/terminat|shutting down|ECONN|connect|Connection/i);
  }

  // Start it again (a new port: the embedded server never reuses one) and rerun.
  await server.release();
  server = await acquireEmbeddedServer({ dir, settings: FAST_SETTINGS });
  const again = server.url('chaos');
  const rerun = await runCli(['migrate', '--json'], { FLEET_DATABASE_URL: again, FLEET_MIGRATIONS_DIR: migrations });
  expect(rerun.exitCode, rerun.stderr).toBe(0);
  const rerunReport = JSON.parse(rerun.stdout) as Report;
  expect(rerunReport.summary.applied).toBe(report.summary.failed + report.summary.skipped);

  const health = await fleetHealth(again, migrations);
  expect(health.verify.drifted).toEqual([]);
  expect(health.behind).toEqual([]);
  expect(health.duplicateLedgerRows).toBe(0);
}, 180_000);
