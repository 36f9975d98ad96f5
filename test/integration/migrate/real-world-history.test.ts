/**
 * A real-world style history (test/fixtures/real-world-history: timestamp versions, pg_trgm and
 * btree_gin with operator classes used by indexes, CONCURRENTLY builds in no-transaction files,
 * dollar-quoted functions, DO blocks, post-deploy drops and validations) over 200 tenants: every
 * tenant schema equals the same files applied by psql alone, fleet verify finds no drift, and a
 * purge of the first tenant leaves the extensions working for every other.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { PACKAGE_ROOT } from '../../../src/config/load.ts';
import { readMigrationFiles } from '../../../src/migrate/migration-files.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';
import { verifyFleet } from '../../../src/verify/verify-fleet.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { purgeFleet } from '../../../src/purge/purge-fleet.ts';
import { catalogItems, diffItems } from '../../../src/verify/catalog.ts';
import { tenantSearchPath } from '../../../src/db/search-path.ts';
import { withClient } from '../../../src/db/scoped.ts';

const FIXTURE = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'real-world-history');
const TENANTS = 200;
const ids = Array.from({ length: TENANTS }, (_, i) => `rw-${String(i).padStart(3, '0')}`);
const schemaOf = (id: string) => `t_${id.replaceAll('-', '_')}`;
const db = useTestDatabase('realworld');
const clock = new ManualClock('2026-01-01T00:00:00Z');
let fleet: Fleet;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, {
    clock,
    migrationsDir: FIXTURE,
    concurrency: 8,
    config: { extensions: ['pg_trgm', 'btree_gin'] },
  });
}, 60_000);
afterAll(async () => fleet?.close());

describe('a real-world migration history over 200 tenants', () => {
  test('the fixture is what the issue asks for', () => {
    const files = readMigrationFiles(FIXTURE);
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(files.every((f) => /^\d{14}_/.test(f.name))).toBe(true);
    expect(files.filter((f) => f.noTransaction).length).toBeGreaterThanOrEqual(5);
    expect(files.filter((f) => f.phase === 'post-deploy').length).toBeGreaterThanOrEqual(3);
    expect(files.some((f) => /gin_trgm_ops/.test(f.sql))).toBe(true);
    expect(files.some((f) => /^DO \$/m.test(f.sql))).toBe(true);
  });

  test('provisioning runs the whole history through the runner for every tenant; a rerun finds nothing pending', async () => {
    const added = await addTenants(fleet, ids);
    expect(added.migrate?.summary).toMatchObject({ applied: TENANTS, failed: 0 });
    const rerun = await migrateFleet(fleet);
    expect(rerun.ok).toBe(true);
    expect(rerun.summary.upToDate).toBe(TENANTS);
    const { rows } = await fleet.regions[0]!.query<{ n: string }>('SELECT count(*)::text AS n FROM fleet.migrations');
    expect(Number(rows[0]!.n)).toBe(TENANTS * readMigrationFiles(FIXTURE).length);
  }, 600_000);

  test('every tenant schema equals the files applied by psql alone; no extension object in any of them', async () => {
    const files = readMigrationFiles(FIXTURE);
    const reference = 'psql_reference';
    await fleet.regions[0]!.query(`DROP SCHEMA IF EXISTS ${reference} CASCADE; CREATE SCHEMA ${reference}`);
    for (const file of files) {
      // psql runs each statement of a file on its own (autocommit), as written, CREATE EXTENSION included.
      execFileSync(
        '/usr/bin/psql',
        [db().url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `SET search_path TO ${tenantSearchPath(reference)}`, '-f', file.file],
        {
          env: { ...process.env, PGOPTIONS: `-c search_path=${reference},fleet_ext -c client_min_messages=warning` },
        },
      );
    }
    const schemas = ids.map(schemaOf);
    await withClient(fleet.regions[0]!.controlPool, async (client) => {
      // The catalog items fleet verify compares (relations, columns, indexes, constraints,
      // triggers, types, functions with a hash of the body), each schema's own name taken out.
      const items = await catalogItems(client, [reference, ...schemas]);
      const expected = items.get(reference)!;
      expect(expected.size).toBeGreaterThan(100);
      const differing = schemas
        .map((s) => ({ schema: s, diff: diffItems(expected, items.get(s)!) }))
        .filter(({ diff }) => diff.missing.length + diff.extra.length + diff.changed.length > 0);
      expect(differing.slice(0, 2)).toEqual([]);
      const members = await client.query<{ schema: string }>(
        `SELECT DISTINCT (pg_identify_object(d.classid, d.objid, 0)).schema AS schema
           FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
            AND d.refobjid IN (SELECT oid FROM pg_extension WHERE extname IN ('pg_trgm', 'btree_gin'))`,
      );
      expect(members.rows.map((r) => r.schema)).toEqual(['fleet_ext']);
    });
    await fleet.regions[0]!.query(`DROP SCHEMA ${reference} CASCADE`);
  }, 300_000);

  test('fleet verify finds no drift', async () => {
    const report = await verifyFleet(fleet);
    expect(report.drifted).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.tenants).toBe(TENANTS);
  }, 300_000);

  test('purging the first tenant leaves the extensions working for every other tenant', async () => {
    await uninstallTenant(fleet, ids[0]!);
    clock.advance(400 * DAY_MS);
    const purge = await purgeFleet(fleet, { execute: true, allowMass: true });
    expect(purge.results.map((r) => [r.tenant, r.status])).toEqual([[ids[0], 'purged']]);
    await withClient(fleet.regions[0]!.tenantPool, async (client) => {
      for (const id of ids.slice(1)) {
        await client.query(`SET search_path TO ${tenantSearchPath(schemaOf(id))}`);
        const { rows } = await client.query<{ s: number; n: number }>(
          `SELECT similarity('fleet', 'fleets')::float AS s, (SELECT count(*)::int FROM search_documents('anything')) AS n`,
        );
        expect(rows[0]!.s).toBeGreaterThan(0.5);
        expect(rows[0]!.n).toBe(0);
      }
      await client.query('RESET search_path');
    });
  }, 300_000);
});
