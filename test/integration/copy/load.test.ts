/**
 * How a copy loads and verifies: indexes dropped for the load and rebuilt exactly (or left in place
 * when a rebuild could not give them back whole), constraints valid and enforced afterwards, rows
 * read back in the order they were sent, and a target that does not hold the source's rows refused.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { migrationsCopy, writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { moveTenant } from '../../../src/copy/move.ts';
import { deferrableIndexes } from '../../../src/copy/indexes.ts';
import { catalogItems } from '../../../src/verify/catalog.ts';
import { verifyFleet } from '../../../src/verify/verify-fleet.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { checksums, openTwoRegionFleet, withDb } from './helpers.ts';

const SHELVES_MIGRATION = `
CREATE TYPE shade AS ENUM ('light', 'dark');
CREATE TABLE shelves (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code    text NOT NULL,
  tag     text,
  during  tstzrange,
  size    int NOT NULL DEFAULT 0,
  shades  shade[],
  blob    text,
  label   text GENERATED ALWAYS AS (upper(code)) STORED,
  CONSTRAINT shelves_code_key UNIQUE NULLS NOT DISTINCT (code),
  CONSTRAINT shelves_tag_key UNIQUE (tag) DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT shelves_no_overlap EXCLUDE USING gist (during WITH &&),
  CONSTRAINT shelves_size_check CHECK (size >= 0)
);
CREATE INDEX shelves_lower_code ON shelves (lower(code));
CREATE INDEX shelves_big ON shelves (size) WHERE size > 10;
CREATE INDEX shelves_covering ON shelves (code) INCLUDE (size);
CREATE INDEX shelves_tag_hash ON shelves USING hash (tag);
CREATE INDEX shelves_filled ON shelves (size) WITH (fillfactor = 70);
CREATE INDEX shelves_commented ON shelves (tag, size);
COMMENT ON INDEX shelves_commented IS 'kept in place: a rebuild would lose the comment';
CREATE INDEX shelves_clustered ON shelves (id, size);
ALTER TABLE shelves CLUSTER ON shelves_clustered;
CREATE TABLE boxes (
  id         bigint PRIMARY KEY,
  shelf_code text NOT NULL REFERENCES shelves (code),
  weight     double precision,
  payload    bytea
);
CREATE INDEX boxes_shelf ON boxes (shelf_code, id DESC);
`;

const MARKED_MIGRATION = `
CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL);
CREATE FUNCTION notes_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.body := NEW.body || '!'; RETURN NEW; END $$;
CREATE TRIGGER notes_mark BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION notes_mark();
-- Fires in replica mode too, so it fires again on every row a copy writes.
ALTER TABLE notes ENABLE ALWAYS TRIGGER notes_mark;
CREATE TABLE entries (id bigint PRIMARY KEY, body text NOT NULL);
CREATE FUNCTION entries_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.body = 'refused' THEN RAISE EXCEPTION 'entry % refused', NEW.id; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER entries_refuse BEFORE INSERT ON entries FOR EACH ROW EXECUTE FUNCTION entries_refuse();
ALTER TABLE entries ENABLE ALWAYS TRIGGER entries_refuse;
`;

let eu: TestDatabase;
let us: TestDatabase;
let fleet: Fleet;

beforeAll(async () => {
  [eu, us] = await Promise.all([createTestDatabase('load_eu'), createTestDatabase('load_us')]);
  const dir = migrationsCopy();
  writeMigration(dir, '0007_shelves.sql', SHELVES_MIGRATION);
  fleet = await openTwoRegionFleet(eu.url, us.url, { migrationsDir: dir });
});
afterAll(async () => {
  await fleet?.close();
  await Promise.all([eu?.drop(), us?.drop()]);
});

/** Rows over many pages: some values large enough to be TOASTed, ranges that do not overlap, tags unique or NULL. */
async function seedShelves(url: string, tenantId: string, count: number): Promise<void> {
  await withDb(url, (c) =>
    c.query(
      `SET search_path TO "${schemaNameFor(tenantId)}";
       INSERT INTO shelves (code, tag, during, size, shades, blob)
       SELECT 'c' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 't' || i END,
              tstzrange(timestamptz '2026-01-01 00:00+00' + i * interval '1 hour', timestamptz '2026-01-01 00:00+00' + (i + 1) * interval '1 hour'),
              i % 50, CASE WHEN i % 2 = 0 THEN ARRAY['light', 'dark']::shade[] END,
              CASE WHEN i % 500 = 0 THEN repeat(md5(i::text), 400) ELSE md5(i::text) END
         FROM generate_series(1, ${count}) i;
       INSERT INTO boxes (id, shelf_code, weight, payload)
       SELECT i, 'c' || (1 + i % ${count}), i / 7.0, CASE WHEN i % 700 = 0 THEN convert_to(repeat(md5(i::text), 300), 'UTF8') ELSE decode(md5(i::text), 'hex') END
         FROM generate_series(1, ${count * 2}) i;`,
    ),
  );
}

