import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { queryThenCommit, statementThenCommit } from '../../../src/db/then-commit.ts';
import { SQLSTATE, sqlStateOf } from '../../../src/db/sqlstate.ts';

const db = useTestDatabase('then_commit');
let client: pg.Client;
/** Another session: what it sees is committed. */
let other: pg.Client;

const insert = (id: number, note: string | null = 'x') => ({
  name: 'then-commit-test-insert',
  text: 'INSERT INTO t (id, note, at, flag) VALUES ($1, $2, $3, $4)',
  values: [id, note, new Date('2026-01-02T03:04:05.678Z'), true],
});

async function committedIds(): Promise<number[]> {
  return (await other.query<{ id: number }>('SELECT id FROM t ORDER BY id')).rows.map((r) => r.id);
}

beforeAll(async () => {
  client = new pg.Client({ connectionString: db().url });
  other = new pg.Client({ connectionString: db().url });
  await Promise.all([client.connect(), other.connect()]);
  await client.query('CREATE TABLE t (id int PRIMARY KEY, note text NOT NULL, at timestamptz NOT NULL, flag boolean NOT NULL)');
  await client.query('CREATE TABLE d (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)');
});
afterAll(async () => Promise.all([client?.end(), other?.end()]));

describe('statementThenCommit: a statement and COMMIT in one round trip', () => {
  test('runs the statement in the open transaction, commits it and returns its row count; values arrive as bound', async () => {
    await client.query('BEGIN');
    await client.query('INSERT INTO t VALUES (0, $1, now(), false)', ['before']);
    expect(await statementThenCommit(client, insert(1))).toBe(1);
    expect(await committedIds()).toEqual([0, 1]);
    const row = (await client.query<{ at: Date; flag: boolean }>('SELECT at, flag FROM t WHERE id = 1')).rows[0];
    expect(row?.at.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(row?.flag).toBe(true);
    // Prepared once, used again.
    await client.query('BEGIN');
    expect(await statementThenCommit(client, insert(2))).toBe(1);
    expect(await committedIds()).toEqual([0, 1, 2]);
  });

  test('a failing statement rejects with the database error and commits nothing; the transaction is left aborted', async () => {
    await client.query('BEGIN');
    await client.query('INSERT INTO t VALUES (10, $1, now(), false)', ['in the same transaction']);
    const error = await statementThenCommit(client, insert(1)).catch((e: unknown) => e);
    expect(sqlStateOf(error)).toBe(SQLSTATE.UNIQUE_VIOLATION);
    await expect(client.query('SELECT 1')).rejects.toThrow(/aborted/);
    await client.query('ROLLBACK');
    expect(await committedIds()).toEqual([0, 1, 2]);
    // The connection and the prepared statement are usable afterwards.
    await client.query('BEGIN');
    expect(await statementThenCommit(client, insert(3))).toBe(1);
    expect(await committedIds()).toEqual([0, 1, 2, 3]);
  });

  test('a COMMIT that fails (a deferred constraint) rejects, and the transaction is rolled back', async () => {
    await client.query('INSERT INTO d VALUES (7)');
    await client.query('BEGIN');
    await client.query('INSERT INTO t VALUES (20, $1, now(), false)', ['rolled back with the commit']);
    const error = await statementThenCommit(client, {
      name: 'then-commit-test-deferred',
      text: 'INSERT INTO d (id) VALUES ($1)',
      values: [7],
    }).catch((e: unknown) => e);
    expect(sqlStateOf(error)).toBe(SQLSTATE.UNIQUE_VIOLATION);
    await client.query('ROLLBACK'); // only warns: there is no transaction left
    expect(await committedIds()).toEqual([0, 1, 2, 3]);
  });

  test('a statement whose first attempt failed at Parse is prepared again', async () => {
    const broken = { name: 'then-commit-test-late', text: 'INSERT INTO late (id) VALUES ($1)', values: [1] };
    await client.query('BEGIN');
    const missing = await statementThenCommit(client, broken).catch((e: unknown) => e);
    expect(sqlStateOf(missing)).toBe(SQLSTATE.UNDEFINED_TABLE);
    await client.query('ROLLBACK');
    await client.query('CREATE TABLE late (id int)');
    await client.query('BEGIN');
    expect(await statementThenCommit(client, broken)).toBe(1);
    expect((await client.query('SELECT count(*)::int AS n FROM late')).rows[0]).toEqual({ n: 1 });
  });

  test('queryThenCommit: an unnamed statement returns its first row as text, and survives DEALLOCATE ALL', async () => {
    await client.query('BEGIN');
    await client.query('INSERT INTO t VALUES (30, $1, now(), false)', ['read back']);
    const result = await queryThenCommit(client, {
      text: 'SELECT note, flag, NULL::text AS nothing FROM t WHERE id >= $1 ORDER BY id',
      values: [30],
    });
    expect(result).toEqual({ rowCount: 1, firstRow: ['read back', 'f', null] });
    expect(await committedIds()).toContain(30);
    await client.query('DEALLOCATE ALL');
    await client.query('BEGIN');
    expect(await queryThenCommit(client, { text: 'SELECT id FROM t WHERE id = $1', values: [999] })).toEqual({
      rowCount: 0,
      firstRow: null,
    });
  });

  test('queryThenCommit: a statement that raises leaves COMMIT unrun: nothing of the transaction is committed', async () => {
    await client.query('BEGIN');
    await client.query('INSERT INTO t VALUES (40, $1, now(), false)', ['never committed']);
    const error = await queryThenCommit(client, {
      text: "INSERT INTO t (id, note, at, flag) VALUES ($1, 'taken', now(), true) RETURNING id",
      values: [0],
    }).catch((e: unknown) => e);
    expect(sqlStateOf(error)).toBe(SQLSTATE.UNIQUE_VIOLATION);
    await expect(client.query('SELECT 1')).rejects.toThrow(/aborted/);
    await client.query('ROLLBACK');
    expect(await committedIds()).not.toContain(40);
  });
});
