import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { openTenantAccess, type TenantAccess } from '../../../src/access/with-tenant.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { sweepStaleTenants } from '../../../src/lifecycle/sweep.ts';
import { purgeFleet } from '../../../src/purge/purge-fleet.ts';
import { quoteIdent } from '../../../src/db/quote.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';
import { buildAddonServer, type AddonServer } from '../../../examples/addon-server/server.ts';
import {
  APP_BASE_URL,
  FORGE_APP_ID,
  call,
  connectPayload,
  connectToken,
  forgeToken,
  handmadeToken,
  signedInstallToken,
  startKeyServer,
  type Answer,
  type KeyServer,
} from './helpers.ts';

const db = useTestDatabase('requests');
const clock = new ManualClock(new Date());
const APP_SECRET = 'requests-test-application-secret-0123456789';

// Tenants: Connect clientKeys and Forge cloudIds are UUIDs, which are valid tenant ids as they are.
const VICTIM = 'a1a1a1a1-0000-4000-8000-000000000001';
const OTHER = 'b2b2b2b2-0000-4000-8000-000000000002';
const UNINSTALLED = 'c3c3c3c3-0000-4000-8000-000000000003';
const DISCONNECTED = 'd4d4d4d4-0000-4000-8000-000000000004';
const PURGED = 'e5e5e5e5-0000-4000-8000-000000000005';
const FORGE_VICTIM = 'f6f6f6f6-0000-4000-8000-000000000006';
const SECRETS: Record<string, string> = {
  [VICTIM]: 'victim-shared-secret-6f1d0c2b9a8e7d6c',
  [OTHER]: 'other-shared-secret-1a2b3c4d5e6f7a8b',
  [UNINSTALLED]: 'uninstalled-shared-secret-99aa88bb77',
  [DISCONNECTED]: 'disconnected-shared-secret-55cc44dd33',
  [PURGED]: 'purged-shared-secret-22ee11ff00aa99bb',
};
const FORGE_INSTALL_OLD = 'ari:cloud:ecosystem::installation/11111111-1111-4111-8111-111111111111';
const FORGE_INSTALL = 'ari:cloud:ecosystem::installation/22222222-2222-4222-8222-222222222222';
const VICTIM_SUMMARY = 'victim-only confidential summary';

let fleet: Fleet;
let access: TenantAccess;
let keys: KeyServer;
let server: AddonServer;
let base: string;
const logLines: string[] = [];

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { clock, actor: 'addon-server' });
  access = await openTenantAccess(fleet, { appSecret: APP_SECRET, maxConnections: 8 });
  keys = await startKeyServer();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  server = await buildAddonServer({
    fleet,
    access,
    appBaseUrl: APP_BASE_URL,
    connectInstallKeysUrl: `${keys.url}/connect`,
    forgeJwksUrl: `${keys.url}/forge/jwks.json`,
    forgeAppId: FORGE_APP_ID,
    appSecret: APP_SECRET,
    logger: pino({ level: 'debug' }, sink),
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await server?.app.close();
  await access?.close();
  await keys?.close();
  await fleet?.close();
});

async function installConnect(clientKey: string): Promise<Answer> {
  return call(base, 'POST', '/connect/installed', {
    authorization: `JWT ${await signedInstallToken(clock, keys.atlassian.privateKey, clientKey, 'installed')}`,
    body: connectPayload('installed', clientKey, SECRETS[clientKey] as string),
  });
}

const jwt = async (clientKey: string, options: Parameters<typeof connectToken>[3] = {}, alg?: string) =>
  `JWT ${await connectToken(clock, clientKey, SECRETS[clientKey] as string, options, alg)}`;

