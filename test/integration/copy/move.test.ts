import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import pg from 'pg';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { openTenantAccess } from '../../../src/access/with-tenant.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { releaseTenantLock, tryTenantLock } from '../../../src/tenants/tenant-lock.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { moveStatus, moveTenant, rollbackMove, startMove, commitMove } from '../../../src/copy/move.ts';
import { checksums, openTwoRegionFleet, seedKinds, typesMigrations, withDb, type KindRow } from './helpers.ts';

let eu: TestDatabase;
let us: TestDatabase;
let fleet: Fleet;

beforeAll(async () => {
  [eu, us] = await Promise.all([createTestDatabase('copy_eu'), createTestDatabase('copy_us')]);
  fleet = await openTwoRegionFleet(eu.url, us.url, { migrationsDir: typesMigrations(), actor: 'user:mover' });
});
afterAll(async () => {
  await fleet?.close();
  await Promise.all([eu?.drop(), us?.drop()]);
});

async function registry(url: string, tenantId: string): Promise<{ status: string; moved_from: string | null } | undefined> {
  return withDb(url, async (c) => (await c.query('SELECT status, moved_from FROM fleet.tenants WHERE id = $1', [tenantId])).rows[0]);
}

const text = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/\p{Cs}/gu, '\ufffd').replaceAll('\u0000', ''));
const json = fc.jsonValue({ maxDepth: 2 }).filter((v) => !/\\u0000|\\ud[89a-f]/i.test(JSON.stringify(v) ?? ''));
const kindRow = (i: number): fc.Arbitrary<KindRow> =>
  fc.record({
    code: text.map((s) => `${i}:${s}`),
    parent: fc.option(fc.nat(), { nil: null }),
    label: fc.option(text, { nil: null }),
    payload: fc.option(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      { nil: null },
    ),
    doc: fc.option(json, { nil: null }),
    docb: fc.option(json, { nil: null }),
    tags: fc.option(fc.array(fc.option(text, { nil: null }), { maxLength: 4 }), { nil: null }),
    moods: fc.option(fc.array(fc.constantFrom('sad', 'ok', 'happy', 'ünïcödé ✓'), { maxLength: 3 }), { nil: null }),
    feeling: fc.option(fc.constantFrom('sad', 'ok', 'happy', 'ünïcödé ✓'), { nil: null }),
    at: fc.option(fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }), {
      nil: null,
    }),
    amount: fc.option(
      fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.nat(99999)).map(([a, b]) => `${a}.${b}`),
      { nil: null },
    ),
    ratio: fc.option(fc.double(), { nil: null }),
  });
const kindRows = fc.integer({ min: 0, max: 25 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => kindRow(i))));

