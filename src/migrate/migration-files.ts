import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FleetError } from '../errors.ts';
import { parseDirectives, type MigrationPhase } from './directives.ts';
import { extensionStatements } from './extension-statements.ts';

export type { MigrationPhase } from './directives.ts';

/** One tenant migration as read from disk, once per run. */
export interface MigrationFile {
  /** The file name without `.sql`, e.g. `0003_comments`: the ledger's key. */
  readonly name: string;
  /** The leading number of the file name, of any width (`0007`, `20260116093000`): files run in its numeric order. */
  readonly number: number;
  readonly file: string;
  /**
   * What runs: the file's text, except that `CREATE EXTENSION` statements are taken out (the
   * fleet installs extensions once per database in the shared schema, see src/db/extensions.ts).
   */
  readonly sql: string;
  /** The file's text as written: what the checksum covers and the ledger keeps. */
  readonly source: string;
  /** sha256 of the up file, line endings normalised, so a checkout on another OS matches. */
  readonly checksum: string;
  /** Runs outside a transaction (`-- fleet:no-transaction` in the leading comments). */
  readonly noTransaction: boolean;
  /** `-- fleet:phase post-deploy` marks a migration that may only run after the new release is deployed. */
  readonly phase: MigrationPhase;
  /** Lint rules this file is allowed to break (`-- fleet:allow <rule>: <reason>`), with the reason. */
  readonly allow: ReadonlyMap<string, string>;
  /** Extensions the file's `CREATE EXTENSION` statements name (taken out of `sql`). */
  readonly extensions: readonly string[];
  readonly down?: { readonly file: string; readonly sql: string; readonly source: string; readonly noTransaction: boolean };
}

const UP = /^(\d+)_([a-z0-9_]+)\.sql$/;
const DOWN = /^(\d+)_([a-z0-9_]+)\.down\.sql$/;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replaceAll('\r\n', '\n')).digest('hex');
}

/** Order of two migration versions: numeric, so `0007` < `20260116093000` and `9` < `10`. */
export function compareVersions(a: MigrationFile, b: MigrationFile): number {
  return a.number - b.number;
}

interface Entry {
  readonly file: string;
  readonly version: number;
}

function readText(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8');
}

/**
 * Read and check the migration directory. Refuses (before any database is touched) a file name
 * that does not follow NNNN_name.sql, two files with one version, a down file without its up
 * file, an unknown `-- fleet:` directive and `DROP EXTENSION` in an up file; every problem is
 * reported together. Versions may have any width and gaps; files run in numeric order.
 */
export function readMigrationFiles(dir: string): MigrationFile[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    throw new FleetError('MIGRATION_FILES_INVALID', `cannot read the migrations directory ${dir}: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const ups = new Map<number, Entry[]>();
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
      problems.push(
        `${entry}: a migration file is named VERSION_name.sql (a leading number of any width, then lowercase a-z, 0-9, _), e.g. 0007_add_labels.sql or 20260116093000_add_labels.sql`,
      );
      continue;
    }
    const version = Number(up[1]);
    if (!Number.isSafeInteger(version)) {
      problems.push(`${entry}: version ${up[1]} has more than 15 digits; use at most a timestamp such as 20260116093000`);
      continue;
    }
    ups.set(version, [...(ups.get(version) ?? []), { file: entry, version }]);
  }
  const versions = [...ups.keys()].sort((a, b) => a - b);
  for (const v of versions) {
    const files = ups.get(v) ?? [];
    if (files.length > 1) problems.push(`${files.map((f) => f.file).join(' and ')}: two files with version ${v}; renumber one`);
  }
  const upNames = new Set([...ups.values()].flat().map((f) => f.file.slice(0, -4)));
  for (const [name, file] of downs) {
    if (!upNames.has(name)) problems.push(`${file}: a down file without its up file ${name}.sql`);
  }
  const result: MigrationFile[] = [];
  for (const v of versions) {
    const entry = (ups.get(v) ?? [])[0] as Entry;
    const name = entry.file.slice(0, -4);
    const source = readText(dir, entry.file);
    const directives = parseDirectives(source);
    for (const p of directives.problems) problems.push(`${entry.file}: ${p}`);
    const ext = extensionStatements(source);
    for (const dropped of ext.dropped) {
      problems.push(
        `${entry.file}: DROP EXTENSION ${dropped} in a tenant migration; extensions are shared by every tenant of the database and listed in the fleet description's "extensions": remove the statement`,
      );
    }
    const downFile = downs.get(name);
    let down: MigrationFile['down'];
    if (downFile) {
      const downSource = readText(dir, downFile);
      const downDirectives = parseDirectives(downSource);
      for (const p of downDirectives.problems) problems.push(`${downFile}: ${p}`);
      // The inverse of a CREATE EXTENSION that is a no-op here is a no-op too: a down file's
      // DROP EXTENSION of an extension its up file creates is taken out, any other is refused.
      const downExt = extensionStatements(downSource);
      for (const dropped of downExt.dropped.filter((x) => !ext.created.includes(x))) {
        problems.push(
          `${downFile}: DROP EXTENSION ${dropped} in a tenant migration; extensions are shared by every tenant of the database: remove the statement`,
        );
      }
      down = { file: path.join(dir, downFile), sql: downExt.sql, source: downSource, noTransaction: downDirectives.noTransaction };
    }
    result.push({
      name,
      number: v,
      file: path.join(dir, entry.file),
      sql: ext.sql,
      source,
      checksum: checksumOf(source),
      noTransaction: directives.noTransaction,
      phase: directives.phase,
      allow: directives.allow,
      extensions: ext.created,
      ...(down ? { down } : {}),
    });
  }
  if (problems.length > 0) {
    throw new FleetError(
      'MIGRATION_FILES_INVALID',
      `the migration files in ${dir} have ${problems.length} problem(s); nothing was touched:`,
      problems,
    );
  }
  return result;
}

/** SQL with its comments and blank space removed: empty for a template `migration new` wrote. */
function withoutComments(sql: string): string {
  return sql
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/--[^\n]*/g, '')
    .trim();
}

/** Refuses to apply a migration that holds no SQL (an unfilled template), naming each such file. */
export function assertMigrationsHoldSql(files: readonly MigrationFile[], names: ReadonlySet<string>): void {
  const empty = files
    .filter((f) => names.has(f.name) && withoutComments(f.sql) === '')
    .map((f) => `${f.file}: only comments or nothing; write its SQL (or delete the file) before migrating`);
  if (empty.length > 0)
    throw new FleetError('MIGRATION_FILES_INVALID', `${empty.length} migration(s) to apply hold no SQL; nothing was touched:`, empty);
}
