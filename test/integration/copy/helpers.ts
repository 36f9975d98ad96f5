/**
 * A two-region fleet (eu, us) on two databases of the test server, with the starter migrations
 * and one more that uses every column type a copy must carry.
 */
import pg from 'pg';
import { openFleet, type Fleet } from '../../../src/fleet.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import type { Clock } from '../../../src/clock.ts';
import { listTables } from '../../../src/copy/tables.ts';
import { schemaChecksums, type TableChecksum } from '../../../src/copy/checksum.ts';
import { setDeterministicText } from '../../../src/copy/session.ts';
import { testConfig, migrationsCopy, writeMigration } from '../helpers/fleet.ts';

export const TYPES_MIGRATION = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ünïcödé ✓');
CREATE TABLE kinds (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code      text NOT NULL UNIQUE,
  parent_id bigint REFERENCES kinds (id),
  label     text,
  payload   bytea,
  doc       json,
  docb      jsonb,
  tags      text[],
  moods     mood[],
  feeling   mood,
  at        timestamptz,
  amount    numeric,
  ratio     double precision,
  upper_code text GENERATED ALWAYS AS (upper(code)) STORED
);
CREATE TABLE kind_notes (
  id      serial PRIMARY KEY,
  kind_id bigint NOT NULL REFERENCES kinds (id),
  body    text
);
`;

/** A migrations dir: the starter files and 0007_types. */
export function typesMigrations(): string {
  const dir = migrationsCopy();
  writeMigration(dir, '0007_types.sql', TYPES_MIGRATION);
  return dir;
}

export async function openTwoRegionFleet(
  eu: string,
  us: string,
  options: { migrationsDir: string; clock?: Clock; actor?: string },
): Promise<Fleet> {
  return openFleet({
    config: testConfig(),
    env: { FLEET_DATABASE_URL_EU: eu, FLEET_DATABASE_URL_US: us },
    regions: ['eu', 'us'],
    actor: options.actor ?? 'test',
    migrationsDir: options.migrationsDir,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

export async function withDb<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface KindRow {
  code: string;
  parent: number | null;
  label: string | null;
  payload: Buffer | null;
  doc: unknown;
  docb: unknown;
  tags: (string | null)[] | null;
  moods: string[] | null;
  feeling: string | null;
  at: Date | null;
  amount: string | null;
  ratio: number | null;
}

/** Insert rows (parents by index into earlier rows) and notes; advances the sequences past the rows (some deleted). */
export async function seedKinds(url: string, tenantId: string, rows: readonly KindRow[]): Promise<void> {
  const schema = schemaNameFor(tenantId);
  await withDb(url, async (client) => {
    await client.query(`SET search_path TO "${schema}"`);
    const ids: string[] = [];
    for (const r of rows) {
      const parent = r.parent === null || ids.length === 0 ? null : ids[r.parent % ids.length];
      const { rows: out } = await client.query<{ id: string }>(
        `INSERT INTO kinds (code, parent_id, label, payload, doc, docb, tags, moods, feeling, at, amount, ratio)
         VALUES ($1, $2, $3, $4, $5::json, $6::jsonb, $7, $8::mood[], $9::mood, $10, $11::numeric, $12) RETURNING id`,
        [
          r.code,
          parent,
          r.label,
          r.payload,
          r.doc === null ? null : JSON.stringify(r.doc),
          r.docb === null ? null : JSON.stringify(r.docb),
          r.tags,
          r.moods,
          r.feeling,
          r.at,
          r.amount,
          r.ratio,
        ],
      );
      ids.push(out[0]!.id);
      await client.query('INSERT INTO kind_notes (kind_id, body) VALUES ($1, $2)', [out[0]!.id, r.label]);
    }
    // Advance the sequences past the last row: the copy must carry the value, not max(id).
    await client.query(`SELECT nextval(pg_get_serial_sequence('kinds', 'id')), nextval(pg_get_serial_sequence('kind_notes', 'id'))`);
  });
}

/** Per-table row counts and checksums of a tenant's schema in the database at url, as the copy computes them. */
export async function checksums(url: string, tenantId: string): Promise<TableChecksum[]> {
  return withDb(url, async (client) => {
    await client.query('BEGIN');
    await setDeterministicText(client);
    const schema = schemaNameFor(tenantId);
    const sums = await schemaChecksums(client, schema, await listTables(client, schema));
    await client.query('ROLLBACK');
    return sums;
  });
}