async function checksum(tenant: string): Promise<string> {
  const schema = quoteIdent(schemaNameFor(tenant));
  const region = fleet.regions[0]!;
  const data = await region.query<{ sum: string | null }>(
    `SELECT md5(coalesce((SELECT string_agg(p::text, '|' ORDER BY p.id) FROM ${schema}.projects p), '') || '#' ||
                coalesce((SELECT string_agg(i::text, '|' ORDER BY i.id) FROM ${schema}.issues i), '')) AS sum`,
  );
  const registry = await region.query(
    `SELECT t.status, t.purge_after, i.kind, i.installation_id, encode(i.secret_box, 'hex') AS box FROM fleet.tenants t LEFT JOIN fleet.installations i ON i.tenant_id = t.id WHERE t.id = $1`,
    [tenant],
  );
  return `${data.rows[0]?.sum}:${JSON.stringify(registry.rows[0])}`;
}

/** Why each attack is refused: a check that moved or vanished shows here even when another one still refuses. */
const EXPECTED_CODES = new Map<string, string>([
  ['no token', 'TOKEN_MISSING'],
  ['alg none', 'TOKEN_ALGORITHM'],
  ['HS512 with the right secret', 'TOKEN_ALGORITHM'],
  ['RS256 header, HMAC with the shared secret (alg confusion)', 'TOKEN_ALGORITHM'],
  ['wrong secret', 'TOKEN_SIGNATURE'],
  ["iss of the victim signed with another tenant's secret", 'TOKEN_SIGNATURE'],
  ["iss of another tenant signed with the victim's secret", 'TOKEN_SIGNATURE'],
  ['tampered claims (sub changed after signing)', 'TOKEN_SIGNATURE'],
  ['expired', 'TOKEN_EXPIRED'],
  ['no exp', 'TOKEN_CLAIMS'],
  ['nbf in the future', 'TOKEN_NOT_YET_VALID'],
  ['qsh of another path', 'TOKEN_QSH'],
  ['qsh of another method', 'TOKEN_QSH'],
  ['qsh of another query', 'TOKEN_QSH'],
  ['missing qsh', 'TOKEN_CLAIMS'],
  ['context-qsh on a non-context route', 'TOKEN_QSH'],
  ['a request qsh on a context route', 'TOKEN_QSH'],
  ['?jwt= with the qsh of another query', 'TOKEN_QSH'],
  ['a write with a read token', 'TOKEN_QSH'],
  ['token of an uninstalled tenant', 'TENANT_NOT_ACTIVE'],
  ['token of a tenant disconnected by another process', 'TENANT_NOT_ACTIVE'],
  ['token of a purged tenant', 'TENANT_UNKNOWN'],
  ["installed callback signed by another key, overwriting the victim's secret", 'JWT_BAD_SIGNATURE'],
  ['installed callback naming a kid the key service does not have', 'KEY_UNAVAILABLE'],
  ['installed callback HS256-signed with the old shared secret', 'JWT_ALGORITHM'],
  ['a replayed signed install', 'JWT_REPLAYED'],
  ['an install token (qsh /installed) with an uninstalled payload on /uninstalled', 'JWT_WRONG_QSH'],
  ['an uninstalled payload sent to /installed with its token', 'EVENT_MISMATCH'],
  ['FIT with the wrong aud', 'TOKEN_CLAIMS'],
  ['FIT with the wrong iss', 'TOKEN_CLAIMS'],
  ['FIT with an unknown kid', 'KEY_UNKNOWN'],
  ['FIT signed by a key not in the JWKS', 'TOKEN_SIGNATURE'],
  ['FIT of the previous installation', 'INSTALLATION_MISMATCH'],
  ['FIT expired', 'TOKEN_EXPIRED'],
  ['FIT not valid yet', 'TOKEN_NOT_YET_VALID'],
  ['FIT HS256-signed (alg confusion)', 'TOKEN_ALGORITHM'],
  ['preUninstall with a FIT of the previous installation', 'INSTALLATION_MISMATCH'],
  ['Forge installed event with a FIT for another app', 'TOKEN_CLAIMS'],
  ['a Connect token on a Forge route', 'TOKEN_MISSING'],
  ['a FIT on a Connect route', 'TOKEN_MISSING'],
  ['an oversized Authorization header', 'TOKEN_MALFORMED'],
  ['a malformed Authorization header', 'TOKEN_MALFORMED'],
  ['another scheme', 'TOKEN_MISSING'],
  ['a FIT whose payload is not JSON', 'TOKEN_SIGNATURE'],
]);

