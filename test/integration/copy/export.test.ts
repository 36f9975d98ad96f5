import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import tar from 'tar-stream';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { listTables } from '../../../src/copy/tables.ts';
import { exportTenant } from '../../../src/copy/export.ts';
import { quoteIdent, quoteQualified } from '../../../src/db/quote.ts';
import { checksums, openTwoRegionFleet, seedKinds, typesMigrations, withDb } from './helpers.ts';

let eu: TestDatabase;
let us: TestDatabase;
let fleet: Fleet;

beforeAll(async () => {
  [eu, us] = await Promise.all([createTestDatabase('export_eu'), createTestDatabase('export_us')]);
  fleet = await openTwoRegionFleet(eu.url, us.url, { migrationsDir: typesMigrations(), actor: 'user:dpo' });
});
afterAll(async () => {
  await fleet?.close();
  await Promise.all([eu?.drop(), us?.drop()]);
});

async function readArchive(file: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => void chunks.push(c as Buffer));
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  createReadStream(file).pipe(createGunzip()).pipe(extract);
  await done;
  return files;
}

describe('export', () => {
  test('the archive holds one JSON Lines file per table and a manifest; importing it into an empty tenant gives the same checksums', async () => {
    await addTenants(fleet, ['exported', 'imported'], { region: 'eu' });
    await seedKinds(eu.url, 'exported', [
      {
        code: 'back\\slash "quoted"\n\ttab \u0001 ✓ 😀',
        parent: null,
        label: '\\x00 not bytes',
        payload: Buffer.from([0, 92, 255]),
        doc: { a: '\\', b: [1, null] },
        docb: { 'k\n': 'v\u0007' },
        tags: ['a', null, '{}', '"'],
        moods: ['ünïcödé ✓'],
        feeling: 'sad',
        at: new Date('2001-02-03T04:05:06.789Z'),
        amount: '-12345678901234567890.000001',
        ratio: -0.1,
      },
      {
        code: 'two',
        parent: 0,
        label: null,
        payload: null,
        doc: null,
        docb: null,
        tags: null,
        moods: null,
        feeling: null,
        at: null,
        amount: null,
        ratio: null,
      },
    ]);
    const out = path.join(tempDir('export'), 'exported.tar.gz');
    const manifest = await exportTenant(fleet, 'exported', out);
    expect(manifest).toMatchObject({ tenantId: 'exported', region: 'eu', migrationVersion: '0007_types', exportedBy: 'user:dpo' });
    const files = await readArchive(out);
    expect([...files.keys()].sort()).toEqual([...manifest.tables.map((t) => t.file), 'manifest.json'].sort());
    expect(JSON.parse(files.get('manifest.json')!)).toEqual(manifest);
    const kinds = files
      .get('kinds.jsonl')!
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(kinds[0]).toMatchObject({
      code: 'back\\slash "quoted"\n\ttab \u0001 ✓ 😀',
      docb: { 'k\n': 'v\u0007' },
      upper_code: 'BACK\\SLASH "QUOTED"\n\tTAB \u0001 ✓ 😀',
    });

    // Import: each file's rows into the empty tenant's table (generated columns recomputed).
    const schema = schemaNameFor('imported');
    await withDb(eu.url, async (c) => {
      await c.query('BEGIN');
      await c.query("SET LOCAL session_replication_role = 'replica'");
      for (const table of await listTables(c, schema)) {
        const cols = table.columns.map(quoteIdent).join(', ');
        const lines = files.get(`${table.name}.jsonl`)!.split('\n').filter(Boolean);
        await c.query(
          `INSERT INTO ${quoteQualified(schema, table.name)} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM json_populate_recordset(NULL::${quoteQualified(schema, table.name)}, $1::json)`,
          [`[${lines.join(',')}]`],
        );
      }
      await c.query('COMMIT');
    });
    const imported = await checksums(eu.url, 'imported');
    expect(imported).toEqual(manifest.tables.map((t) => ({ table: t.table, rows: t.rows, checksum: t.checksum })));
    expect(imported.find((t) => t.table === 'kinds')?.rows).toBe(2);
    const audit = await withDb(
      eu.url,
      async (c) =>
        (
          await c.query(
            `SELECT actor, details->>'file' AS file FROM fleet.audit_events WHERE tenant_id = 'exported' AND action = 'exported'`,
          )
        ).rows,
    );
    expect(audit).toEqual([{ actor: 'user:dpo', file: out }]);
  });
});
