/**
 * Atlassian's realm-migration hooks on the reference add-on server, over real HTTP, with a
 * two-region fleet (eu, us) and the local key server standing in for Atlassian: each hook acts on
 * the tenant of its token only, a tenant being moved is refused on data routes (403
 * TENANT_NOT_ACTIVE) but reached by its hooks, and schedule → start → status → commit moves it.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { migrationsCopy } from '../helpers/fleet.ts';
import { ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { openTenantAccess, type TenantAccess } from '../../../src/access/with-tenant.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { quoteIdent } from '../../../src/db/quote.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { buildAddonServer, type AddonServer } from '../../../examples/addon-server/server.ts';
import { REALM_MIGRATION_PATH } from '../../../examples/addon-server/realm-migration.ts';
import { openTwoRegionFleet, withDb } from '../copy/helpers.ts';
import {
  APP_BASE_URL,
  FORGE_APP_ID,
  call,
  connectPayload,
  connectToken,
  signedInstallToken,
  startKeyServer,
  type Answer,
  type KeyServer,
} from './helpers.ts';

const clock = new ManualClock(new Date());
const APP_SECRET = 'realm-migration-test-application-secret-0123';
const MOVER = 'a1a1a1a1-0000-4000-8000-0000000000a1';
const BYSTANDER = 'b2b2b2b2-0000-4000-8000-0000000000b2';
const ROLLER = 'c3c3c3c3-0000-4000-8000-0000000000c3';
const STAYER = 'd4d4d4d4-0000-4000-8000-0000000000d4';
const GONE = 'e5e5e5e5-0000-4000-8000-0000000000e5';
const SECRETS: Record<string, string> = {
  [MOVER]: 'mover-shared-secret-0f1e2d3c4b5a6978',
  [BYSTANDER]: 'bystander-shared-secret-8796a5b4c3d2',
  [ROLLER]: 'roller-shared-secret-1122334455667788',
  [STAYER]: 'stayer-shared-secret-99aabbccddeeff00',
  [GONE]: 'gone-shared-secret-0011223344556677',
};

let eu: TestDatabase;
let us: TestDatabase;
let fleet: Fleet;
let access: TenantAccess;
let keys: KeyServer;
let server: AddonServer;
let base: string;

beforeAll(async () => {
  [eu, us] = await Promise.all([createTestDatabase('realm_eu'), createTestDatabase('realm_us')]);
  fleet = await openTwoRegionFleet(eu.url, us.url, { migrationsDir: migrationsCopy(), clock, actor: 'addon-server' });
  access = await openTenantAccess(fleet, { appSecret: APP_SECRET, maxConnections: 8 });
  keys = await startKeyServer();
  server = await buildAddonServer({
    fleet,
    access,
    appBaseUrl: APP_BASE_URL,
    connectInstallKeysUrl: `${keys.url}/connect`,
    forgeJwksUrl: `${keys.url}/forge/jwks.json`,
    forgeAppId: FORGE_APP_ID,
    appSecret: APP_SECRET,
    installRegion: 'eu',
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  for (const tenant of Object.keys(SECRETS)) {
    const installed = await call(base, 'POST', '/connect/installed', {
      authorization: `JWT ${await signedInstallToken(clock, keys.atlassian.privateKey, tenant, 'installed')}`,
      body: connectPayload('installed', tenant, SECRETS[tenant] as string),
    });
    expect(installed.status, installed.text).toBe(200);
  }
  for (const tenant of [MOVER, BYSTANDER, ROLLER]) {
    const created = await issue(tenant, 'POST', { key: 'DOC-1', summary: `the only issue of ${tenant.slice(0, 8)}` });
    expect(created.status, created.text).toBe(201);
  }
});

afterAll(async () => {
  await server?.app.close();
  await access?.close();
  await keys?.close();
  await fleet?.close();
  await Promise.all([eu?.drop(), us?.drop()]);
});

/** A Connect request token of `tenant` for this method, path and query, signed with `secretOf`'s shared secret. */
async function jwt(tenant: string, method: string, path: string, query = '', secretOf = tenant): Promise<string> {
  return `JWT ${await connectToken(clock, tenant, SECRETS[secretOf] as string, { method, path, query })}`;
}

async function issue(tenant: string, method: 'GET' | 'POST', body?: unknown): Promise<Answer> {
  return call(base, method, '/connect/api/issues', {
    authorization: await jwt(tenant, method, '/connect/api/issues'),
    ...(body !== undefined ? { body } : {}),
  });
}

async function hook(tenant: string, name: 'schedule' | 'start' | 'commit' | 'rollback', body: unknown): Promise<Answer> {
  const path = `${REALM_MIGRATION_PATH}/${name}`;
  return call(base, 'POST', path, { authorization: await jwt(tenant, 'POST', path), body });
}

async function status(tenant: string, migrationId = 57500): Promise<Answer> {
  const path = `${REALM_MIGRATION_PATH}/status`;
  const query = `migrationId=${migrationId}`;
  return call(base, 'GET', `${path}?${query}`, { authorization: await jwt(tenant, 'GET', path, query) });
}