async function indexState(url: string, schema: string): Promise<{ index: string; def: string; valid: boolean }[]> {
  return withDb(
    url,
    async (c) =>
      (
        await c.query<{ index: string; def: string; valid: boolean }>(
          `SELECT ic.relname AS index, replace(pg_get_indexdef(i.indexrelid), $1 || '.', '') AS def, i.indisvalid AND i.indisready AS valid
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
            WHERE n.nspname = $1 ORDER BY 1`,
          [schema],
        )
      ).rows,
  );
}

describe('loading a copy', () => {
  test('the indexes a rebuild gives back whole are dropped for the load; the others stay', async () => {
    await addTenants(fleet, ['which'], { region: 'eu' });
    const names = await withDb(eu.url, async (c) => (await deferrableIndexes(c, schemaNameFor('which'))).map((i) => i.name));
    expect(names.sort()).toEqual(
      [
        'audit_log_at',
        'audit_log_pkey',
        'boxes_pkey',
        'boxes_shelf',
        'comments_issue_created',
        'comments_pkey',
        'issue_links_pkey',
        'issue_links_source_issue_id_target_issue_id_link_type_key',
        'issue_links_target',
        'issues_assignee',
        'issues_key_key',
        'issues_labels',
        'issues_project_updated',
        'projects_key_key',
        'shelves_big',
        'shelves_covering',
        'shelves_lower_code',
        'shelves_no_overlap',
        'shelves_pkey',
        'shelves_tag_hash',
        'shelves_tag_key',
      ].sort(),
    );
    // Left in place: referenced by a foreign key (issues_pkey, projects_pkey, shelves_code_key),
    // a storage parameter, a comment, CLUSTER ON.
    for (const kept of ['issues_pkey', 'projects_pkey', 'shelves_code_key', 'shelves_filled', 'shelves_commented', 'shelves_clustered'])
      expect(names).not.toContain(kept);
  });

  test('after a move the indexes and constraints are the ones the migrations make, valid and enforced; rows and counts verified', async () => {
    await addTenants(fleet, ['stocked'], { region: 'eu' });
    await seedShelves(eu.url, 'stocked', 3000);
    const schema = schemaNameFor('stocked');
    const before = await checksums(eu.url, 'stocked');
    const itemsBefore = await withDb(eu.url, (c) => catalogItems(c, [schema]));
    const indexesBefore = await indexState(eu.url, schema);

    const result = await moveTenant(fleet, 'stocked', 'us');

    expect(result.status).toBe('committed');
    expect(await checksums(us.url, 'stocked')).toEqual(before);
    // The copy's own count of each table is the table's row count.
    expect(Object.fromEntries((result.copy?.tables ?? []).map((t) => [t.table, t.rows]))).toMatchObject(
      Object.fromEntries(before.map((t) => [t.table, t.rows])),
    );
    expect(before.find((t) => t.table === 'shelves')?.rows).toBe(3000);
    // The same catalog, item by item (deparsed), and no drift from what the runner builds.
    expect(await withDb(us.url, (c) => catalogItems(c, [schema]))).toEqual(itemsBefore);
    expect(await indexState(us.url, schema)).toEqual(indexesBefore);
    expect((await indexState(us.url, schema)).every((i) => i.valid)).toBe(true);
    const verified = await verifyFleet(fleet, { tenants: ['stocked'] });
    expect(verified.drifted).toEqual([]);
    await withDb(us.url, async (c) => {
      const invalid = await c.query(`SELECT conname FROM pg_constraint WHERE connamespace = $1::regnamespace AND NOT convalidated`, [
        schema,
      ]);
      expect(invalid.rows).toEqual([]);
      await c.query(`SET search_path TO "${schema}"`);
      const code = async (sql: string) =>
        c.query(sql).then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        );
      expect(await code(`INSERT INTO shelves (code) VALUES ('c1')`)).toBe('23505');
      expect(await code(`INSERT INTO shelves (code, during) VALUES ('new', tstzrange('2026-01-01 01:30+00', '2026-01-01 01:40+00'))`)).toBe(
        '23P01',
      );
      expect(await code(`INSERT INTO boxes (id, shelf_code) VALUES (1, 'c2')`)).toBe('23505');
      expect(await code(`INSERT INTO boxes (id, shelf_code) VALUES (999999, 'no such shelf')`)).toBe('23503');
      // Still deferred: the duplicate tag is refused at COMMIT, not at the INSERT.
      await c.query('BEGIN');
      expect(await code(`INSERT INTO shelves (code, tag) VALUES ('d1', 't1')`)).toBe('ok');
      expect(await code('COMMIT')).toBe('23505');
      const shelf = await c.query(`SELECT label FROM shelves WHERE code = 'c42'`);
      expect(shelf.rows).toEqual([{ label: 'C42' }]);
    });
  });

  test('a target that does not hold the rows the source sent, or fails while it loads them, is refused and dropped; the source serves again', async () => {
    const [a, b] = await Promise.all([createTestDatabase('marked_eu'), createTestDatabase('marked_us')]);
    const dir = migrationsCopy();
    writeMigration(dir, '0007_notes.sql', MARKED_MIGRATION);
    const marked = await openTwoRegionFleet(a.url, b.url, { migrationsDir: dir });
    try {
      await addTenants(marked, ['noted'], { region: 'eu' });
      await withDb(a.url, (c) => c.query(`INSERT INTO t_noted.notes (id, body) SELECT i, 'note ' || i FROM generate_series(1, 100) i`));
      const error = await moveTenant(marked, 'noted', 'us').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FleetError);
      expect((error as FleetError).message).toMatch(/does not equal its source; the target copy was dropped/);
      expect((error as FleetError).problems).toEqual([expect.stringMatching(/^table notes: checksums differ/)]);
      await withDb(b.url, async (c) => {
        expect((await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 't_noted'`)).rowCount).toBe(0);
      });
      await withDb(a.url, async (c) => {
        expect((await c.query(`SELECT status FROM fleet.tenants WHERE id = 'noted'`)).rows).toEqual([{ status: 'active' }]);
        expect((await c.query(`SELECT count(*)::int AS n FROM t_noted.notes WHERE body NOT LIKE '%!!'`)).rows).toEqual([{ n: 100 }]);
      });
      // A target failing in the middle of a table (here its trigger refuses a row the source took
      // first): the copy fails with the target's error, nothing waits on the half-read source.
      await addTenants(marked, ['refused'], { region: 'eu' });
      await withDb(a.url, (c) =>
        c.query(
          `ALTER TABLE t_refused.entries DISABLE TRIGGER entries_refuse;
           INSERT INTO t_refused.entries (id, body) SELECT i, 'entry ' || i FROM generate_series(1, 20000) i;
           INSERT INTO t_refused.entries (id, body) VALUES (20001, 'refused');
           INSERT INTO t_refused.entries (id, body) SELECT i, repeat('x', 500) FROM generate_series(20002, 60000) i;
           ALTER TABLE t_refused.entries ENABLE ALWAYS TRIGGER entries_refuse;`,
        ),
      );
      const midway = await moveTenant(marked, 'refused', 'us').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((midway as Error).message).toMatch(/entry 20001 refused/);
      await withDb(b.url, async (c) => {
        expect((await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 't_refused'`)).rowCount).toBe(0);
      });
      await withDb(a.url, async (c) => {
        expect((await c.query(`SELECT status FROM fleet.tenants WHERE id = 'refused'`)).rows).toEqual([{ status: 'active' }]);
      });
    } finally {
      await marked.close();
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});
