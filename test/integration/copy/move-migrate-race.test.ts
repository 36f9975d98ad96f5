/**
 * A move and a real migration race for one tenant: the runner (`migrateFleet`) applies a pending
 * migration file while `moveTenant` copies the tenant to another region. Whichever takes the
 * tenant's lease first wins; the other waits or refuses with nothing changed. Afterwards the
 * tenant is in exactly one region, nothing of the copy is left, its ledger is at the version the
 * runner reports, and its rows are the rows it had before (checksums).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { writeMigration } from '../helpers/fleet.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet, type MigrateReport } from '../../../src/migrate/migrate-fleet.ts';
import { BEING_COPIED, LOCKED_BY_ANOTHER_RUNNER } from '../../../src/migrate/tenant-migrator.ts';
import { MoveBusy, moveTenant, type MoveResult } from '../../../src/copy/move.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { checksums, openTwoRegionFleet, typesMigrations, withDb } from './helpers.ts';

const ID = 'racer';
// Slow enough (0.4 s inside its transaction, holding the lease) that the other side arrives while it runs.
const RACE_MIGRATION = `CREATE TABLE race_notes (id bigint PRIMARY KEY, body text);\nSELECT pg_sleep(0.4);\n`;
const RACE_NAME = '0008_race_notes';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface World {
  eu: TestDatabase;
  us: TestDatabase;
  fleet: Fleet;
}

/** Two fresh regional databases; the tenant in eu at 0007 with rows, a neighbour in us at 0007; then 0008 pending. */
async function world(): Promise<World> {
  const [eu, us] = await Promise.all([createTestDatabase('race_eu'), createTestDatabase('race_us')]);
  cleanups.push(() => Promise.all([eu.drop(), us.drop()]).then(() => undefined));
  const dir = typesMigrations();
  const fleet = await openTwoRegionFleet(eu.url, us.url, { migrationsDir: dir, actor: 'user:racer' });
  cleanups.push(() => fleet.close());
  await addTenants(fleet, [ID], { region: 'eu' });
  await addTenants(fleet, ['neighbour'], { region: 'us' });
  await withDb(eu.url, async (c) => {
    await c.query(`SET search_path TO ${schemaNameFor(ID)}`);
    await c.query(`INSERT INTO kinds (code, label, docb, moods, amount)
                   SELECT 'k' || i, repeat('é', i % 30), jsonb_build_object('i', i), '{ok,happy}', i / 3.0 FROM generate_series(1, 3000) i`);
    await c.query(`INSERT INTO kind_notes (kind_id, body) SELECT id, code FROM kinds`);
  });
  writeMigration(dir, `${RACE_NAME}.sql`, RACE_MIGRATION);
  return { eu, us, fleet };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`never saw ${what}`);
}

interface Outcome {
  readonly winner: 'migrate' | 'move';
  readonly region: 'eu' | 'us';
}

