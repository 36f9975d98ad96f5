/**
 * The server's max_connections set low (a server of this test's own: the run's shared server
 * keeps its settings) and the runner asked for more connections than it allows: the run fails
 * clearly (each tenant it could not reach is reported with PostgreSQL's "too many clients") or
 * queues, and never corrupts: a rerun within the limit completes and verify finds no drift.
 */
import { rmSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { acquireEmbeddedServer, type EmbeddedServer } from '../../../src/db/embedded/index.ts';
import { FAST_SETTINGS } from '../global-setup.ts';
import { fleetHealth, idFile, ids, migrationsWith, runCli, tempDir } from './chaos-helpers.ts';

const dir = tempDir('maxconn');
let server: EmbeddedServer | undefined;
afterAll(async () => {
  await server?.release();
  rmSync(dir, { recursive: true, force: true });
});

interface Report {
  summary: { applied: number; failed: number; skipped: number };
  results: { tenant: string; status: string; error?: { message: string; code?: string } }[];
}

test('--concurrency above max_connections: clear failures or queueing, never corruption; a rerun completes', async () => {
  // 6 connections in all (none reserved): the runner's control connection plus 5 for tenants.
  server = await acquireEmbeddedServer({ dir, settings: { ...FAST_SETTINGS, max_connections: '6', superuser_reserved_connections: '0' } });
  await server.ensureDatabase('chaos');
  const url = server.url('chaos');
  const env = { FLEET_DATABASE_URL: url };
  const tenants = ids(40, 'maxconn');

  const add = await runCli(['tenants', 'add', '--file', idFile(tenants), '--concurrency', '16', '--json'], env);
  expect(add.signal).toBeNull();
  expect([0, 1]).toContain(add.exitCode);
  const first = (JSON.parse(add.stdout) as { migrate: Report }).migrate;
  for (const failed of first.results.filter((r) => r.status === 'failed')) {
    expect(failed.error?.message).toMatch(/too many clients|remaining connection slots/i);
  }
  expect(add.exitCode).toBe(first.summary.failed > 0 ? 1 : 0);

  // The same with a release over the fleet, far above the limit.
  const migrations = migrationsWith({ '0007_release.sql': 'ALTER TABLE comments ADD COLUMN edited_by text;\n' });
  const release = await runCli(['migrate', '--concurrency', '32', '--json'], { ...env, FLEET_MIGRATIONS_DIR: migrations });
  expect(release.signal).toBeNull();
  expect([0, 1]).toContain(release.exitCode);
  const second = JSON.parse(release.stdout) as Report;
  for (const failed of second.results.filter((r) => r.status === 'failed')) {
    expect(failed.error?.message).toMatch(/too many clients|remaining connection slots/i);
  }

  // Within the limit, the reruns complete everything the first runs could not.
  const finishAdd = await runCli(['tenants', 'add', '--file', idFile(tenants), '--concurrency', '4', '--json'], {
    ...env,
    FLEET_MIGRATIONS_DIR: migrations,
  });
  expect(finishAdd.exitCode, finishAdd.stderr).toBe(0);
  const finish = await runCli(['migrate', '--concurrency', '4', '--json'], { ...env, FLEET_MIGRATIONS_DIR: migrations });
  expect(finish.exitCode, finish.stderr).toBe(0);

  const health = await fleetHealth(url, migrations);
  expect(health.tenants).toBe(40);
  expect(health.verify.drifted).toEqual([]);
  expect(health.behind).toEqual([]);
  expect(health.duplicateLedgerRows).toBe(0);
  console.log(
    `over the limit: add ${first.summary.applied} applied / ${first.summary.failed} failed; release ${second.summary.applied} applied / ${second.summary.failed} failed`,
  );
}, 180_000);
