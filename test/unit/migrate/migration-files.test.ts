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
  test('the starter set: at least 5 files, numbered without gaps, each with a down file, one altering an earlier table', () => {
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
    const files = readMigrationFiles(dirWith({ '0001_a.sql': '-- fleet:no-transaction\nCREATE INDEX CONCURRENTLY x ON y (z);', '0002_b.sql': 'SELECT 1; -- fleet:no-transaction' }));
    expect(files.map((f) => f.noTransaction)).toEqual([true, false]);
  });

  test('bad names, duplicate numbers, gaps and orphan down files are all reported together', () => {
    const dir = dirWith({
      '0001_a.sql': '',
      '0001_b.sql': '',
      '0003_c.sql': '',
      '0004_d.down.sql': '',
      'add-users.sql': '',
      'README.md': '',
    });
    try {
      readMigrationFiles(dir);
      expect.unreachable();
    } catch (error) {
      const problems = (error as { problems: string[] }).problems.join('\n');
      expect(problems).toContain('add-users.sql: a migration file is named NNNN_name.sql');
      expect(problems).toContain('0001_a.sql and 0001_b.sql: two files with number 0001');
      expect(problems).toContain('expected 0002, found 0003_c.sql');
      expect(problems).toContain('0004_d.down.sql: a down file without its up file');
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