/** Run both, then check every invariant; returns who won and where the tenant is. */
async function race(
  w: World,
  start: (
    migrate: () => Promise<MigrateReport>,
    move: () => Promise<MoveResult>,
  ) => Promise<[PromiseSettledResult<MigrateReport>, PromiseSettledResult<MoveResult>]>,
): Promise<Outcome> {
  const before = await checksums(w.eu.url, ID);
  const [migrated, moved] = await start(
    () => migrateFleet(w.fleet, { tenants: [ID] }),
    () => moveTenant(w.fleet, ID, 'us'),
  );
  expect(migrated.status, String((migrated as PromiseRejectedResult).reason)).toBe('fulfilled');
  const report = (migrated as PromiseFulfilledResult<MigrateReport>).value;
  const mine = report.results.filter((r) => r.tenant === ID);

  // Exactly one region registers the tenant, active, with its schema; nothing of a copy is left anywhere.
  const sides = await Promise.all(
    [w.eu, w.us].map((db) =>
      withDb(db.url, async (c) => ({
        tenant: (await c.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1', [ID])).rows[0],
        copies: (await c.query('SELECT 1 FROM fleet.tenant_copies WHERE tenant_id = $1', [ID])).rowCount,
        schema: (await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schemaNameFor(ID)])).rowCount,
        ledger: (await c.query<{ name: string }>('SELECT name FROM fleet.migrations WHERE tenant_id = $1 ORDER BY name', [ID])).rows.map(
          (r) => r.name,
        ),
      })),
    ),
  );
  const [eu, us] = sides as [(typeof sides)[0], (typeof sides)[0]];
  expect([eu.tenant, us.tenant].filter((t) => t !== undefined)).toEqual([{ status: 'active' }]);
  expect([eu.copies, us.copies]).toEqual([0, 0]);
  const region = eu.tenant ? 'eu' : 'us';
  const home = region === 'eu' ? eu : us;
  const away = region === 'eu' ? us : eu;
  expect(home.schema).toBe(1);
  expect(away.schema).toBe(0);
  expect(away.ledger).toEqual([]);

  // The ledger is at the version the runner reports: 0008 exactly when the runner says it applied it.
  const applied = mine.some((r) => r.status === 'applied' && r.migrations.includes(RACE_NAME));
  expect(home.ledger.at(-1)).toBe(applied ? RACE_NAME : '0007_types');
  if (applied) expect(mine.find((r) => r.status === 'applied')?.region).toBe(region);
  for (const r of mine.filter((x) => x.status !== 'applied'))
    expect(
      r.status === 'skipped' && [LOCKED_BY_ANOTHER_RUNNER, BEING_COPIED, 'tenant is no longer registered'].includes(r.reason ?? ''),
    ).toBe(true);
  expect(mine.some((r) => r.status === 'failed')).toBe(false);

  // The move committed, or was refused with nothing changed: held (busy) or the version check.
  if (moved.status === 'fulfilled') {
    expect(moved.value).toMatchObject({ status: 'committed', from: 'eu', to: 'us' });
    expect(region).toBe('us');
  } else {
    const error = moved.reason as FleetError;
    expect(error instanceof MoveBusy || /is at migration .* behind tenant racer/.test(error.message), error.message).toBe(true);
    expect(region).toBe('eu');
  }

  // The rows are the rows of before (the new migration only added an empty table).
  const after = await checksums(region === 'eu' ? w.eu.url : w.us.url, ID);
  expect(after.filter((t) => t.table !== 'race_notes')).toEqual(before);
  expect(after.find((t) => t.table === 'race_notes')?.rows ?? 0).toBe(0);
  return { winner: moved.status === 'fulfilled' ? 'move' : 'migrate', region };
}

describe('a move racing a real pending migration for the same tenant', () => {
  test('the migration takes the lease first: the move refuses, nothing copied; the tenant stays, migrated', async () => {
    const w = await world();
    const outcome = await race(w, async (migrate, move) => {
      const migrating = migrate();
      // The runner holds the tenant's lease while its migration sleeps.
      await until(
        () =>
          withDb(
            w.eu.url,
            async (c) =>
              ((await c.query('SELECT 1 FROM fleet.tenant_leases WHERE tenant_id = $1 AND holder_pid IS NOT NULL', [ID])).rowCount ?? 0) >
              0,
          ),
        "the runner's lease",
      );
      return Promise.allSettled([migrating, move()]);
    });
    expect(outcome).toEqual({ winner: 'migrate', region: 'eu' });
  }, 60_000);

  test('the move takes the lease first: the runner waits, then finds the tenant gone (or still held) and skips it; the tenant moved at its old version', async () => {
    const w = await world();
    const outcome = await race(w, async (migrate, move) => {
      const moving = move();
      await until(
        () =>
          withDb(
            w.eu.url,
            async (c) =>
              (await c.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1', [ID])).rows[0]?.status === 'moving',
          ),
        'the tenant moving',
      );
      return Promise.allSettled([migrate(), moving]);
    });
    expect(outcome).toEqual({ winner: 'move', region: 'us' });
  }, 60_000);

  test('started together, six times: whichever wins, the invariants hold', async () => {
    const winners: Outcome[] = [];
    for (let i = 0; i < 6; i += 1) {
      const w = await world();
      // Stagger the two by a few milliseconds either way, so both orders get their chance.
      const lead = [0, 20, 60][i % 3] as number;
      winners.push(
        await race(w, async (migrate, move) => {
          const first = i % 2 === 0 ? migrate : move;
          const second = i % 2 === 0 ? move : migrate;
          const a = first();
          await new Promise((resolve) => setTimeout(resolve, lead));
          const b = second();
          const [x, y] = await Promise.allSettled([a, b]);
          return (i % 2 === 0 ? [x, y] : [y, x]) as [PromiseSettledResult<MigrateReport>, PromiseSettledResult<MoveResult>];
        }),
      );
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    }
    // Which one won each time is the machine's timing; every outcome above was whole.
    expect(winners).toHaveLength(6);
  }, 240_000);
});
