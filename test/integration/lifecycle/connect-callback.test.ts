import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SignJWT, generateKeyPair, type CryptoKey } from 'jose';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { receiveConnectCallback } from '../../../src/atlassian/connect-callback.ts';
import { fixedKeyFetcher, type KeyFetcher } from '../../../src/atlassian/connect-jwt.ts';
import { queryStringHash } from '../../../src/atlassian/query-string-hash.ts';
import { dumpDatabase, tenantRow } from './helpers.ts';

const APP = 'https://jira-app.example.com';
const SITE = 'c0ffee00-1111-4222-8333-444455556666';
const db = useTestDatabase('connect');
const clock = new ManualClock('2026-05-01T10:00:00Z');
let fleet: Fleet;
let atlassian: { publicKey: CryptoKey; privateKey: CryptoKey };
let impostor: { publicKey: CryptoKey; privateKey: CryptoKey };
let keys: KeyFetcher;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { clock, actor: 'atlassian-connect' });
  atlassian = await generateKeyPair('RS256');
  impostor = await generateKeyPair('RS256');
  keys = async (kid) => {
    if (kid !== 'prod-key-7') throw new Error(`unknown kid ${kid}`);
    return atlassian.publicKey;
  };
});
afterAll(async () => fleet?.close());

const payload = (eventType: string, clientKey = SITE) => ({
  key: 'expium-addon',
  clientKey,
  baseUrl: 'https://acme.atlassian.net',
  eventType,
  productType: 'jira',
  sharedSecret: 'not-stored-by-the-fleet',
});

async function sign(
  event: 'installed' | 'uninstalled',
  overrides: { key?: CryptoKey; aud?: string; exp?: number; path?: string; iss?: string } = {},
): Promise<string> {
  const now = Math.floor(clock.now().getTime() / 1000);
  return new SignJWT({ qsh: queryStringHash({ method: 'POST', path: overrides.path ?? `/${event}` }) })
    .setProtectedHeader({ alg: 'RS256', kid: 'prod-key-7', typ: 'JWT' })
    .setIssuer(overrides.iss ?? SITE)
    .setAudience(overrides.aud ?? APP)
    .setIssuedAt(now)
    .setExpirationTime(overrides.exp ?? now + 180)
    .sign(overrides.key ?? atlassian.privateKey);
}

describe('Atlassian Connect lifecycle callbacks', () => {
  test('a verified installed callback provisions the site; a verified uninstalled one disconnects it', async () => {
    const installed = await receiveConnectCallback(fleet, {
      jwt: `JWT ${await sign('installed')}`,
      payload: payload('installed'),
      appBaseUrl: APP,
      keyFetcher: keys,
    });
    expect(installed).toMatchObject({ accepted: true, event: 'installed', tenant: SITE, result: { outcome: 'provisioned', to: 'active' } });
    expect((await tenantRow(fleet, SITE))?.status).toBe('active');

    clock.advance(3_600_000);
    const uninstalled = await receiveConnectCallback(fleet, {
      jwt: await sign('uninstalled'),
      payload: payload('uninstalled'),
      appBaseUrl: APP,
      keyFetcher: keys,
    });
    expect(uninstalled).toMatchObject({
      accepted: true,
      event: 'uninstalled',
      result: { outcome: 'disconnected', from: 'active', to: 'disconnected' },
    });
    const { rows } = await fleet.regions[0]!.query(
      `SELECT reason, actor, details FROM fleet.audit_events WHERE tenant_id = $1 AND action = 'uninstalled'`,
      [SITE],
    );
    expect(rows[0]).toMatchObject({
      reason: 'Atlassian Connect uninstalled callback',
      actor: 'atlassian-connect',
      details: { via: 'atlassian-connect', kid: 'prod-key-7', site: 'https://acme.atlassian.net' },
    });

    const unknown = await receiveConnectCallback(fleet, {
      jwt: await sign('uninstalled', { iss: 'never-seen' }),
      payload: payload('uninstalled', 'never-seen'),
      appBaseUrl: APP,
      keyFetcher: keys,
    });
    expect(unknown).toMatchObject({ accepted: true, result: { outcome: 'not-registered', changed: false } });
  });

  test('a bad or missing token changes nothing and says why', async () => {
    clock.advance(3_600_000);
    const before = await dumpDatabase(fleet);
    const now = Math.floor(clock.now().getTime() / 1000);
    const cases: Array<[string, string | undefined, string, unknown?]> = [
      ['missing', undefined, 'JWT_MISSING'],
      ['bad signature', await sign('installed', { key: impostor.privateKey }), 'JWT_BAD_SIGNATURE'],
      ['wrong aud', await sign('installed', { aud: 'https://another-app.example.com' }), 'JWT_WRONG_AUDIENCE'],
      ['expired', await sign('installed', { exp: now - 60 }), 'JWT_EXPIRED'],
      ['wrong qsh (a token for the uninstall URL)', await sign('uninstalled'), 'JWT_WRONG_QSH'],
      ['another site', await sign('installed', { iss: 'another-site' }), 'JWT_WRONG_ISSUER'],
      ['bad payload', await sign('installed'), 'PAYLOAD_INVALID', { eventType: 'installed', clientKey: 'UPPER CASE' }],
    ];
    for (const [name, jwt, code, body] of cases) {
      const receipt = await receiveConnectCallback(fleet, {
        jwt,
        payload: body ?? payload('installed'),
        appBaseUrl: APP,
        keyFetcher: keys,
      });
      expect(receipt, name).toMatchObject({ accepted: false, code });
      if (!receipt.accepted) expect(receipt.message, name).toMatch(/nothing was changed/);
    }
    expect(await dumpDatabase(fleet)).toEqual(before);
    expect((await tenantRow(fleet, SITE))?.status).toBe('disconnected');
  });

  test('a reinstall by callback brings the site back with its data; the key can come from a file', async () => {
    const receipt = await receiveConnectCallback(fleet, {
      jwt: await sign('installed'),
      payload: payload('installed'),
      appBaseUrl: `${APP}/`,
      keyFetcher: fixedKeyFetcher(atlassian.publicKey),
      appKey: 'expium-addon',
    });
    expect(receipt).toMatchObject({ accepted: true, result: { outcome: 'reactivated', from: 'disconnected', to: 'active' } });
    const wrongApp = await receiveConnectCallback(fleet, {
      jwt: await sign('installed'),
      payload: payload('installed'),
      appBaseUrl: APP,
      keyFetcher: keys,
      appKey: 'other-addon',
    });
    expect(wrongApp).toMatchObject({ accepted: false, code: 'PAYLOAD_INVALID' });
    await expect(
      receiveConnectCallback(fleet, {
        jwt: await sign('installed'),
        payload: payload('installed'),
        appBaseUrl: 'not a url',
        keyFetcher: keys,
      }),
    ).rejects.toThrow(FleetError);
  });
});
