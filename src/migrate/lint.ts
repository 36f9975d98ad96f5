import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FleetError } from '../errors.ts';
import { readMigrationFiles, type MigrationFile } from './migration-files.ts';

/**
 * squawk's rules that refuse a migration unless the file says `-- fleet:allow <rule>: <reason>`.
 * Each takes a lock (or breaks a running release) for as long as the statement runs, on every
 * tenant's table: a lock that costs 2 seconds on one big tenant costs hours of queued requests
 * across a fleet of 10,000. Why each matters: docs/notes/w11.md.
 */
export const ERROR_RULES: readonly string[] = [
  'require-concurrent-index-creation',
  'require-concurrent-index-deletion',
  'adding-required-field',
  'adding-not-nullable-field',
  'adding-field-with-default',
  'adding-foreign-key-constraint',
  'constraint-missing-not-valid',
  'disallowed-unique-constraint',
  'changing-column-type',
  'renaming-column',
  'renaming-table',
  'ban-drop-column',
  'ban-drop-table',
  'ban-drop-not-null',
  'ban-drop-database',
  'ban-truncate-cascade',
  'ban-concurrent-index-creation-in-transaction',
  'transaction-nesting',
  'ban-uncommitted-transaction',
  'require-concurrent-reindex',
  'require-concurrent-partition-detach',
  'syntax-error',
];

/**
 * Rules that do not fit per-tenant SQL: tenant migrations are written without schema names (the
 * runner sets the search_path), and the runner sets lock_timeout and statement_timeout itself.
 */
export const EXCLUDED_RULES: readonly string[] = ['require-table-schema', 'require-lock-timeout', 'require-statement-timeout'];

/** Dropping what the old release still reads is what a post-deploy migration is for. */
const POST_DEPLOY_ALLOWED = new Set(['ban-drop-column', 'ban-drop-table', 'ban-drop-not-null']);

export interface LintFinding {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly help?: string;
  /** Why the rule is allowed here (the file's `-- fleet:allow` reason, or the phase); the finding then does not refuse. */
  readonly allowed?: string;
}

export interface LintReport {
  /** No finding refuses the files. */
  readonly ok: boolean;
  readonly files: readonly string[];
  readonly findings: readonly LintFinding[];
}

export interface LintOptions {
  /** PostgreSQL major version the rules assume (the fleet's oldest engine). */
  readonly pgVersion?: number;
}

interface SquawkRow {
  file: string;
  line: number;
  column: number;
  message: string;
  help: string | null;
  rule_name: string;
}

/**
 * A file for migrations already applied somewhere, which cannot carry a new directive (their
 * checksum would change): `lint-allow.json` in the migrations directory,
 * `{ "0006_name": { "rule": "reason" } }`.
 */
function allowListOf(dir: string): Record<string, Record<string, string>> {
  const file = path.join(dir, 'lint-allow.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  } catch (error) {
    throw new FleetError(
      'MIGRATION_FILES_INVALID',
      `${file} is not valid JSON: ${(error as Error).message}; expected { "0006_name": { "rule": "reason" } }`,
    );
  }
}

function squawkBinary(): string {
  try {
    return createRequire(import.meta.url).resolve('squawk-cli/js/bin/squawk');
  } catch {
    throw new FleetError(
      'CONFIG_INVALID',
      'squawk is not installed (npm package squawk-cli with its platform binary @squawk-cli/<os>-<arch>); run npm ci, or skip the lint (--no-lint)',
    );
  }
}

function runSquawk(paths: readonly string[], inTransaction: boolean, pgVersion: number): Promise<SquawkRow[]> {
  if (paths.length === 0) return Promise.resolve([]);
  const args = [
    squawkBinary(),
    '--reporter',
    'json',
    `--pg-version=${pgVersion}.0`,
    `--exclude=${EXCLUDED_RULES.join(',')}`,
    ...(inTransaction ? ['--assume-in-transaction'] : []),
    ...paths,
  ];
  return new Promise((resolve, reject) => {
    // squawk exits 1 when it found something: the JSON on stdout is the answer either way.
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const text = stdout.trim();
      if (text.startsWith('[')) {
        resolve(JSON.parse(text) as SquawkRow[]);
        return;
      }
      if (!error && text === '') {
        resolve([]);
        return;
      }
      reject(new FleetError('MIGRATION_FILES_INVALID', `squawk failed on ${paths.join(', ')}: ${stderr.trim() || error?.message || text}`));
    });
  });
}

