import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { checkFleetMigrations } from '../../../src/check/check-fleet.ts';

const db = useTestDatabase('check');
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  dir = migrationsCopy();
  fleet = await openTestFleet(db().url, { migrationsDir: dir });
});
afterAll(async () => fleet?.close());

const schemas = async () =>
  (await fleet.regions[0]!.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_namespace WHERE nspname LIKE 'fleet\\_check\\_%'`))
    .rows[0]!.n;

describe('fleet migration check', () => {
  test("the project's migrations: every down undoes its up, every up runs again and on data", async () => {
    const report = await checkFleetMigrations(fleet);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checked).toEqual([
      '0001_projects.sql',
      '0002_issues.sql',
      '0003_issue_links.sql',
      '0004_comments.sql',
      '0005_audit_log.sql',
      '0006_issue_labels_and_priority.sql',
    ]);
    expect(await schemas()).toBe('0');
  });

  test('planted bad downs and ups are each reported with the readable difference; good ones pass', async () => {
    // Good: a table with an index and its exact inverse; a no-transaction concurrent index.
    writeMigration(
      dir,
      '0007_votes.sql',
      'CREATE TABLE votes (issue_id bigint NOT NULL, n int NOT NULL DEFAULT 0);\nCREATE INDEX votes_issue ON votes (issue_id);\n',
    );
    writeMigration(dir, '0007_votes.down.sql', 'DROP TABLE votes;\n');
    writeMigration(
      dir,
      '0008_idx.sql',
      '-- fleet:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS comments_author ON comments (author);\n',
    );
    writeMigration(dir, '0008_idx.down.sql', '-- fleet:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS comments_author;\n');
    // Bad: the down forgets the index.
    writeMigration(
      dir,
      '0009_forgets_index.sql',
      'ALTER TABLE issues ADD COLUMN owner text;\nCREATE INDEX issues_owner ON issues (owner);\n',
    );
    writeMigration(
      dir,
      '0009_forgets_index.down.sql',
      'ALTER TABLE issues DROP COLUMN owner;\nCREATE INDEX issues_owner ON issues (status);\n',
    );
    // Bad: the down does not restore the old default.
    writeMigration(dir, '0010_default.sql', "ALTER TABLE issues ALTER COLUMN status SET DEFAULT 'open';\n");
    writeMigration(dir, '0010_default.down.sql', 'SELECT 1;\n');
    // Bad: the down fails.
    writeMigration(dir, '0011_fails.sql', 'CREATE TABLE sprints (id bigint PRIMARY KEY);\n');
    writeMigration(dir, '0011_fails.down.sql', 'DROP TABLE sprint;\n');
    // Bad: the down leaves the type behind, so the up cannot run again.
    writeMigration(dir, '0012_mood.sql', "CREATE TYPE mood AS ENUM ('happy', 'sad');\nCREATE TABLE moods (m mood);\n");
    writeMigration(dir, '0012_mood.down.sql', 'DROP TABLE moods;\n');
    // Bad on data: NOT NULL without a default, and a cast text -> int.
    writeMigration(dir, '0013_required.sql', 'ALTER TABLE projects ADD COLUMN owner text NOT NULL;\n');
    writeMigration(dir, '0014_cast.sql', 'ALTER TABLE issues ALTER COLUMN key TYPE int USING key::int;\n');
    const report = await checkFleetMigrations(fleet);
    expect(report.ok).toBe(false);
    const byFile = report.problems.map((p) => [p.file, p.kind]);
    expect(byFile).toEqual([
      ['0009_forgets_index.down.sql', 'down-not-inverse'],
      // The index the down left (on another column) also stops the up from running again.
      ['0009_forgets_index.sql', 'up-not-rerunnable'],
      ['0010_default.down.sql', 'down-not-inverse'],
      ['0011_fails.down.sql', 'down-failed'],
      ['0012_mood.down.sql', 'down-not-inverse'],
      ['0012_mood.sql', 'up-not-rerunnable'],
      ['0013_required.sql', 'up-fails-on-data'],
      ['0014_cast.sql', 'up-fails-on-data'],
    ]);
    const detail = (file: string) => report.problems.find((p) => p.file === file)?.detail ?? '';
    expect(detail('0009_forgets_index.down.sql')).toMatch(
      /left behind by the down: index issues_owner = CREATE INDEX issues_owner ON issues USING btree \(status\)/,
    );
    expect(detail('0010_default.down.sql')).toMatch(
      /changed by up \+ down: column issues\.status: was text not null, now text not null default 'open'::text/,
    );
    expect(detail('0011_fails.down.sql')).toMatch(/table "sprint" does not exist/);
    expect(detail('0012_mood.sql')).toMatch(/type "mood" already exists/);
    expect(detail('0013_required.sql')).toMatch(/column "owner" of relation "projects" contains null values/);
    expect(detail('0014_cast.sql')).toMatch(/invalid input syntax for type integer: "seed-1"/);
    expect(report.checked).toContain('0007_votes.sql');
    expect(report.checked).toContain('0008_idx.sql');
    expect(await schemas()).toBe('0');
  });
});
