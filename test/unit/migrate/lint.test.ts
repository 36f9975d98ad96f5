import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { lintMigrationPaths, lintMigrations } from '../../../src/migrate/lint.ts';
import { readMigrationFiles } from '../../../src/migrate/migration-files.ts';
import { DEFAULT_MIGRATIONS_DIR } from '../../../src/fleet.ts';
import { tempDir } from '../../integration/helpers/temp-dir.ts';

function dirWith(files: Record<string, string>): string {
  const dir = tempDir('lint');
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
  return dir;
}

const BASE = 'CREATE TABLE issues (id bigint PRIMARY KEY, summary text NOT NULL, status text);\n';

describe('fleet migration lint (squawk, the fleet rules)', () => {
  test('refuses an index built without CONCURRENTLY on an existing table, ADD COLUMN NOT NULL without default, a column rename', async () => {
    const dir = dirWith({
      '0001_base.sql': BASE,
      '0002_index.sql': 'CREATE INDEX issues_status ON issues (status);\n',
      '0003_required.sql': 'ALTER TABLE issues ADD COLUMN owner text NOT NULL;\n',
      '0004_rename.sql': 'ALTER TABLE issues RENAME COLUMN summary TO title;\n',
    });
    const report = await lintMigrations(readMigrationFiles(dir));
    expect(report.ok).toBe(false);
    const errors = report.findings.filter((f) => f.severity === 'error' && !f.allowed).map((f) => [path.basename(f.file), f.rule, f.line]);
    expect(errors).toEqual([
      ['0002_index.sql', 'require-concurrent-index-creation', 1],
      ['0003_required.sql', 'adding-required-field', 1],
      ['0004_rename.sql', 'renaming-column', 1],
    ]);
    // Tenant migrations carry no schema names, and the runner sets the timeouts itself.
    expect(report.findings.map((f) => f.rule)).not.toContain('require-table-schema');
    expect(report.findings.map((f) => f.rule)).not.toContain('require-lock-timeout');
  });

  test('the safe forms pass: CONCURRENTLY in a no-transaction file with IF NOT EXISTS, a nullable column, an index on a table of the same file', async () => {
    const dir = dirWith({
      '0001_base.sql': BASE,
      '0002_index.sql': '-- fleet:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS issues_status ON issues (status);\n',
      '0003_optional.sql': 'ALTER TABLE issues ADD COLUMN owner text;\n',
    });
    const report = await lintMigrations(readMigrationFiles(dir));
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.ok).toBe(true);
  });

  test('-- fleet:allow <rule>: <reason> allows that rule in that file only; a post-deploy file may drop a column', async () => {
    const dir = dirWith({
      '0001_base.sql': BASE,
      '0002_index.sql':
        '-- fleet:allow require-concurrent-index-creation: issues holds at most 20 rows per tenant\nCREATE INDEX issues_status ON issues (status);\n',
      '0003_rename.sql':
        '-- fleet:allow require-concurrent-index-creation: not the rule this file breaks\nALTER TABLE issues RENAME COLUMN summary TO title;\n',
      '0004_drop.sql': '-- fleet:phase post-deploy\nALTER TABLE issues DROP COLUMN status;\n',
      '0005_drop_early.sql': 'ALTER TABLE issues DROP COLUMN owner;\n',
    });
    const report = await lintMigrations(readMigrationFiles(dir));
    const rules = (file: string) => report.findings.filter((f) => path.basename(f.file) === file && f.severity === 'error');
    expect(rules('0002_index.sql').map((f) => f.allowed)).toEqual(['issues holds at most 20 rows per tenant']);
    expect(rules('0003_rename.sql').map((f) => [f.rule, f.allowed])).toEqual([['renaming-column', undefined]]);
    expect(rules('0004_drop.sql').map((f) => f.allowed)).toEqual([expect.stringContaining('post-deploy')]);
    expect(rules('0005_drop_early.sql').map((f) => [f.rule, f.allowed])).toEqual([['ban-drop-column', undefined]]);
    expect(report.ok).toBe(false);
  });

  test("the project's own migrations pass (the applied 0006 through lint-allow.json)", async () => {
    const report = await lintMigrationPaths(DEFAULT_MIGRATIONS_DIR);
    expect(report.ok).toBe(true);
    expect(report.findings.find((f) => f.rule === 'require-concurrent-index-creation')?.allowed).toMatch(
      /applied to fleets before the lint existed/,
    );
  });
});
