import { writeFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { FleetError } from '../errors.ts';
import { readMigrationFiles } from './migration-files.ts';

export interface NewMigration {
  readonly name: string;
  readonly file: string;
  readonly downFile?: string;
}

/** Write the next numbered migration file (and its down file when asked) into dir. */
export function createMigrationFile(dir: string, rawName: string, options: { down?: boolean; noTransaction?: boolean } = {}): NewMigration {
  // The name is the ledger's key for ever: refused, never silently reshaped into another one.
  const slug = rawName;
  if (!/^[a-z0-9_]{1,50}$/.test(slug)) {
    const suggestion = rawName
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_');
    const hint = /^[a-z0-9_]{1,50}$/.test(suggestion) ? `; did you mean ${suggestion}?` : ', e.g. add_issue_labels';
    throw new FleetError(
      'INPUT_INVALID',
      `migration name ${JSON.stringify(rawName)} must be 1-50 characters of a-z, 0-9 and _, exactly as the file will be named${hint}`,
    );
  }
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const files = readMigrationFiles(dir);
  // The next version after the newest, in the newest's width (0007 after 0006, a timestamp + 1
  // after a timestamp): gaps are allowed, so this never collides with an existing file.
  const newest = files.at(-1);
  const width = newest ? Math.max(4, (/^\d+/.exec(newest.name)?.[0] ?? '').length) : 4;
  const name = `${String((newest?.number ?? 0) + 1).padStart(width, '0')}_${slug}`;
  const file = path.join(dir, `${name}.sql`);
  const header = options.noTransaction
    ? '-- fleet:no-transaction\n-- Runs outside a transaction, statement by statement: keep it idempotent (IF NOT EXISTS),\n-- a crash before the ledger row is written means it runs again.\n'
    : '-- Runs in one transaction with its ledger row, with search_path set to the tenant schema:\n-- write no schema names.\n';
  writeFileSync(file, `${header}\n`, { flag: 'wx' });
  if (!options.down) return { name, file };
  const downFile = path.join(dir, `${name}.down.sql`);
  writeFileSync(downFile, `-- Reverts ${name}.\n\n`, { flag: 'wx' });
  return { name, file, downFile };
}
