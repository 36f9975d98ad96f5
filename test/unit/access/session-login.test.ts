import { describe, expect, test } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { RegionDatabase } from '../../../src/db/region-database.ts';
import type { RegionTarget } from '../../../src/db/targets.ts';
import { FleetError } from '../../../src/errors.ts';
import {
  deriveSessionPassword,
  resolveSessionAuth,
  scramAuth,
  secretKeyId,
  sessionConnectionConfig,
} from '../../../src/access/session-login.ts';

const SECRET = 'x'.repeat(43);

describe('session passwords', () => {
  test('HMAC-SHA256(secret, role), base64url: deterministic, distinct per role and per secret', () => {
    const a = deriveSessionPassword(SECRET, 'f0a1b2c3d_l_t_acme');
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(deriveSessionPassword(SECRET, 'f0a1b2c3d_l_t_acme')).toBe(a);
    expect(deriveSessionPassword(SECRET, 'f0a1b2c3d_l_t_globex')).not.toBe(a);
    expect(deriveSessionPassword('y'.repeat(43), 'f0a1b2c3d_l_t_acme')).not.toBe(a);
    // The well-known HMAC-SHA256 example (key "key", hex f7bc83f4...), in base64url.
    expect(deriveSessionPassword('key', 'The quick brown fox jumps over the lazy dog')).toBe('97yD9DBThCSxMpjmqm-xQ-9NWaFJRhdZl0edvC0aPNg');
  });

  test('the key id tells secrets apart without being the secret or a password', () => {
    expect(secretKeyId(SECRET)).toMatch(/^[0-9a-f]{16}$/);
    expect(secretKeyId(SECRET)).not.toBe(secretKeyId('y'.repeat(43)));
    expect(scramAuth(SECRET)).toMatchObject({ kind: 'scram', id: `scram:${secretKeyId(SECRET)}` });
  });

  test('a secret shorter than 32 characters is refused', () => {
    expect(() => scramAuth('short')).toThrow(FleetError);
    expect(() => scramAuth('s'.repeat(31))).toThrow(/at least 32/);
  });
});

describe('IAM (AWS regions)', () => {
  const target: RegionTarget = {
    region: 'eu',
    kind: 'iam',
    host: 'db.example.eu-central-1.rds.amazonaws.com',
    port: 5432,
    database: 'fleet',
    awsRegion: 'eu-central-1',
  };
  // No connection is made: pools connect lazily.
  const region = new RegionDatabase(target, { host: target.host, port: target.port, database: target.database, user: 'fleet_migrator' }, 1);

  test('session roles authenticate with IAM: no secret, no file', async () => {
    expect(await resolveSessionAuth(region, { clock: new ManualClock(new Date()), credentialsDir: '/nonexistent' })).toEqual({
      kind: 'iam',
      id: 'iam',
    });
  });

  test('each session role connects as itself with a token signed for that database user, over verified TLS', async () => {
    const signed: Array<{ hostname: string; port: number; username: string; region: string }> = [];
    const signerFactory = async (options: { hostname: string; port: number; username: string; region: string }) => {
      signed.push(options);
      return { getAuthToken: async () => `token-for-${options.username}` };
    };
    const clock = new ManualClock(new Date('2026-11-26T10:00:00Z'));
    const acme = await sessionConnectionConfig(region, { kind: 'iam', id: 'iam' }, 'f0a1b2c3d_l_t_acme', { clock, signerFactory });
    const globex = await sessionConnectionConfig(region, { kind: 'iam', id: 'iam' }, 'f0a1b2c3d_l_t_globex', { clock, signerFactory });
    expect(acme).toMatchObject({
      host: target.host,
      port: 5432,
      database: 'fleet',
      user: 'f0a1b2c3d_l_t_acme',
      ssl: { rejectUnauthorized: true },
    });
    expect(globex.user).toBe('f0a1b2c3d_l_t_globex');
    expect(typeof acme.password).toBe('function');
    expect(await (acme.password as () => Promise<string>)()).toBe('token-for-f0a1b2c3d_l_t_acme');
    expect(await (globex.password as () => Promise<string>)()).toBe('token-for-f0a1b2c3d_l_t_globex');
    expect(signed).toEqual([
      { hostname: target.host, port: 5432, username: 'f0a1b2c3d_l_t_acme', region: 'eu-central-1' },
      { hostname: target.host, port: 5432, username: 'f0a1b2c3d_l_t_globex', region: 'eu-central-1' },
    ]);
  });

  test('password mode: the administrator URL with the session role and its derived password in place of the administrator', async () => {
    const url: RegionTarget = { region: 'local', kind: 'url', url: 'postgres://admin:adminpw@127.0.0.1:5432/fleet?sslmode=disable' };
    const local = new RegionDatabase(url, { connectionString: url.url }, 1);
    const config = await sessionConnectionConfig(local, scramAuth(SECRET), 'f0a1b2c3d_l_t_acme', { clock: new ManualClock(new Date()) });
    const parsed = new URL(config.connectionString!);
    expect(parsed.username).toBe('f0a1b2c3d_l_t_acme');
    expect(decodeURIComponent(parsed.password)).toBe(deriveSessionPassword(SECRET, 'f0a1b2c3d_l_t_acme'));
    expect(parsed.pathname).toBe('/fleet');
    expect(parsed.searchParams.get('sslmode')).toBe('disable');
    expect(config.connectionString).not.toContain('adminpw');
    await local.close();
  });
});