/** Poll the status hook as Atlassian does, until it says ready-to-commit (or failed). */
async function untilSettled(tenant: string): Promise<Answer> {
  for (let i = 0; i < 600; i += 1) {
    const answer = await status(tenant);
    if (answer.body.status === 'ready-to-commit' || answer.body.status === 'failed') return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the move of ${tenant} never settled`);
}

async function registry(
  url: string,
  tenant: string,
): Promise<{ status: string; moved_from: string | null; installation: string | null } | undefined> {
  return withDb(
    url,
    async (c) =>
      (
        await c.query(
          'SELECT t.status, t.moved_from, i.kind AS installation FROM fleet.tenants t LEFT JOIN fleet.installations i ON i.tenant_id = t.id WHERE t.id = $1',
          [tenant],
        )
      ).rows[0],
  );
}

const schedule = (location: string, extra: Record<string, unknown> = {}) => ({
  migrationId: 57500,
  location,
  startTime: '2026-12-26T00:00:00.000Z',
  endTime: '2026-12-26T02:00:00.000Z',
  ...extra,
});

describe('realm-migration hooks', () => {
  test('schedule → start → status → commit moves the tenant of the token from eu to us, and only it; it is served from us after', async () => {
    // The body names another tenant: ignored, the token's tenant is the one acted on.
    const scheduled = await hook(MOVER, 'schedule', schedule('US', { clientKey: BYSTANDER, tenantId: BYSTANDER }));
    expect(scheduled).toMatchObject({ status: 200, body: { ok: true, outcome: 'scheduled', from: 'eu', to: 'us' } });
    expect(await registry(eu.url, MOVER)).toMatchObject({ status: 'active' });
    const unitsBefore = server.stats.tenantUnits;

    const started = await hook(MOVER, 'start', schedule('US', { clientKey: BYSTANDER }));
    expect(started).toMatchObject({ status: 202, body: { ok: true, outcome: 'started', to: 'us' } });
    // Being moved: its data routes are refused at the guard, nothing reaches its data.
    const refused = await issue(MOVER, 'GET');
    expect(refused).toMatchObject({ status: 403, body: { error: 'TENANT_NOT_ACTIVE' } });
    expect(server.stats.tenantUnits).toBe(unitsBefore);
    // Its hooks still reach it; another tenant is served as ever, and its status hook speaks of itself.
    expect(await untilSettled(MOVER)).toMatchObject({ status: 200, body: { status: 'ready-to-commit' } });
    expect(await issue(BYSTANDER, 'GET')).toMatchObject({ status: 200, body: { issues: [{ key: 'DOC-1' }] } });
    expect(await registry(eu.url, BYSTANDER)).toMatchObject({ status: 'active' });
    expect(await registry(us.url, BYSTANDER)).toBeUndefined();
    expect(await registry(eu.url, MOVER)).toMatchObject({ status: 'moving' });
    expect(await issue(MOVER, 'POST', { key: 'DOC-2', summary: 'written while moving' })).toMatchObject({ status: 403 });

    // A's claim signed with B's secret, a status token replayed on commit: refused before anything.
    const forged = await call(base, 'POST', `${REALM_MIGRATION_PATH}/commit`, {
      authorization: await jwt(MOVER, 'POST', `${REALM_MIGRATION_PATH}/commit`, '', BYSTANDER),
      body: { migrationId: 57500 },
    });
    expect(forged).toMatchObject({ status: 401, body: { error: 'TOKEN_SIGNATURE' } });
    const replayed = await call(base, 'POST', `${REALM_MIGRATION_PATH}/commit`, {
      authorization: await jwt(MOVER, 'GET', `${REALM_MIGRATION_PATH}/status`, 'migrationId=57500'),
      body: { migrationId: 57500 },
    });
    expect(replayed).toMatchObject({ status: 401, body: { error: 'TOKEN_QSH' } });
    // The bystander's own commit commits nothing of the mover.
    expect(await hook(BYSTANDER, 'commit', { migrationId: 57500, clientKey: MOVER })).toMatchObject({
      status: 200,
      body: { outcome: 'nothing-to-commit' },
    });
    expect(await registry(eu.url, MOVER)).toMatchObject({ status: 'moving' });

    expect(await hook(MOVER, 'commit', { migrationId: 57500 })).toMatchObject({
      status: 200,
      body: { ok: true, outcome: 'committed', from: 'eu', to: 'us' },
    });
    // In exactly one region, with its installation (the sealed secret moved with it), served from there.
    expect(await registry(us.url, MOVER)).toEqual({ status: 'active', moved_from: 'eu', installation: 'connect' });
    expect(await registry(eu.url, MOVER)).toBeUndefined();
    expect(
      await withDb(eu.url, async (c) => (await c.query('SELECT 1 FROM fleet.installations WHERE tenant_id = $1', [MOVER])).rowCount),
    ).toBe(0);
    expect(await issue(MOVER, 'GET')).toMatchObject({ status: 200, body: { issues: [{ key: 'DOC-1' }] } });
    expect(await issue(MOVER, 'POST', { key: 'DOC-3', summary: 'written in us' })).toMatchObject({ status: 201 });
    expect(
      await withDb(us.url, async (c) => (await c.query(`SELECT key FROM ${quoteIdent(schemaNameFor(MOVER))}.issues ORDER BY id`)).rows),
    ).toEqual([{ key: 'DOC-1' }, { key: 'DOC-3' }]);
    // A commit retried after the fact, and the status after it, change nothing.
    expect(await hook(MOVER, 'commit', { migrationId: 57500 })).toMatchObject({ status: 200, body: { outcome: 'nothing-to-commit' } });
    expect(await status(MOVER)).toMatchObject({ status: 200, body: { status: 'ready-to-commit' } });
    const audit = await withDb(
      eu.url,
      async (c) =>
        (
          await c.query<{ action: string; details: { realmMigration?: string } }>(
            `SELECT action, details FROM fleet.audit_events WHERE tenant_id = $1 AND action IN ('move.started', 'moved-out') ORDER BY id`,
            [MOVER],
          )
        ).rows,
    );
    expect(audit).toEqual([
      { action: 'move.started', details: expect.objectContaining({ realmMigration: '57500' }) },
      { action: 'moved-out', details: expect.objectContaining({ realmMigration: '57500' }) },
    ]);
  });

  test('rollback after a verified copy: the copy is dropped and the tenant is served from eu again', async () => {
    expect(await hook(ROLLER, 'start', schedule('us'))).toMatchObject({ status: 202 });
    expect(await untilSettled(ROLLER)).toMatchObject({ body: { status: 'ready-to-commit' } });
    expect(await issue(ROLLER, 'GET')).toMatchObject({ status: 403, body: { error: 'TENANT_NOT_ACTIVE' } });
    expect(await hook(ROLLER, 'rollback', { migrationId: 57500 })).toMatchObject({ status: 200, body: { outcome: 'rolled-back' } });
    expect(await registry(eu.url, ROLLER)).toMatchObject({ status: 'active', installation: 'connect' });
    expect(await registry(us.url, ROLLER)).toBeUndefined();
    expect(await issue(ROLLER, 'GET')).toMatchObject({ status: 200, body: { issues: [{ key: 'DOC-1' }] } });
    expect(await hook(ROLLER, 'rollback', { migrationId: 57500 })).toMatchObject({
      status: 200,
      body: { outcome: 'nothing-to-roll-back' },
    });
  });

  test('a location the tenant is already in (DE is served by eu) moves nothing and reports ready; an unhosted one is refused with E0002', async () => {
    expect(await hook(STAYER, 'schedule', schedule('DE'))).toMatchObject({ status: 200, body: { outcome: 'already-there', region: 'eu' } });
    expect(await hook(STAYER, 'start', schedule('DE'))).toMatchObject({ status: 200, body: { outcome: 'already-there' } });
    expect(await status(STAYER)).toMatchObject({ status: 200, body: { status: 'ready-to-commit' } });
    expect(await hook(STAYER, 'commit', { migrationId: 57500 })).toMatchObject({ status: 200, body: { outcome: 'nothing-to-commit' } });
    expect(await registry(eu.url, STAYER)).toMatchObject({ status: 'active' });
    // JP is hosted by no region; AU by a region this server does not open.
    for (const location of ['JP', 'AU'])
      expect(await hook(STAYER, 'schedule', schedule(location))).toMatchObject({
        status: 422,
        body: { error: 'LOCATION_UNSUPPORTED', errorResponseCode: 'E0002' },
      });
    expect(await hook(STAYER, 'schedule', { migrationId: 1 })).toMatchObject({ status: 400 });
  });

  test('hooks of a tenant that is not active or moving, or not installed, are refused like any route', async () => {
    await uninstallTenant(fleet, GONE);
    server.guard.invalidate(GONE);
    expect(await status(GONE)).toMatchObject({ status: 403, body: { error: 'TENANT_NOT_ACTIVE' } });
    expect(await hook(GONE, 'start', schedule('US'))).toMatchObject({ status: 403, body: { error: 'TENANT_NOT_ACTIVE' } });
    const stranger = 'f6f6f6f6-0000-4000-8000-0000000000f6';
    const unknown = await call(base, 'GET', `${REALM_MIGRATION_PATH}/status`, {
      authorization: `JWT ${await connectToken(clock, stranger, 'a-secret-nobody-installed-0123', { method: 'GET', path: `${REALM_MIGRATION_PATH}/status` })}`,
    });
    expect(unknown).toMatchObject({ status: 401, body: { error: 'TENANT_UNKNOWN' } });
    expect(await registry(eu.url, GONE)).toMatchObject({ status: 'disconnected' });
    expect(await registry(us.url, GONE)).toBeUndefined();
  });
});