/**
 * Lint tenant migrations with squawk, the fleet's rules: files that run in a transaction are
 * linted as such (the runner wraps them), `-- fleet:no-transaction` files as they run, statement
 * by statement, where squawk's prefer-robust-stmts asks for the IF NOT EXISTS a rerun needs.
 */
export async function lintMigrations(files: readonly MigrationFile[], options: LintOptions = {}): Promise<LintReport> {
  const pgVersion = options.pgVersion ?? 15;
  const [inTx, outside] = await Promise.all([
    runSquawk(
      files.filter((f) => !f.noTransaction).map((f) => f.file),
      true,
      pgVersion,
    ),
    runSquawk(
      files.filter((f) => f.noTransaction).map((f) => f.file),
      false,
      pgVersion,
    ),
  ]);
  const byPath = new Map(files.map((f) => [path.resolve(f.file), f]));
  const allowLists = new Map<string, Record<string, Record<string, string>>>();
  const findings: LintFinding[] = [];
  for (const row of [...inTx, ...outside]) {
    const file = byPath.get(path.resolve(row.file));
    const dir = path.dirname(row.file);
    if (!allowLists.has(dir)) allowLists.set(dir, allowListOf(dir));
    const listed = file ? allowLists.get(dir)?.[file.name]?.[row.rule_name] : undefined;
    const allowed =
      file?.allow.get(row.rule_name) ??
      listed ??
      (file?.phase === 'post-deploy' && POST_DEPLOY_ALLOWED.has(row.rule_name)
        ? 'a post-deploy migration: the release that read it is gone'
        : undefined);
    findings.push({
      file: row.file,
      line: row.line + 1,
      column: row.column + 1,
      rule: row.rule_name,
      severity: ERROR_RULES.includes(row.rule_name) ? 'error' : 'warning',
      message: row.message,
      ...(row.help ? { help: row.help } : {}),
      ...(allowed !== undefined ? { allowed } : {}),
    });
  }
  findings.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  return { ok: !findings.some((f) => f.severity === 'error' && f.allowed === undefined), files: files.map((f) => f.file), findings };
}

/** The refusal of a run whose files break an error rule, naming each finding and the way to allow it. */
export function lintRefusal(report: LintReport): FleetError {
  const blocking = report.findings.filter((f) => f.severity === 'error' && f.allowed === undefined);
  return new FleetError(
    'MIGRATION_FILES_INVALID',
    `the migrations about to be applied break the fleet's lint rules; nothing was touched. Fix each, or allow it in the file with a line "-- fleet:allow <rule>: <reason>" before the first statement (the CLI's --no-lint skips the lint altogether):`,
    blocking.map((f) => `${f.file}:${f.line}: ${f.rule}: ${f.message}${f.help ? ` (${f.help})` : ''}`),
  );
}

/**
 * Lint files of a migrations directory without a database: the named ones (paths to up files of
 * `dir`), or every up file. Each is read as the runner reads it, so its directives count.
 */
export async function lintMigrationPaths(dir: string, paths: readonly string[] = [], options: LintOptions = {}): Promise<LintReport> {
  const files = readMigrationFiles(dir);
  if (paths.length === 0) return lintMigrations(files, options);
  const byPath = new Map(files.map((f) => [path.resolve(f.file), f]));
  const chosen = paths.map((p) => byPath.get(path.resolve(p)));
  const unknown = paths.filter((_, i) => chosen[i] === undefined);
  if (unknown.length > 0) {
    throw new FleetError(
      'INPUT_INVALID',
      `not an up migration file of ${dir} (the migrations directory; --migrations-dir moves it):`,
      unknown,
    );
  }
  return lintMigrations(chosen as MigrationFile[], options);
}
