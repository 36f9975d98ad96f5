import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy, openTestFleet, writeMigration } from '../helpers/fleet.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { purgeFleet } from '../../../src/purge/purge-fleet.ts';
import { tenantRoleFor } from '../../../src/access/tenant-role.ts';
import { quoteIdent } from '../../../src/db/quote.ts';
import { tenantSearchPath } from '../../../src/db/search-path.ts';
import { withClient, withTransaction } from '../../../src/db/scoped.ts';

const db = useTestDatabase('extensions');
const clock = new ManualClock('2026-01-01T00:00:00Z');
const ids = ['ext-a', 'ext-b', 'ext-c'];
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  dir = migrationsCopy();
  // The real-world shape that broke the runner: the extension, then an index on its operator class.
  writeMigration(
    dir,
    '0007_issue_search.sql',
    'CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE EXTENSION btree_gin;\nCREATE INDEX issues_summary_trgm ON issues USING gin (summary gin_trgm_ops);\nCREATE INDEX issues_status_gin ON issues USING gin (status);\n',
  );
  writeMigration(
    dir,
    '0007_issue_search.down.sql',
    'DROP INDEX issues_status_gin;\nDROP INDEX issues_summary_trgm;\nDROP EXTENSION IF EXISTS pg_trgm;\n',
  );
  fleet = await openTestFleet(db().url, { clock, migrationsDir: dir, config: { extensions: ['pg_trgm', 'btree_gin'] } });
  await addTenants(fleet, ids);
});
afterAll(async () => fleet?.close());

const query = <R extends Record<string, unknown>>(sql: string, params?: unknown[]) =>
  fleet.regions[0]!.query<R>(sql, params).then((r) => r.rows);

/** Run sql as the tenant's own role with the search_path the toolkit sets. */
async function asTenant<R extends Record<string, unknown>>(id: string, sql: string): Promise<R[]> {
  return withClient(fleet.regions[0]!.tenantPool, async (client) => {
    const role = await tenantRoleFor(client, { id, schema: `t_${id.replaceAll('-', '_')}` });
    return withTransaction(
      client,
      async () => {
        await client.query(
          `SET LOCAL ROLE ${quoteIdent(role)}; SET LOCAL search_path TO ${tenantSearchPath(`t_${id.replaceAll('-', '_')}`)}`,
        );
        const result = (await client.query<R>(sql)) as unknown as { rows: R[] } | { rows: R[] }[];
        return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
      },
      { rollback: true },
    );
  });
}

describe('extensions', () => {
  test('installed once in the shared schema fleet_ext when the runner connects; PUBLIC has USAGE there and nothing else', async () => {
    const rows = await query<{ extname: string; schema: string }>(
      `SELECT extname, extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname IN ('pg_trgm', 'btree_gin') ORDER BY 1`,
    );
    expect(rows).toEqual([
      { extname: 'btree_gin', schema: 'fleet_ext' },
      { extname: 'pg_trgm', schema: 'fleet_ext' },
    ]);
    const [acl] = await query<{ usage: boolean; create: boolean }>(
      `SELECT has_schema_privilege('public', 'fleet_ext', 'USAGE') AS usage, has_schema_privilege('public', 'fleet_ext', 'CREATE') AS create`,
    );
    expect(acl).toEqual({ usage: true, create: false });
  });

  test("a migration's CREATE EXTENSION is a no-op: every tenant gets the trigram index and no extension object lands in a tenant schema", async () => {
    const report = await migrateFleet(fleet);
    expect(report.ok).toBe(true);
    expect(report.summary.failed).toBe(0);
    const indexes = await query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'issues_summary_trgm' AND schemaname LIKE 't\\_ext\\_%'`,
    );
    expect(Number(indexes[0]!.n)).toBe(ids.length);
    // Every member object of every extension (functions, operators, operator classes, types) lives
    // in fleet_ext: pg_depend's 'e' rows, mapped to their namespace through pg_identify_object.
    const members = await query<{ schema: string | null; n: string }>(
      `SELECT (pg_identify_object(d.classid, d.objid, 0)).schema AS schema, count(*) AS n
         FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname IN ('pg_trgm', 'btree_gin')
        GROUP BY 1`,
    );
    expect(members.map((m) => m.schema)).toEqual(['fleet_ext']);
    expect(Number(members[0]!.n)).toBeGreaterThan(10);
  });

  test('an unlisted extension (and DROP EXTENSION) is refused before any tenant is touched, naming file, extension and fix', async () => {
    const before = await query<{ n: string }>('SELECT count(*) AS n FROM fleet.migrations');
    writeMigration(dir, '0008_hstore.sql', 'CREATE TABLE kv (x int);\nCREATE EXTENSION IF NOT EXISTS hstore;\n');
    const error = await migrateFleet(fleet).then(
      () => undefined,
      (e: unknown) => e as { code: string; problems: string[] },
    );
    expect(error?.code).toBe('MIGRATION_FILES_INVALID');
    expect(error?.problems.join('\n')).toMatch(/0008_hstore\.sql: CREATE EXTENSION hstore.*add "hstore" to "extensions"/);
    writeMigration(dir, '0008_hstore.sql', 'DROP EXTENSION pg_trgm CASCADE;\n');
    await expect(migrateFleet(fleet)).rejects.toMatchObject({
      code: 'MIGRATION_FILES_INVALID',
      problems: [expect.stringContaining('0008_hstore.sql: DROP EXTENSION pg_trgm')],
    });
    expect(await query('SELECT count(*) AS n FROM fleet.migrations')).toEqual(before);
    expect(await query(`SELECT 1 FROM pg_tables WHERE tablename = 'kv'`)).toEqual([]);
    writeMigration(dir, '0008_hstore.sql', 'SELECT 1;\n');
  });

  test("a tenant's own role finds the extension through its search_path", async () => {
    const rows = await asTenant<{ s: number }>('ext-b', `SELECT round(similarity('fleet', 'fleets')::numeric, 2)::float AS s`);
    expect(rows[0]!.s).toBeGreaterThan(0.5);
  });

  test('purging the first tenant never drops an extension: it works for every other tenant', async () => {
    await uninstallTenant(fleet, 'ext-a');
    clock.advance(400 * DAY_MS);
    const report = await purgeFleet(fleet, { execute: true, allowMass: true });
    expect(report.results.map((r) => [r.tenant, r.status])).toEqual([['ext-a', 'purged']]);
    expect(await query(`SELECT extname FROM pg_extension WHERE extname IN ('pg_trgm', 'btree_gin') ORDER BY 1`)).toEqual([
      { extname: 'btree_gin' },
      { extname: 'pg_trgm' },
    ]);
    for (const id of ['ext-b', 'ext-c']) {
      const rows = await asTenant<{ n: number }>(
        id,
        `INSERT INTO projects (id, key, name) VALUES (1, 'P', 'p');
         INSERT INTO issues (id, project_id, key, summary, status, created_at, updated_at) VALUES (1, 1, 'P-1', 'the fleet migrates', 'open', now(), now());
         SELECT count(*)::int AS n FROM issues WHERE summary % 'fleet migrate' AND status = 'open'`,
      );
      expect(rows.at(-1)!.n).toBe(1);
    }
  });
});
