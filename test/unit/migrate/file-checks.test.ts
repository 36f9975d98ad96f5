import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { readMigrationFiles } from '../../../src/migrate/migration-files.ts';
import { checkExtensions, checkOutOfOrder } from '../../../src/migrate/file-checks.ts';
import { cutAtPhase, pendingFor, type RegionState, type TenantState } from '../../../src/migrate/plan.ts';
import { tempDir } from '../../integration/helpers/temp-dir.ts';

function filesOf(files: Record<string, string>) {
  const dir = tempDir('checks');
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
  return readMigrationFiles(dir);
}

const tenant = (id: string, applied: string[]): TenantState => ({ id, region: 'local', schema: `t_${id}`, status: 'active', applied });
const region = (tenants: TenantState[]): RegionState => ({
  region: 'local',
  tenants,
  checksums: new Map(tenants.flatMap((t) => t.applied).map((n) => [n, ['x']])),
});

function problemsOf(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    return `${(error as Error).message}\n${((error as { problems?: string[] }).problems ?? []).join('\n')}`;
  }
  throw new Error('expected a refusal');
}

describe('extensions in tenant migrations', () => {
  test('a listed extension passes; an unlisted one is refused naming the file, the extension and the fix', () => {
    const files = filesOf({ '0001_a.sql': 'CREATE EXTENSION IF NOT EXISTS pg_trgm;', '0002_b.sql': 'CREATE EXTENSION hstore;' });
    expect(() => checkExtensions(files.slice(0, 1), ['pg_trgm'])).not.toThrow();
    const text = problemsOf(() => checkExtensions(files, ['pg_trgm']));
    expect(text).toContain('0002_b.sql: CREATE EXTENSION hstore');
    expect(text).toContain('add "hstore" to "extensions"');
    expect(text).not.toContain('0001_a.sql');
  });
});

describe('out-of-order versions', () => {
  const files = filesOf({
    '0001_a.sql': 'SELECT 1;',
    '0002_late.sql': 'SELECT 1;',
    '20260116093000_b.sql': 'SELECT 1;',
    '20260117000000_c.sql': 'SELECT 1;',
  });

  test('a new file sorting before the newest applied one is refused, naming the file and a tenant', () => {
    const text = problemsOf(() =>
      checkOutOfOrder([region([tenant('acme', ['0001_a', '20260116093000_b']), tenant('globex', ['0001_a'])])], files),
    );
    expect(text).toContain('0002_late.sql: version 2 is older than 20260116093000_b, applied to tenant acme');
    expect(text).toContain('allowOutOfOrder');
    expect(text).not.toContain('20260117000000_c');
  });

  test('files lagging tenants still need but others applied are not out of order; a new fleet has no order to break', () => {
    const lagging = [region([tenant('acme', ['0001_a', '0002_late', '20260116093000_b']), tenant('globex', ['0001_a'])])];
    expect(() => checkOutOfOrder(lagging, files)).not.toThrow();
    expect(() => checkOutOfOrder([region([tenant('acme', [])])], files)).not.toThrow();
  });
});

describe('phases', () => {
  const files = filesOf({
    '0001_a.sql': 'SELECT 1;',
    '0002_drop.sql': '-- fleet:phase post-deploy\nSELECT 1;',
    '0003_b.sql': 'SELECT 1;',
    '0004_c.sql': '-- fleet:phase post-deploy\nSELECT 1;',
  });

  test('pre-deploy stops before the first pending post-deploy migration; post-deploy and no phase apply the rest', () => {
    const fresh = tenant('acme', []);
    expect(pendingFor(fresh, files, undefined, 'pre-deploy').map((f) => f.name)).toEqual(['0001_a']);
    expect(pendingFor(fresh, files, undefined, 'post-deploy').map((f) => f.name)).toEqual(['0001_a', '0002_drop', '0003_b', '0004_c']);
    expect(pendingFor(fresh, files).length).toBe(4);
    const past = tenant('acme', ['0001_a', '0002_drop']);
    expect(pendingFor(past, files, undefined, 'pre-deploy').map((f) => f.name)).toEqual(['0003_b']);
    expect(cutAtPhase([], 'pre-deploy')).toEqual([]);
  });
});
