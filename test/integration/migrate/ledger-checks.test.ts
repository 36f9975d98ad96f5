import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renameSync, appendFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';

const db = useTestDatabase('ledger');
let fleet: Fleet;
let dir: string;

async function ledgerCount(): Promise<number> {
  const { rows } = await fleet.regions[0]!.query<{ n: string }>('SELECT count(*) AS n FROM fleet.migrations');
  return Number(rows[0]!.n);
}

beforeAll(async () => {
  dir = migrationsCopy();
  fleet = await openTestFleet(db().url, { migrationsDir: dir });
  await addTenants(fleet, ['alpha', 'beta']);
  writeMigration(dir, '0007_pending.sql', 'CREATE TABLE pending_thing (id int);');
});
afterAll(async () => fleet?.close());

// Each case breaks the files, checks the run refuses before touching any tenant, then repairs.
describe('the run refuses before touching any tenant', () => {
  test('an applied migration whose file has changed', async () => {
    const file = path.join(dir, '0003_issue_links.sql');
    const backup = `${file}.bak`;
    copyFileSync(file, backup);
    appendFileSync(file, '\n-- an innocent-looking edit\n');
    const before = await ledgerCount();
    await expect(migrateFleet(fleet)).rejects.toMatchObject({
      code: 'LEDGER_MISMATCH',
      message: expect.stringContaining('0003_issue_links.sql was changed'),
    });
    expect(await ledgerCount()).toBe(before);
    renameSync(backup, file);
  });

  test('an applied migration whose file is gone', async () => {
    const file = path.join(dir, '0006_issue_labels_and_priority.sql');
    const down = path.join(dir, '0006_issue_labels_and_priority.down.sql');
    renameSync(file, `${file}.moved`);
    renameSync(down, `${down}.moved`);
    renameSync(path.join(dir, '0007_pending.sql'), path.join(dir, '0006_pending.sql'));
    const before = await ledgerCount();
    await expect(migrateFleet(fleet)).rejects.toMatchObject({
      code: 'LEDGER_MISMATCH',
      message: expect.stringContaining('0006_issue_labels_and_priority.sql is applied'),
    });
    expect(await ledgerCount()).toBe(before);
    renameSync(`${file}.moved`, file);
    renameSync(`${down}.moved`, down);
    renameSync(path.join(dir, '0006_pending.sql'), path.join(dir, '0007_pending.sql'));
  });

  test('two files with one number', async () => {
    writeMigration(dir, '0007_other.sql', 'CREATE TABLE other_thing (id int);');
    const before = await ledgerCount();
    await expect(migrateFleet(fleet)).rejects.toMatchObject({
      code: 'MIGRATION_FILES_INVALID',
      message: expect.stringMatching(/0007_other\.sql and 0007_pending\.sql|0007_pending\.sql and 0007_other\.sql/),
    });
    expect(await ledgerCount()).toBe(before);
    renameSync(path.join(dir, '0007_other.sql'), path.join(dir, '0008_other.sql'));
  });

  test('a gap in the numbering is allowed; files run in numeric order whatever the width', async () => {
    renameSync(path.join(dir, '0008_other.sql'), path.join(dir, '20260116093000_other.sql'));
    const dry = await migrateFleet(fleet, { dryRun: true });
    expect(dry.planned.map((p) => p.pending)).toEqual([
      ['0007_pending', '20260116093000_other'],
      ['0007_pending', '20260116093000_other'],
    ]);
    expect(await ledgerCount()).toBe(12);
    renameSync(path.join(dir, '20260116093000_other.sql'), path.join(dir, '0008_other.sql'));
  });

  test('once repaired, the run applies what is pending', async () => {
    const report = await migrateFleet(fleet);
    expect(report.ok).toBe(true);
    expect(report.summary.migrationsApplied).toBe(4);
  });
});
