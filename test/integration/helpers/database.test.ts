import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { adminUrl, createTestDatabase, type TestDatabase } from './database.ts';

const created: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(created.map((db) => db.drop()));
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

test('two test databases are separate databases: a table made in one is absent from the other', async () => {
  const [a, b] = await Promise.all([createTestDatabase('iso'), createTestDatabase('iso')]);
  created.push(a, b);
  expect(a.name).not.toBe(b.name);
  expect(a.name).toMatch(/^fleet_test_iso_[0-9a-f]{10}$/);

  await query(a.url, 'CREATE TABLE only_in_a (id int)');
  expect(await query(a.url, 'SELECT current_database() AS db')).toEqual([{ db: a.name }]);
  expect(await query(b.url, "SELECT to_regclass('only_in_a') AS t")).toEqual([{ t: null }]);
});

test('drop() removes the database even while a connection is open, and is idempotent', async () => {
  const db = await createTestDatabase('Drop Me!');
  expect(db.name).toMatch(/^fleet_test_drop_me__[0-9a-f]{10}$/);
  const open = new pg.Client({ connectionString: db.url });
  open.on('error', () => undefined); // the forced drop terminates it
  await open.connect();
  await db.drop();
  await db.drop();
  await open.end().catch(() => undefined);
  expect(await query(adminUrl(), 'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [db.name])).toEqual([{ n: 0 }]);
});
