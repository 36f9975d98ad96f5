import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { testConfig } from '../helpers/fleet.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { runFleet, startFleet } from '../helpers/cli.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { checksums, openTwoRegionFleet, typesMigrations, withDb } from './helpers.ts';

let eu: TestDatabase;
let us: TestDatabase;
let fleet: Fleet;
let dir: string;
let configFile: string;
const ID = 'mover';

beforeAll(async () => {
  [eu, us] = await Promise.all([createTestDatabase('kill_eu'), createTestDatabase('kill_us')]);
  dir = typesMigrations();
  fleet = await openTwoRegionFleet(eu.url, us.url, { migrationsDir: dir });
  const base = testConfig();
  configFile = path.join(tempDir('move-config'), 'fleet.config.json');
  writeFileSync(configFile, JSON.stringify({ ...base, regions: base.regions.filter((r) => r.name === 'eu' || r.name === 'us') }));
  await addTenants(fleet, [ID], { region: 'eu' });
  // Enough rows that the copy takes a while: the kills land inside it.
  await withDb(eu.url, async (c) => {
    await c.query(`SET search_path TO ${schemaNameFor(ID)}`);
    await c.query(`INSERT INTO kinds (code, label, payload, docb, tags, moods, at, amount)
                   SELECT 'k' || i, repeat('ä', i % 50), decode(md5(i::text), 'hex'), jsonb_build_object('i', i), ARRAY['a', NULL], '{ok,sad}', now(), i / 7.0
                     FROM generate_series(1, 60000) i`);
    await c.query(`INSERT INTO kind_notes (kind_id, body) SELECT id, code FROM kinds`);
  });
});
afterAll(async () => {
  await fleet?.close();
  await Promise.all([eu?.drop(), us?.drop()]);
});

const urls = () => ({ eu: eu.url, us: us.url });

async function state(url: string): Promise<string | undefined> {
  return withDb(
    url,
    async (c) => (await c.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1', [ID])).rows[0]?.status,
  );
}

async function events(url: string): Promise<number> {
  return withDb(url, async (c) =>
    Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM fleet.audit_events WHERE tenant_id = $1`, [ID])).rows[0]!.n),
  );
}

describe('a move killed with SIGKILL', () => {
  test('at growing amounts of progress: at most one region serves at every check, the authoritative side holds every row, a rerun finishes', async () => {
    const original = await checksums(eu.url, ID);
    const env = {
      FLEET_DATABASE_URL_EU: eu.url,
      FLEET_DATABASE_URL_US: us.url,
      FLEET_MIGRATIONS_DIR: dir,
      FLEET_ACTOR: 'test-cli',
      NO_COLOR: '1',
    };
    let from: 'eu' | 'us' = 'eu';
    let killedMidway = 0;
    // Kill after the n-th audit event of this run: started, structure, data, verified, moved-in.
    for (const after of [0, 1, 2, 3, 4, 5]) {
      const to: 'eu' | 'us' = from === 'eu' ? 'us' : 'eu';
      const start = (await events(urls()[from])) + (await events(urls()[to]));
      const child = startFleet(['--config', configFile, 'tenants', 'move', ID, '--to-region', to, '--json'], env);
      let exited = false;
      void child.finally(() => (exited = true));
      while (!exited && (await events(urls()[from])) + (await events(urls()[to])) - start < after)
        await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      const result = await child;
      const [s, t] = [await state(urls()[from]), await state(urls()[to])];
      // Never two regions serving; the side that serves (or, mid-copy, the source) has every row.
      expect([s, t].filter((x) => x === 'active').length).toBeLessThanOrEqual(1);
      const authoritative = t === 'active' ? to : from;
      expect(await checksums(urls()[authoritative], ID)).toEqual(original);
      if (result.exitCode !== 0) killedMidway += 1;
      const rerun = await runFleet(['--config', configFile, 'tenants', 'move', ID, '--to-region', to, '--json'], env);
      expect(rerun.exitCode, rerun.stderr).toBe(0);
      expect([await state(urls()[from]), await state(urls()[to])]).toEqual([undefined, 'active']);
      expect(await checksums(urls()[to], ID)).toEqual(original);
      from = to;
    }
    // The kills must have landed inside the runs, or this proved nothing.
    expect(killedMidway).toBeGreaterThanOrEqual(4);
  });
});
