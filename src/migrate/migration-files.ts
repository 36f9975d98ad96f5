import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FleetError } from '../errors.ts';

/** One tenant migration as read from disk, once per run. */
export interface MigrationFile {
  /** The file name without `.sql`, e.g. `0003_comments`: the ledger's key. */
  readonly name: string;
  readonly number: number;
  readonly file: string;
  readonly sql: string;
  /** sha256 of the up file, line endings normalised, so a checkout on another OS matches. */
  readonly checksum: string;
  /** Runs outside a transaction (`-- fleet:no-transaction` as first line). */
  readonly noTransaction: boolean;
  readonly down?: { readonly file: string; readonly sql: string; readonly noTransaction: boolean };
}

const UP = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const DOWN = /^(\d{4})_([a-z0-9_]+)\.down\.sql$/;
const NO_TRANSACTION = /^--\s*fleet:no-transaction\s*$/;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replaceAll('\r\n', '\n')).digest('hex');
}

function isNoTransaction(sql: string): boolean {
  const firstLine = sql.split('\n', 1)[0] ?? '';
  return NO_TRANSACTION.test(firstLine.trim());
}

/**
 * Read and check the migration directory. Refuses (before any database is touched) a file name
 * that does not follow NNNN_name.sql, two files with one number, a gap in the numbering, and a
 * down file without its up file; every problem is reported together.
 */
export function readMigrationFiles(dir: string): MigrationFile[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    throw new FleetError('MIGRATION_FILES_INVALID', `cannot read the migrations directory ${dir}: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const ups = new Map<number, string[]>();
  const downs = new Map<string, string>();
  for (const entry of entries.sort()) {
    if (!entry.endsWith('.sql')) continue;
    const down = DOWN.exec(entry);
    if (down) {
      downs.set(`${down[1]}_${down[2]}`, entry);
      continue;
    }
    const up = UP.exec(entry);
    if (!up) {
      problems.push(`${entry}: a migration file is named NNNN_name.sql (4 digits, lowercase a-z, 0-9, _), e.g. 0007_add_labels.sql`);
      continue;
    }
    const n = Number(up[1]);
    ups.set(n, [...(ups.get(n) ?? []), entry]);
  }
  const numbers = [...ups.keys()].sort((a, b) => a - b);
  for (const n of numbers) {
    const files = ups.get(n) ?? [];
    if (files.length > 1) problems.push(`${files.join(' and ')}: two files with number ${String(n).padStart(4, '0')}; renumber one`);
  }
  numbers.forEach((n, i) => {
    if (n !== i + 1) {
      const expected = String(i + 1).padStart(4, '0');
      if (!problems.some((p) => p.startsWith('gap'))) {
        problems.push(`gap in the numbering: expected ${expected}, found ${ups.get(n)?.[0]}; number migrations 0001, 0002, ... without gaps`);
      }
    }
  });
  const upNames = new Set([...ups.values()].flat().map((f) => f.slice(0, -4)));
  for (const [name, file] of downs) {
    if (!upNames.has(name)) problems.push(`${file}: a down file without its up file ${name}.sql`);
  }
  if (problems.length > 0) {
    throw new FleetError('MIGRATION_FILES_INVALID', `the migration files in ${dir} have ${problems.length} problem(s); nothing was touched:`, problems);
  }
  return numbers.map((n) => {
    const file = (ups.get(n) ?? [])[0] as string;
    const name = file.slice(0, -4);
    const sql = readFileSync(path.join(dir, file), 'utf8');
    const downFile = downs.get(name);
    const downSql = downFile ? readFileSync(path.join(dir, downFile), 'utf8') : undefined;
    return {
      name,
      number: n,
      file: path.join(dir, file),
      sql,
      checksum: checksumOf(sql),
      noTransaction: isNoTransaction(sql),
      ...(downFile && downSql !== undefined
        ? { down: { file: path.join(dir, downFile), sql: downSql, noTransaction: isNoTransaction(downSql) } }
        : {}),
    };
  });
}

/** SQL with its comments and blank space removed: empty for a template `migration new` wrote. */
function withoutComments(sql: string): string {
  return sql.replace(/\/\*[\s\S]*?\*\//g, '').replace(/--[^\n]*/g, '').trim();
}

/** Refuses to apply a migration that holds no SQL (an unfilled template), naming each such file. */
export function assertMigrationsHoldSql(files: readonly MigrationFile[], names: ReadonlySet<string>): void {
  const empty = files.filter((f) => names.has(f.name) && withoutComments(f.sql) === '').map((f) => `${f.file}: only comments or nothing; write its SQL (or delete the file) before migrating`);
  if (empty.length > 0) throw new FleetError('MIGRATION_FILES_INVALID', `${empty.length} migration(s) to apply hold no SQL; nothing was touched:`, empty);
}