describe('move', () => {
  test('random tenants move with equal checksums; the next insert in the target does not collide; the source is gone with a tombstone', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(kindRows, async (rows) => {
        const id = `prop-${n++}`;
        await addTenants(fleet, [id], { region: 'eu' });
        await seedKinds(eu.url, id, rows);
        const before = await checksums(eu.url, id);
        const result = await moveTenant(fleet, id, 'us');
        expect(result.status).toBe('committed');
        expect(await checksums(us.url, id)).toEqual(before);
        expect(before.find((t) => t.table === 'kinds')?.rows).toBe(rows.length);
        expect(await registry(us.url, id)).toEqual({ status: 'active', moved_from: 'eu' });
        expect(await registry(eu.url, id)).toBeUndefined();
        await withDb(eu.url, async (c) => {
          expect((await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schemaNameFor(id)])).rowCount).toBe(0);
          const tomb = await c.query('SELECT disconnect_cause FROM fleet.tombstones WHERE tenant_id = $1', [id]);
          expect(tomb.rows).toEqual([{ disconnect_cause: 'moved to us' }]);
        });
        await withDb(us.url, async (c) => {
          await c.query(`SET search_path TO "${schemaNameFor(id)}"`);
          const k = await c.query<{ id: string }>(`INSERT INTO kinds (code) VALUES ('after-move') RETURNING id`);
          const n2 = await c.query<{ id: number }>(`INSERT INTO kind_notes (kind_id, body) VALUES ($1, 'x') RETURNING id`, [k.rows[0]!.id]);
          // The source advanced each sequence one past its rows: the target continues after that.
          expect(Number(k.rows[0]!.id)).toBe(rows.length + 2);
          expect(n2.rows[0]!.id).toBe(rows.length + 2);
          expect((await c.query(`SELECT upper_code FROM kinds WHERE code = 'after-move'`)).rows).toEqual([{ upper_code: 'AFTER-MOVE' }]);
        });
        const audit = await withDb(eu.url, async (c) =>
          (await c.query<{ action: string }>('SELECT action FROM fleet.audit_events WHERE tenant_id = $1 ORDER BY id', [id])).rows.map(
            (r) => r.action,
          ),
        );
        expect(audit).toEqual(expect.arrayContaining(['move.started', 'copy.structure', 'copy.data', 'copy.verified', 'moved-out']));
      }),
      { numRuns: 6 },
    );
  });

  test('start, status ready-to-commit, rollback serves the source again; start and commit then move it', async () => {
    await addTenants(fleet, ['hooks'], { region: 'eu' });
    await seedKinds(eu.url, 'hooks', [
      {
        code: 'a',
        parent: null,
        label: 'x',
        payload: null,
        doc: null,
        docb: null,
        tags: null,
        moods: null,
        feeling: 'ok',
        at: null,
        amount: '1.5',
        ratio: 2,
      },
    ]);
    expect((await moveStatus(fleet, 'hooks')).status).toBe('not-started');
    // What authenticates its requests (here a Forge installation) moves with it at the switch, and only then.
    await withDb(eu.url, (c) =>
      c.query(
        `INSERT INTO fleet.installations (tenant_id, kind, installation_id, installed_at, updated_at) VALUES ('hooks', 'forge', 'ari:cloud:ecosystem::installation/hooks', now(), now())`,
      ),
    );
    const installation = (url: string) =>
      withDb(url, async (c) => (await c.query(`SELECT installation_id FROM fleet.installations WHERE tenant_id = 'hooks'`)).rows);
    const access = await openTenantAccess(fleet, {
      appSecret: 'a-test-application-secret-of-enough-length-0123456789',
      credentialsDir: tempDir('copy-creds'),
      maxConnections: 2,
    });
    try {
      expect(await access.withTenant('hooks', async () => 'served')).toBe('served');
      await startMove(fleet, 'hooks', 'us');
      // Served nowhere while it is copied: the unit of work is refused.
      const refused = await access
        .withTenant('hooks', async () => 'served')
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((refused as FleetError).code).toBe('TENANT_NOT_ACTIVE');
    } finally {
      await access.close();
    }
    expect(await moveStatus(fleet, 'hooks')).toMatchObject({ status: 'ready-to-commit', from: 'eu', to: 'us' });
    expect(await registry(eu.url, 'hooks')).toMatchObject({ status: 'moving' });
    expect(await registry(us.url, 'hooks')).toMatchObject({ status: 'moving' });
    expect(await installation(us.url)).toEqual([]);
    await rollbackMove(fleet, 'hooks');
    expect(await registry(eu.url, 'hooks')).toMatchObject({ status: 'active' });
    expect(await registry(us.url, 'hooks')).toBeUndefined();
    expect(await installation(eu.url)).toEqual([{ installation_id: 'ari:cloud:ecosystem::installation/hooks' }]);
    await withDb(us.url, async (c) => expect((await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 't_hooks'`)).rowCount).toBe(0));
    await startMove(fleet, 'hooks', 'us');
    await commitMove(fleet, 'hooks');
    expect((await moveStatus(fleet, 'hooks')).status).toBe('not-started');
    expect(await registry(us.url, 'hooks')).toEqual({ status: 'active', moved_from: 'eu' });
    expect(await installation(us.url)).toEqual([{ installation_id: 'ari:cloud:ecosystem::installation/hooks' }]);
    expect(await installation(eu.url)).toEqual([]);
    const again = await moveTenant(fleet, 'hooks', 'us');
    expect(again.status).toBe('committed');
  });

  test('a move racing a migration or a purge: the lease holder wins, the move refuses with nothing changed, then runs', async () => {
    await addTenants(fleet, ['race'], { region: 'eu' });
    const holder = new pg.Client({ connectionString: eu.url });
    await holder.connect();
    try {
      // What a runner (or a purge's transaction) holds while it works on the tenant.
      expect(await tryTenantLock(holder, 'race')).toBe(true);
      const error = await moveTenant(fleet, 'race', 'us').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as Error).message).toMatch(/held in region eu by a migration, a purge or another copy/);
      expect(await registry(eu.url, 'race')).toMatchObject({ status: 'active' });
      expect(await registry(us.url, 'race')).toBeUndefined();
      await releaseTenantLock(holder, 'race');
    } finally {
      await holder.end();
    }
    // Given back, the move runs.
    await moveTenant(fleet, 'race', 'us');
    expect(await registry(us.url, 'race')).toEqual({ status: 'active', moved_from: 'eu' });
  });

  test('a target region at another migration version is refused before anything is copied, with the fix', async () => {
    await addTenants(fleet, ['behind'], { region: 'eu' });
    await addTenants(fleet, ['there'], { region: 'us' });
    await withDb(us.url, (c) =>
      c.query(
        `INSERT INTO fleet.migrations (tenant_id, name, checksum, applied_at, duration_ms) VALUES ('there', '0008_future', 'x', now(), 0)`,
      ),
    );
    const error = await moveTenant(fleet, 'behind', 'us').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FleetError);
    expect((error as Error).message).toMatch(/ahead of tenant behind.*fleet migrate --tenant behind/);
    expect(await registry(eu.url, 'behind')).toMatchObject({ status: 'active' });
    expect(await registry(us.url, 'behind')).toBeUndefined();
    await withDb(us.url, (c) => c.query(`DELETE FROM fleet.migrations WHERE name = '0008_future'`));
  });
});