describe('the reference add-on server: the happy paths', () => {
  test('healthz answers without authentication', async () => {
    expect(await call(base, 'GET', '/healthz')).toMatchObject({ status: 200, body: { ok: true } });
  });

  test('a signed Connect install stores the secret sealed; the tenant then reads and writes its issues', async () => {
    for (const tenant of [VICTIM, OTHER, UNINSTALLED, DISCONNECTED, PURGED]) {
      expect(await installConnect(tenant), tenant).toMatchObject({ status: 200, body: { ok: true, event: 'installed' } });
    }
    const { rows } = await fleet.regions[0]!.query<{ secret_box: Buffer; secret_key_id: string }>(
      'SELECT secret_box, secret_key_id FROM fleet.installations WHERE tenant_id = $1',
      [VICTIM],
    );
    expect(rows[0]?.secret_box.includes(Buffer.from(SECRETS[VICTIM] as string))).toBe(false);
    expect(rows[0]?.secret_box.length).toBeGreaterThan(29);

    const created = await call(base, 'POST', '/connect/api/issues', {
      authorization: await jwt(VICTIM, { method: 'POST', path: '/connect/api/issues' }),
      body: { key: 'VIC-1', summary: VICTIM_SUMMARY },
    });
    expect(created).toMatchObject({ status: 201, body: { issue: { key: 'VIC-1', summary: VICTIM_SUMMARY } } });
    const listed = await call(base, 'GET', '/connect/api/issues', { authorization: await jwt(VICTIM) });
    expect(listed).toMatchObject({ status: 200, body: { issues: [{ key: 'VIC-1', summary: VICTIM_SUMMARY }] } });
    // The same read through the query parameter, and through a context route.
    const viaQuery = await connectToken(clock, VICTIM, SECRETS[VICTIM] as string, { query: 'limit=5' });
    expect((await call(base, 'GET', `/connect/api/issues?limit=5&jwt=${viaQuery}`)).status).toBe(200);
    const context = await call(base, 'GET', '/connect/context/issues', { authorization: await jwt(VICTIM, { qsh: 'context-qsh' }) });
    expect(context).toMatchObject({ status: 200, body: { issues: [{ key: 'VIC-1' }] } });
    // Another tenant sees its own (empty) list, never the victim's.
    expect(await call(base, 'GET', '/connect/api/issues', { authorization: await jwt(OTHER) })).toMatchObject({
      status: 200,
      body: { issues: [] },
    });
  });

  test('Forge: the installed event registers the site and its installation; a reinstall replaces the installation', async () => {
    const first = await call(base, 'POST', '/forge/events/installed', {
      authorization: `Bearer ${await forgeToken(clock, keys, FORGE_VICTIM, FORGE_INSTALL_OLD)}`,
      body: {},
    });
    expect(first).toMatchObject({ status: 200, body: { ok: true, outcome: 'provisioned' } });
    const again = await call(base, 'POST', '/forge/events/installed', {
      authorization: `Bearer ${await forgeToken(clock, keys, FORGE_VICTIM, FORGE_INSTALL)}`,
      body: {},
    });
    expect(again).toMatchObject({ status: 200, body: { ok: true } });
    const fit = `Bearer ${await forgeToken(clock, keys, FORGE_VICTIM, FORGE_INSTALL)}`;
    expect(
      await call(base, 'POST', '/forge/api/issues', { authorization: fit, body: { key: 'FRG-1', summary: VICTIM_SUMMARY } }),
    ).toMatchObject({ status: 201 });
    expect(await call(base, 'GET', '/forge/api/issues', { authorization: fit })).toMatchObject({
      status: 200,
      body: { issues: [{ key: 'FRG-1' }] },
    });
    const { rows } = await fleet.regions[0]!.query('SELECT kind, installation_id FROM fleet.installations WHERE tenant_id = $1', [
      FORGE_VICTIM,
    ]);
    expect(rows[0]).toEqual({ kind: 'forge', installation_id: FORGE_INSTALL });
  });

  test('lifecycle: a purge, an uninstall and an out-of-band disconnect put tenants out of reach', async () => {
    // One tenant is uninstalled, then purged after its grace period: its sealed secret goes with it.
    await uninstallTenant(fleet, PURGED, { reason: 'operator' });
    clock.advance(31 * DAY_MS);
    const purge = await purgeFleet(fleet, { execute: true, allowMass: true });
    expect(purge.results.map((r) => r.tenant)).toEqual([PURGED]);
    server.guard.invalidate(PURGED);
    const { rows } = await fleet.regions[0]!.query('SELECT count(*)::int AS n FROM fleet.installations WHERE tenant_id = $1', [PURGED]);
    expect(rows[0]).toEqual({ n: 0 });

    const token = await signedInstallToken(clock, keys.atlassian.privateKey, UNINSTALLED, 'uninstalled');
    const uninstalled = await call(base, 'POST', '/connect/uninstalled', {
      authorization: `JWT ${token}`,
      body: connectPayload('uninstalled', UNINSTALLED, 'x'),
    });
    expect(uninstalled).toMatchObject({ status: 200, body: { outcome: 'disconnected' } });
    // Another process (the CLI) disconnects one; this server's cache still says active.
    expect(await call(base, 'GET', '/connect/api/issues', { authorization: await jwt(DISCONNECTED) })).toMatchObject({ status: 200 });
    await uninstallTenant(fleet, DISCONNECTED, { reason: 'operator' });
  });
});

