import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { readMigrationFiles, checksumOf } from '../../../src/migrate/migration-files.ts';
import { DEFAULT_MIGRATIONS_DIR } from '../../../src/fleet.ts';
import { splitStatements } from '../../../src/db/split-statements.ts';
import { tempDir } from '../../integration/helpers/temp-dir.ts';
import { inShard, parseShard } from '../../../src/migrate/shard.ts';

function dirWith(files: Record<string, string>): string {
  const dir = tempDir('files');
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
  return dir;
}

describe('migration files', () => {
  test('the starter set: at least 5 files, numbered 0001 on, each with a down file, one altering an earlier table', () => {
    const files = readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(files.map((f) => f.number)).toEqual(files.map((_, i) => i + 1));
    expect(files.every((f) => f.down)).toBe(true);
    expect(files.some((f) => /ALTER TABLE issues/i.test(f.sql))).toBe(true);
    // Written without schema names: they run with search_path set to the tenant's schema.
    expect(files.every((f) => !/\b(public|fleet|t_[a-z0-9_]+)\./.test(f.sql))).toBe(true);
  });

  test('checksums ignore line endings but nothing else', () => {
    expect(checksumOf('a;\r\nb;')).toBe(checksumOf('a;\nb;'));
    expect(checksumOf('a;')).not.toBe(checksumOf('a; '));
  });

  test('a first line -- fleet:no-transaction opts out of the transaction', () => {
    const files = readMigrationFiles(
      dirWith({
        '0001_a.sql': '-- fleet:no-transaction\nCREATE INDEX CONCURRENTLY x ON y (z);',
        '0002_b.sql': 'SELECT 1; -- fleet:no-transaction',
      }),
    );
    expect(files.map((f) => f.noTransaction)).toEqual([true, false]);
  });

  test('bad names, duplicate versions (of any width) and orphan down files are all reported together', () => {
    const dir = dirWith({
      '0001_a.sql': '',
      '0001_b.sql': '',
      '0003_c.sql': '',
      '0007_x.sql': '',
      '7_y.sql': '',
      '0004_d.down.sql': '',
      'add-users.sql': '',
      'README.md': '',
    });
    try {
      readMigrationFiles(dir);
      expect.unreachable();
    } catch (error) {
      const problems = (error as { problems: string[] }).problems.join('\n');
      expect(problems).toContain('add-users.sql: a migration file is named VERSION_name.sql');
      expect(problems).toContain('0001_a.sql and 0001_b.sql: two files with version 1');
      expect(problems).toContain('0007_x.sql and 7_y.sql: two files with version 7');
      expect(problems).toContain('0004_d.down.sql: a down file without its up file');
      expect(problems).not.toContain('0003_c.sql');
    }
  });

  test('versions of any width, with gaps, run in numeric order', () => {
    const files = readMigrationFiles(
      dirWith({ '20260116093000_c.sql': 'SELECT 3;', '0007_a.sql': 'SELECT 1;', '10_b.sql': 'SELECT 2;', '9_z.sql': 'SELECT 0;' }),
    );
    expect(files.map((f) => f.name)).toEqual(['0007_a', '9_z', '10_b', '20260116093000_c']);
    expect(files.map((f) => f.number)).toEqual([7, 9, 10, 20260116093000]);
  });

  test('directives in the leading comments: phase, allow, no-transaction; an unknown one is refused', () => {
    const files = readMigrationFiles(
      dirWith({
        '0001_a.sql':
          '-- drops the old column\n-- fleet:phase post-deploy\n-- fleet:allow ban-drop-column: the release before stopped reading it\nALTER TABLE t DROP COLUMN c;',
        '0002_b.sql':
          '-- fleet:phase pre-deploy\n-- fleet:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);\n-- fleet:phase post-deploy',
      }),
    );
    expect(files.map((f) => [f.phase, f.noTransaction])).toEqual([
      ['post-deploy', false],
      ['pre-deploy', true],
    ]);
    expect(files[0]?.allow.get('ban-drop-column')).toBe('the release before stopped reading it');
    expect(() => readMigrationFiles(dirWith({ '0001_a.sql': '-- fleet:phase postdeploy\nSELECT 1;' }))).toThrow(/problem/);
    try {
      readMigrationFiles(dirWith({ '0001_a.sql': '-- fleet:phase postdeploy\nSELECT 1;' }));
    } catch (error) {
      expect((error as { problems: string[] }).problems.join('\n')).toContain(
        '0001_a.sql: unknown or malformed directive "-- fleet:phase postdeploy"',
      );
    }
  });

  test('CREATE EXTENSION is taken out of what runs, the checksum still covers the file as written; DROP EXTENSION is refused', () => {
    const source =
      'CREATE EXTENSION IF NOT EXISTS pg_trgm;\ncreate extension "btree_gin" with schema public;\nCREATE TABLE t (x text);\nCREATE INDEX t_x ON t USING gin (x gin_trgm_ops);\n';
    const [file] = readMigrationFiles(
      dirWith({ '0001_a.sql': source, '0001_a.down.sql': 'DROP INDEX t_x; DROP TABLE t; DROP EXTENSION IF EXISTS pg_trgm;' }),
    );
    expect(file?.extensions).toEqual(['pg_trgm', 'btree_gin']);
    expect(file?.sql).not.toMatch(/extension/i);
    expect(file?.sql).toContain('gin_trgm_ops');
    expect(file?.checksum).toBe(checksumOf(source));
    expect(file?.down?.sql).not.toMatch(/extension/i);
    const plain = readMigrationFiles(dirWith({ '0001_a.sql': '-- keeps comments\nSELECT 1;' }))[0];
    expect(plain?.sql).toBe('-- keeps comments\nSELECT 1;');
    try {
      readMigrationFiles(
        dirWith({
          '0001_a.sql': 'DROP EXTENSION pg_trgm CASCADE;',
          '0002_b.sql': 'SELECT 1;',
          '0002_b.down.sql': 'DROP EXTENSION hstore;',
        }),
      );
      expect.unreachable();
    } catch (error) {
      const problems = (error as { problems: string[] }).problems.join('\n');
      expect(problems).toContain('0001_a.sql: DROP EXTENSION pg_trgm in a tenant migration');
      expect(problems).toContain('0002_b.down.sql: DROP EXTENSION hstore in a tenant migration');
    }
  });
});

describe('statement splitting for no-transaction files', () => {
  test('splits on semicolons outside quotes, dollar quotes and comments', () => {
    const sql = `CREATE INDEX CONCURRENTLY a ON t (x); -- a comment; with a semicolon
/* block; comment */ CREATE INDEX CONCURRENTLY b ON t ((';'));
DO $body$ BEGIN PERFORM 1; END $body$;
SELECT 'it''s; fine';`;
    expect(splitStatements(sql)).toEqual([
      'CREATE INDEX CONCURRENTLY a ON t (x)',
      "CREATE INDEX CONCURRENTLY b ON t ((';'))",
      'DO $body$ BEGIN PERFORM 1; END $body$',
      "SELECT 'it''s; fine'",
    ]);
  });
});

describe('shard i/n', () => {
  test('parses and refuses bad values', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1', '-1/2']) expect(() => parseShard(bad)).toThrow(/^shard ".*" is not i\/n/);
  });

  test('every tenant lands in exactly one shard, and shards are balanced', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `tenant-${i}`);
    const counts = [1, 2, 3, 4].map((index) => ids.filter((id) => inShard(id, { index, count: 4 })).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(ids.length);
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
