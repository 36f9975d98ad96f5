import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { PACKAGE_ROOT } from '../config/load.ts';
import { FleetError } from '../errors.ts';
import { withTransaction } from './scoped.ts';
import { SQLSTATE, sqlStateOf } from './sqlstate.ts';
import { ensureExtensions } from './extensions.ts';

/** The control schema's own migrations, applied when the runner connects to a region. */
export const CONTROL_MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations', 'control');

interface ControlMigration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

let cached: ControlMigration[] | undefined;

function readControlMigrations(): ControlMigration[] {
  cached ??= readdirSync(CONTROL_MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(path.join(CONTROL_MIGRATIONS_DIR, file), 'utf8');
      return { name: file.slice(0, -4), sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
  return cached;
}

// Arbitrary but fixed: serializes control-schema upgrades across runners on one database.
const CONTROL_LOCK_KEY = 7_345_120_001;

/**
 * Bring the control schema up to date. The common case (nothing to do) costs one query; the
 * upgrade itself runs under a transaction-level advisory lock, so concurrent runners wait for the
 * first one and then find nothing to do. A control migration whose file no longer matches the
 * checksum recorded when it was applied is refused (LEDGER_MISMATCH) before anything changes.
 * Then the fleet's extensions, in their shared schema (src/db/extensions.ts).
 */
export async function ensureControlSchema(client: pg.ClientBase, extensions: readonly string[] = []): Promise<void> {
  await upgradeControlSchema(client);
  await ensureExtensions(client, extensions);
}

async function upgradeControlSchema(client: pg.ClientBase): Promise<void> {
  const migrations = readControlMigrations();
  // Compare the applied set, not just the newest name: a database may hold a later control
  // migration and lack an earlier one (branches merged out of order), which must still be applied.
  let applied: readonly { name: string; checksum: string }[] = [];
  try {
    ({ rows: applied } = await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM fleet.control_migrations'));
  } catch (error) {
    // A database the fleet has never seen: no schema or no table yet.
    const code = sqlStateOf(error);
    if (code !== SQLSTATE.INVALID_SCHEMA_NAME && code !== SQLSTATE.UNDEFINED_TABLE) throw error;
  }
  const files = new Map(migrations.map((m) => [m.name, m]));
  const changed = applied.filter((row) => files.has(row.name) && files.get(row.name)?.checksum !== row.checksum);
  if (changed.length > 0) {
    throw new FleetError(
      'LEDGER_MISMATCH',
      `control migrations of ${CONTROL_MIGRATIONS_DIR} differ from what this database applied; control migrations are never edited once applied: restore the file and add a new migration instead:`,
      changed.map(
        (row) =>
          `${row.name}.sql: checksum ${files.get(row.name)?.checksum.slice(0, 12)} differs from the applied ${row.checksum.slice(0, 12)}`,
      ),
    );
  }
  const have = new Set(applied.map((row) => row.name));
  if (migrations.every((m) => have.has(m.name))) return;

  await withTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CONTROL_LOCK_KEY]);
    await client.query('CREATE SCHEMA IF NOT EXISTS fleet');
    await client.query(
      `CREATE TABLE IF NOT EXISTS fleet.control_migrations (
         name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const applied = await client.query<{ name: string }>('SELECT name FROM fleet.control_migrations');
    const done = new Set(applied.rows.map((r) => r.name));
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO fleet.control_migrations (name, checksum) VALUES ($1, $2)', [migration.name, migration.checksum]);
    }
  });
}