describe('the attack corpus: every case answered 401/403, the victims untouched, no query reached tenant data', () => {
  test('at least 30 attacks', async () => {
    const before = { connect: await checksum(VICTIM), forge: await checksum(FORGE_VICTIM) };
    const unitsBefore = server.stats.tenantUnits;
    const now = Math.floor(clock.now().getTime() / 1000);
    const victimSecret = SECRETS[VICTIM] as string;
    const list = '/connect/api/issues';
    const fit = (options: Parameters<typeof forgeToken>[4] = {}, installation = FORGE_INSTALL, cloudId = FORGE_VICTIM) =>
      forgeToken(clock, keys, cloudId, installation, options);
    const replayed = await signedInstallToken(clock, keys.atlassian.privateKey, OTHER, 'installed');
    expect(
      (
        await call(base, 'POST', '/connect/installed', {
          authorization: `JWT ${replayed}`,
          body: connectPayload('installed', OTHER, SECRETS[OTHER] as string),
        })
      ).status,
    ).toBe(200);

    type Attack = [name: string, method: string, path: string, authorization: string | undefined, body?: unknown, expected?: number];
    const attacks: Attack[] = [
      ['no token', 'GET', list, undefined],
      ['alg none', 'GET', list, `JWT ${handmadeToken({ alg: 'none', typ: 'JWT' }, { iss: VICTIM, exp: now + 60, qsh: 'x' })}`],
      ['HS512 with the right secret', 'GET', list, await jwt(VICTIM, {}, 'HS512')],
      [
        'RS256 header, HMAC with the shared secret (alg confusion)',
        'GET',
        list,
        `JWT ${handmadeToken({ alg: 'RS256', typ: 'JWT' }, { iss: VICTIM, exp: now + 60, qsh: 'x' }, victimSecret)}`,
      ],
      ['wrong secret', 'GET', list, `JWT ${await connectToken(clock, VICTIM, 'not-the-victims-secret-at-all-000', {})}`],
      [
        "iss of the victim signed with another tenant's secret",
        'GET',
        list,
        `JWT ${await connectToken(clock, VICTIM, SECRETS[OTHER] as string, {})}`,
      ],
      ["iss of another tenant signed with the victim's secret", 'GET', list, `JWT ${await connectToken(clock, OTHER, victimSecret, {})}`],
      [
        'tampered claims (sub changed after signing)',
        'GET',
        list,
        await (async () => {
          const [h, , s] = (await connectToken(clock, VICTIM, victimSecret, {})).split('.');
          return `JWT ${h}.${Buffer.from(JSON.stringify({ iss: VICTIM, exp: now + 600, qsh: 'context-qsh', sub: 'admin' })).toString('base64url')}.${s}`;
        })(),
      ],
      ['expired', 'GET', list, await jwt(VICTIM, { exp: now - 120 })],
      ['no exp', 'GET', list, await jwt(VICTIM, { exp: null })],
      ['nbf in the future', 'GET', list, await jwt(VICTIM, { nbf: now + 600 })],
      ['qsh of another path', 'GET', list, await jwt(VICTIM, { path: '/connect/api/other' })],
      ['qsh of another method', 'GET', list, await jwt(VICTIM, { method: 'POST' })],
      ['qsh of another query', 'GET', `${list}?project=VIC`, await jwt(VICTIM, { query: 'project=OTHER' })],
      ['missing qsh', 'GET', list, await jwt(VICTIM, { qsh: null })],
      ['context-qsh on a non-context route', 'GET', list, await jwt(VICTIM, { qsh: 'context-qsh' })],
      ['a request qsh on a context route', 'GET', '/connect/context/issues', await jwt(VICTIM, { path: '/connect/context/issues' })],
      [
        '?jwt= with the qsh of another query',
        'GET',
        `${list}?project=VIC&jwt=${await connectToken(clock, VICTIM, victimSecret, { query: 'project=OTHER' })}`,
        undefined,
      ],
      ['a write with a read token', 'POST', list, await jwt(VICTIM), { key: 'VIC-2', summary: 'injected' }],
      ['token of an uninstalled tenant', 'GET', list, await jwt(UNINSTALLED), undefined, 403],
      ['token of a tenant disconnected by another process', 'GET', list, await jwt(DISCONNECTED), undefined, 403],
      ['token of a purged tenant', 'GET', list, await jwt(PURGED)],
      [
        "installed callback signed by another key, overwriting the victim's secret",
        'POST',
        '/connect/installed',
        `JWT ${await signedInstallToken(clock, keys.rogue.privateKey, VICTIM, 'installed')}`,
        connectPayload('installed', VICTIM, 'attacker-chosen-secret-0000000000'),
      ],
      [
        'installed callback naming a kid the key service does not have',
        'POST',
        '/connect/installed',
        `JWT ${await signedInstallToken(clock, keys.rogue.privateKey, VICTIM, 'installed', { kid: 'attacker-key' })}`,
        connectPayload('installed', VICTIM, 'attacker-chosen-secret-0000000000'),
      ],
      [
        'installed callback HS256-signed with the old shared secret',
        'POST',
        '/connect/installed',
        await jwt(VICTIM, { method: 'POST', path: '/connect/installed' }),
        connectPayload('installed', VICTIM, 'attacker-chosen-secret-0000000000'),
      ],
      [
        'a replayed signed install',
        'POST',
        '/connect/installed',
        `JWT ${replayed}`,
        connectPayload('installed', OTHER, SECRETS[OTHER] as string),
      ],
      [
        'an install token (qsh /installed) with an uninstalled payload on /uninstalled',
        'POST',
        '/connect/uninstalled',
        `JWT ${await signedInstallToken(clock, keys.atlassian.privateKey, VICTIM, 'installed')}`,
        connectPayload('uninstalled', VICTIM, 'x'),
      ],
      [
        'an uninstalled payload sent to /installed with its token',
        'POST',
        '/connect/installed',
        `JWT ${await signedInstallToken(clock, keys.atlassian.privateKey, VICTIM, 'installed')}`,
        connectPayload('uninstalled', VICTIM, 'x'),
      ],
      ['FIT with the wrong aud', 'GET', '/forge/api/issues', `Bearer ${await fit({ aud: 'ari:cloud:ecosystem::app/another-app' })}`],
      ['FIT with the wrong iss', 'GET', '/forge/api/issues', `Bearer ${await fit({ iss: 'forge/not-an-invocation-token' })}`],
      ['FIT with an unknown kid', 'GET', '/forge/api/issues', `Bearer ${await fit({ kid: 'unknown-kid', key: keys.rogue.privateKey })}`],
      ['FIT signed by a key not in the JWKS', 'GET', '/forge/api/issues', `Bearer ${await fit({ key: keys.rogue.privateKey })}`],
      ['FIT of the previous installation', 'GET', '/forge/api/issues', `Bearer ${await fit({}, FORGE_INSTALL_OLD)}`],
      ['FIT expired', 'GET', '/forge/api/issues', `Bearer ${await fit({ exp: now - 120 })}`],
      ['FIT not valid yet', 'GET', '/forge/api/issues', `Bearer ${await fit({ nbf: now + 600 })}`],
      [
        'FIT HS256-signed (alg confusion)',
        'GET',
        '/forge/api/issues',
        `Bearer ${handmadeToken({ alg: 'HS256', kid: 'forge-key-1' }, { iss: 'forge/invocation-token', aud: FORGE_APP_ID, exp: now + 60, app: { installationId: FORGE_INSTALL }, context: { cloudId: FORGE_VICTIM } }, 'guess')}`,
      ],
      [
        'preUninstall with a FIT of the previous installation',
        'POST',
        '/forge/events/pre-uninstall',
        `Bearer ${await fit({}, FORGE_INSTALL_OLD)}`,
        {},
      ],
      [
        'Forge installed event with a FIT for another app',
        'POST',
        '/forge/events/installed',
        `Bearer ${await fit({ aud: 'ari:cloud:ecosystem::app/another-app' }, 'ari:cloud:ecosystem::installation/attacker')}`,
        {},
      ],
      ['a Connect token on a Forge route', 'GET', '/forge/api/issues', await jwt(VICTIM, { path: '/forge/api/issues' })],
      ['a FIT on a Connect route', 'GET', list, `Bearer ${await fit()}`],
      ['an oversized Authorization header', 'GET', list, `JWT ${'a'.repeat(12_000)}.${'b'.repeat(100)}.c`],
      ['a malformed Authorization header', 'GET', list, 'JWT not.a.jwt'],
      ['another scheme', 'GET', '/forge/api/issues', 'Basic dmljdGltOnBhc3N3b3Jk'],
      [
        'a FIT whose payload is not JSON',
        'GET',
        '/forge/api/issues',
        `Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImZvcmdlLWtleS0xIn0.bm90IGpzb24.c2ln`,
      ],
    ];
    expect(attacks.length).toBeGreaterThanOrEqual(30);

    const answers: Array<[string, Answer]> = [];
    for (const [name, method, path, authorization, body, expected] of attacks) {
      const answer = await call(base, method, path, {
        ...(authorization !== undefined ? { authorization } : {}),
        ...(body !== undefined ? { body } : {}),
      });
      answers.push([name, answer]);
      expect(answer.status, `${name}: ${answer.text}`).toBe(expected ?? 401);
      expect(answer.body.error, name).toBe(EXPECTED_CODES.get(name));
      expect(typeof answer.body.message, name).toBe('string');
      expect(Object.keys(answer.body).sort(), name).toEqual(['error', 'message']);
    }

    // The Forge JWKS down, with no fresh copy cached: fail closed.
    keys.jwksDown = true;
    clock.advance(11 * 60_000);
    const down = await call(base, 'GET', '/forge/api/issues', { authorization: `Bearer ${await fit()}` });
    expect(down).toMatchObject({ status: 401, body: { error: 'KEY_UNAVAILABLE' } });
    keys.jwksDown = false;
    answers.push(['JWKS down', down]);

    for (const [name, answer] of answers) {
      for (const secretText of [...Object.values(SECRETS), VICTIM_SUMMARY, VICTIM, FORGE_VICTIM, APP_SECRET])
        expect(answer.text, name).not.toContain(secretText);
    }
    expect(server.stats.tenantUnits).toBe(unitsBefore);
    // Atlassian's install key was fetched once for all the signed callbacks of this file: cached by kid.
    expect(keys.hits.connect).toBe(1);
    expect(await checksum(VICTIM)).toBe(before.connect);
    expect(await checksum(FORGE_VICTIM)).toBe(before.forge);

    // And the victims still work: nothing above broke them.
    expect(await call(base, 'GET', list, { authorization: await jwt(VICTIM) })).toMatchObject({
      status: 200,
      body: { issues: [{ key: 'VIC-1' }] },
    });
    expect(await call(base, 'GET', '/forge/api/issues', { authorization: `Bearer ${await fit()}` })).toMatchObject({ status: 200 });
  });

  test('no secret and no token reaches the log', () => {
    const log = logLines.join('');
    expect(log).toContain('request refused');
    for (const secretText of [...Object.values(SECRETS), APP_SECRET, 'attacker-chosen-secret']) expect(log).not.toContain(secretText);
    expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  test('a preUninstall of the current installation disconnects the Forge tenant; its tokens then get 403', async () => {
    const fit = `Bearer ${await forgeToken(clock, keys, FORGE_VICTIM, FORGE_INSTALL)}`;
    expect(await call(base, 'POST', '/forge/events/pre-uninstall', { authorization: fit, body: {} })).toMatchObject({
      status: 200,
      body: { outcome: 'disconnected' },
    });
    expect(await call(base, 'GET', '/forge/api/issues', { authorization: fit })).toMatchObject({
      status: 403,
      body: { error: 'TENANT_NOT_ACTIVE' },
    });
  });

  test('a reinstall with a new sharedSecret takes effect at once: the old secret is refused, the new one accepted', async () => {
    const oldToken = await jwt(OTHER);
    expect((await call(base, 'GET', '/connect/api/issues', { authorization: oldToken })).status).toBe(200);
    SECRETS[OTHER] = 'other-shared-secret-after-reinstall-42';
    clock.advance(1000);
    expect(await installConnect(OTHER)).toMatchObject({ status: 200 });
    expect(await call(base, 'GET', '/connect/api/issues', { authorization: oldToken })).toMatchObject({
      status: 401,
      body: { error: 'TOKEN_SIGNATURE' },
    });
    expect(await call(base, 'GET', '/connect/api/issues', { authorization: await jwt(OTHER) })).toMatchObject({ status: 200 });
  });

  test('a tenant a sweep disconnected for silence is active again by its next authenticated request', async () => {
    clock.advance(31 * DAY_MS);
    const sweep = await sweepStaleTenants(fleet, { execute: true, allowMass: true });
    expect(sweep.stale.map((t) => t.tenant)).toContain(VICTIM);
    const back = await call(base, 'GET', '/connect/api/issues', { authorization: await jwt(VICTIM) });
    expect(back).toMatchObject({ status: 200, body: { issues: [{ key: 'VIC-1' }] } });
    const { rows } = await fleet.regions[0]!.query('SELECT status FROM fleet.tenants WHERE id = $1', [VICTIM]);
    expect(rows[0]).toEqual({ status: 'active' });
  });
});
