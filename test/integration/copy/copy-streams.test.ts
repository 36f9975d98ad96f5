/**
 * The COPY relay on a real server: rows pass between two connections as CopyData messages, the
 * server's counts come back, and a COPY that fails on either side leaves both connections usable.
 */
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { copyIn } from '../../../src/copy/copy-in.ts';
import { copyOut } from '../../../src/copy/copy-out.ts';

let db: TestDatabase;
let source: pg.Client;
let target: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase('copy_streams');
  [source, target] = [new pg.Client({ connectionString: db.url }), new pg.Client({ connectionString: db.url })];
  await Promise.all([source.connect(), target.connect()]);
  await source.query(`CREATE TABLE rows_in (id int, body text)`);
});
afterAll(async () => {
  await Promise.all([source?.end(), target?.end()]);
  await db?.drop();
});

const relay = (from: string) =>
  pipeline(
    copyOut(source, `COPY (${from}) TO STDOUT (FORMAT binary)`, 'frames'),
    copyIn(target, 'COPY rows_in FROM STDIN (FORMAT binary)'),
  );

describe('copy-out and copy-in', () => {
  test('rows pass whole, rows larger than a socket read included, and both servers count them', async () => {
    await target.query('TRUNCATE rows_in');
    const out = copyOut(
      source,
      `COPY (SELECT i, CASE WHEN i % 1000 = 0 THEN repeat(md5(i::text), 20000) ELSE md5(i::text) END FROM generate_series(1, 20000) i) TO STDOUT (FORMAT binary)`,
      'frames',
    );
    const into = copyIn(target, 'COPY rows_in FROM STDIN (FORMAT binary)');
    await pipeline(out, into);
    await out.done;
    expect([out.rows, into.rows]).toEqual([20000, 20000]);
    const { rows } = await target.query<{ n: number; big: number; sum: string }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE length(body) = 640000)::int AS big, sum(id)::text AS sum FROM rows_in`,
    );
    expect(rows).toEqual([{ n: 20000, big: 20, sum: String((20000 * 20001) / 2) }]);
  });

  test('a source failing in the middle: the target COPY is abandoned, both connections answer after', async () => {
    await target.query('BEGIN');
    await target.query('TRUNCATE rows_in');
    const error = await relay(
      `SELECT i, CASE WHEN i = 5000 THEN (1 / 0)::text ELSE repeat('x', 300) END FROM generate_series(1, 20000) i`,
    ).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/division by zero/);
    await expect(target.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
    await target.query('ROLLBACK');
    expect((await source.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect((await target.query('SELECT count(*)::int AS n FROM rows_in')).rows).toEqual([{ n: 20000 }]);
  });

  test('a target failing in the middle: the rest of the source COPY is read and dropped, both connections answer after', async () => {
    await target.query('BEGIN');
    await target.query(`ALTER TABLE rows_in ADD CONSTRAINT short CHECK (length(body) < 100) NOT VALID`);
    const error = await relay(`SELECT i, CASE WHEN i = 5000 THEN repeat('y', 200) ELSE 'x' END FROM generate_series(1, 200000) i`).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/violates check constraint "short"/);
    await target.query('ROLLBACK');
    expect((await source.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect((await target.query('SELECT count(*)::int AS n FROM rows_in')).rows).toEqual([{ n: 20000 }]);
  });
});
