/**
 * kill -9 of `fleet tenants add` and `fleet migrate` at random instants mid-run, then a rerun:
 * every tenant at the latest migration, every ledger row matched by the schema's real objects
 * (fleet verify), no duplicate ledger rows. The full-size version (20 kills over 500 tenants) is
 * `node --import tsx scripts/bench/chaos.ts`.
 */
import { expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { fleetHealth, idFile, ids, migrationsWith, query, runCli, sleep, startCli } from './chaos-helpers.ts';

const db = useTestDatabase('chaos_kill');

const RELEASE = {
  '0007_release_marks.sql':
    'CREATE TABLE release_marks (n int PRIMARY KEY);\nINSERT INTO release_marks VALUES (7);\nALTER TABLE comments ADD COLUMN edited_by text;\n',
  '0008_release_index.sql':
    '-- fleet:allow require-concurrent-index-creation: test data, a few rows per tenant\nCREATE INDEX comments_author ON comments (author);\nINSERT INTO release_marks VALUES (8);\n',
};

async function ledgerRows(url: string): Promise<number> {
  return (await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM fleet.migrations'))[0]?.n ?? 0;
}

/** Start the command, wait until the ledger grows (work is under way), wait a random moment more, SIGKILL. */
async function killMidRun(
  args: string[],
  env: Record<string, string>,
  url: string,
  maxDelayMs: number,
): Promise<{ before: number; after: number; finished: boolean }> {
  const before = await ledgerRows(url).catch(() => 0);
  const running = startCli(args, env);
  let finished = false;
  void running.done.then(() => (finished = true));
  const deadline = Date.now() + 30_000;
  while (!finished && Date.now() < deadline && (await ledgerRows(url).catch(() => 0)) <= before) await sleep(5);
  await sleep(Math.random() * maxDelayMs);
  running.child.kill('SIGKILL');
  const outcome = await running.done;
  return { before, after: await ledgerRows(url), finished: outcome.signal !== 'SIGKILL' };
}

test('kill -9 of tenants add and migrate at random instants, then a rerun: all at latest, verify clean, no duplicates', async () => {
  const url = db().url;
  const env = { FLEET_DATABASE_URL: url };
  const file = idFile(ids(40, 'kill'));
  const killed: string[] = [];
  let landed = 0;

  for (let i = 0; i < 4; i += 1) {
    const k = await killMidRun(['tenants', 'add', '--file', file, '--concurrency', '4', '--json'], env, url, 250);
    landed += k.finished ? 0 : 1;
    killed.push(`add#${i}: ledger ${k.before} → ${k.after}${k.finished ? ' (finished before the kill)' : ''}`);
  }
  const add = await runCli(['tenants', 'add', '--file', file, '--json'], env);
  expect(add.exitCode, add.stderr).toBe(0);

  const dir = migrationsWith(RELEASE);
  const withRelease = { ...env, FLEET_MIGRATIONS_DIR: dir };
  for (let i = 0; i < 3; i += 1) {
    const k = await killMidRun(['migrate', '--concurrency', '1', '--json'], withRelease, url, 40);
    landed += k.finished ? 0 : 1;
    killed.push(`migrate#${i}: ledger ${k.before} → ${k.after}${k.finished ? ' (finished before the kill)' : ''}`);
  }
  const rerun = await runCli(['migrate', '--json'], withRelease);
  expect(rerun.exitCode, rerun.stderr).toBe(0);

  const health = await fleetHealth(url, dir);
  expect(health.tenants).toBe(40);
  expect(health.verify.drifted, JSON.stringify(health.verify.drifted.slice(0, 3), null, 2)).toEqual([]);
  expect(health.behind).toEqual([]);
  expect(health.duplicateLedgerRows).toBe(0);
  // Each release migration ran exactly once per tenant: its marker row is there, once.
  for (const id of ids(40, 'kill')) {
    const schema = schemaNameFor(id);
    expect(await query<{ n: number }>(url, `SELECT n FROM ${schema}.release_marks ORDER BY n`)).toEqual([{ n: 7 }, { n: 8 }]);
  }
  console.log(`kills: ${killed.join('; ')}`);
  // Most kills land mid-run (a fast machine may finish one before the signal arrives).
  expect(landed).toBeGreaterThanOrEqual(4);
}, 180_000);
