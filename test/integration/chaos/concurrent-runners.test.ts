/**
 * Two and four `fleet migrate` processes started at the same moment on one fleet, with and
 * without --shard (and shards overlapping): every process exits 0, every migration is applied
 * once per tenant (the release migrations insert a marker row: a second application would add a
 * second row or fail), verify finds no drift.
 */
import { expect, test } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { fleetHealth, idFile, ids, migrationsWith, query, runCli } from './chaos-helpers.ts';

const RELEASE = {
  '0007_marks.sql': 'CREATE TABLE release_marks (n int);\nINSERT INTO release_marks VALUES (7);\n',
  '0008_marks.sql': 'INSERT INTO release_marks VALUES (8);\nALTER TABLE comments ADD COLUMN edited_by text;\n',
};
const TENANTS = 30;

async function scenario(label: string, argsPerRunner: readonly (readonly string[])[]): Promise<void> {
  const db = await createTestDatabase(`chaos_${label}`);
  try {
    const env = { FLEET_DATABASE_URL: db.url };
    const tenantIds = ids(TENANTS, label);
    // Start from a fleet at 0006 partly provisioned: half added (migrated), half only registered.
    const add = await runCli(['tenants', 'add', '--file', idFile(tenantIds.slice(0, TENANTS / 2)), '--json'], env);
    expect(add.exitCode, add.stderr).toBe(0);
    await query(
      db.url,
      `INSERT INTO fleet.tenants (id, schema_name, region, status, created_at, updated_at)
                         SELECT id, schema, 'local', 'provisioning', now(), now() FROM unnest($1::text[], $2::text[]) AS u(id, schema)`,
      [tenantIds.slice(TENANTS / 2), tenantIds.slice(TENANTS / 2).map(schemaNameFor)],
    );

    const migrations = migrationsWith(RELEASE);
    const outcomes = await Promise.all(
      argsPerRunner.map((args) =>
        runCli(['migrate', '--concurrency', '3', '--json', ...args], { ...env, FLEET_MIGRATIONS_DIR: migrations }),
      ),
    );
    for (const outcome of outcomes) expect(outcome.exitCode, outcome.stderr + outcome.stdout.slice(0, 2000)).toBe(0);
    // A sharded matrix covers every tenant only together; unsharded runners each cover all.
    const applied = outcomes.map((o) => (JSON.parse(o.stdout) as { summary: { migrationsApplied: number } }).summary.migrationsApplied);
    expect(applied.reduce((a, b) => a + b, 0)).toBe((TENANTS / 2) * 2 + (TENANTS / 2) * 8);

    const health = await fleetHealth(db.url, migrations);
    expect(health.tenants).toBe(TENANTS);
    expect(health.verify.drifted).toEqual([]);
    expect(health.behind).toEqual([]);
    expect(health.duplicateLedgerRows).toBe(0);
    for (const id of tenantIds) {
      expect(await query<{ n: number }>(db.url, `SELECT n FROM ${schemaNameFor(id)}.release_marks ORDER BY n`)).toEqual([
        { n: 7 },
        { n: 8 },
      ]);
    }
  } finally {
    await db.drop();
  }
}

test('two runners at once, no shard: each migration once per tenant, both exit 0', async () => {
  await scenario('two', [[], []]);
}, 120_000);

test('four runners at once, no shard', async () => {
  await scenario('four', [[], [], [], []]);
}, 120_000);

test('four runners at once as a --shard i/4 matrix', async () => {
  await scenario('shard', [
    ['--shard', '1/4'],
    ['--shard', '2/4'],
    ['--shard', '3/4'],
    ['--shard', '4/4'],
  ]);
}, 120_000);

test('four runners at once, shards overlapping (1/2, 2/2, 1/2, 2/2)', async () => {
  await scenario('overlap', [
    ['--shard', '1/2'],
    ['--shard', '2/2'],
    ['--shard', '1/2'],
    ['--shard', '2/2'],
  ]);
}, 120_000);
