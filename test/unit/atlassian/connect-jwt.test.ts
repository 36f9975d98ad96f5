import { beforeAll, describe, expect, test } from 'vitest';
import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { atlassianKeyFetcher, fixedKeyFetcher, verifyLifecycleJwt, type KeyFetcher } from '../../../src/atlassian/connect-jwt.ts';
import { queryStringHash } from '../../../src/atlassian/query-string-hash.ts';

const APP = 'https://app.example.com';
const CLIENT = 'b4c1e1f2-0000-4000-8000-000000000001';
const NOW = new Date('2026-03-01T12:00:00Z');
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

let atlassian: { publicKey: CryptoKey; privateKey: CryptoKey };
let impostor: { publicKey: CryptoKey; privateKey: CryptoKey };
let keys: KeyFetcher;

beforeAll(async () => {
  atlassian = await generateKeyPair('RS256');
  impostor = await generateKeyPair('RS256');
  const pem = await exportSPKI(atlassian.publicKey);
  keys = async (kid) => {
    if (kid !== 'key-1') throw new Error(`no key ${kid}`);
    return pem;
  };
});

interface TokenOptions {
  key?: CryptoKey;
  kid?: string | null;
  aud?: string;
  iss?: string;
  exp?: Date;
  qsh?: string | null;
}

async function token(options: TokenOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {};
  const qsh = options.qsh === undefined ? queryStringHash({ method: 'POST', path: '/installed' }) : options.qsh;
  if (qsh !== null) claims.qsh = qsh;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(options.kid === null ? {} : { kid: options.kid ?? 'key-1' }) })
    .setIssuer(options.iss ?? CLIENT)
    .setAudience(options.aud ?? APP)
    .setIssuedAt(seconds(NOW) - 10)
    .setExpirationTime(seconds(options.exp ?? new Date(NOW.getTime() + 180_000)));
  return jwt.sign(options.key ?? atlassian.privateKey);
}

const verify = (jwt: string | undefined, overrides: Partial<Parameters<typeof verifyLifecycleJwt>[1]> = {}) =>
  verifyLifecycleJwt(jwt, {
    appBaseUrl: APP,
    request: { method: 'POST', path: '/installed' },
    keyFetcher: keys,
    now: NOW,
    clientKey: CLIENT,
    ...overrides,
  });

describe('Connect lifecycle JWT', () => {
  test('a token signed by Atlassian for this app, this request and this site verifies', async () => {
    const result = await verify(await token());
    expect(result).toMatchObject({ ok: true, kid: 'key-1', claims: { iss: CLIENT, aud: APP } });
    expect((await verify(`JWT ${await token()}`)).ok).toBe(true);
    expect((await verify(await token(), { appBaseUrl: `${APP}/` })).ok).toBe(true);
  });

  test.each([
    ['missing', async () => undefined, 'JWT_MISSING'],
    ['empty', async () => '  ', 'JWT_MISSING'],
    ['garbage', async () => 'not.a.jwt', 'JWT_MALFORMED'],
    ['signed by another key', () => token({ key: impostor.privateKey }), 'JWT_BAD_SIGNATURE'],
    ['for another app', () => token({ aud: 'https://evil.example.com' }), 'JWT_WRONG_AUDIENCE'],
    ['expired', () => token({ exp: new Date(NOW.getTime() - 1000) }), 'JWT_EXPIRED'],
    ['for another request', () => token({ qsh: queryStringHash({ method: 'POST', path: '/uninstalled' }) }), 'JWT_WRONG_QSH'],
    ['without qsh', () => token({ qsh: null }), 'JWT_CLAIMS_INVALID'],
    ['for another site', () => token({ iss: 'another-site' }), 'JWT_WRONG_ISSUER'],
    ['without kid', () => token({ kid: null }), 'JWT_NO_KID'],
    ['with an unknown kid', () => token({ kid: 'key-2' }), 'KEY_UNAVAILABLE'],
    ['with a path in its kid', () => token({ kid: '../../etc/passwd' }), 'JWT_MALFORMED'],
  ])('a token %s is rejected, with the reason', async (_name, make, code) => {
    const result = await verify(await make());
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(code);
      expect(result.message).toMatch(/nothing was changed/);
    }
  });

  test("an HS256 token (shared secret, not Atlassian's signature) is rejected", async () => {
    const hs = await new SignJWT({ qsh: queryStringHash({ method: 'POST', path: '/installed' }) })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .setIssuer(CLIENT)
      .setAudience(APP)
      .setExpirationTime(seconds(NOW) + 60)
      .sign(new TextEncoder().encode('a-shared-secret-of-enough-length-000'));
    expect(await verify(hs)).toMatchObject({ ok: false, code: 'JWT_ALGORITHM' });
  });

  test('a tolerance admits small clock skew, not more', async () => {
    const justExpired = await token({ exp: new Date(NOW.getTime() - 20_000) });
    expect((await verify(justExpired, { clockToleranceSeconds: 30 })).ok).toBe(true);
    expect((await verify(justExpired, { clockToleranceSeconds: 10 })).ok).toBe(false);
  });

  test('the qsh covers the app base URL path: a token for /app/installed verifies under that base URL', async () => {
    const base = 'https://host.example.com/app';
    const jwt = await token({ aud: base, qsh: queryStringHash({ method: 'POST', path: '/installed' }) });
    expect((await verify(jwt, { appBaseUrl: base, request: { method: 'POST', path: '/app/installed' } })).ok).toBe(true);
    expect((await verify(jwt, { appBaseUrl: base, request: { method: 'POST', path: '/app/uninstalled' } })).ok).toBe(false);
  });

  test('the CDN fetcher asks for <base>/<kid>, caches by kid, refuses what is not a PEM key', async () => {
    const pem = await exportSPKI(atlassian.publicKey);
    const asked: string[] = [];
    const fetcher = atlassianKeyFetcher({
      baseUrl: 'https://keys.example.com/',
      fetch: (async (url: string) => {
        asked.push(url);
        if (url.endsWith('/bad')) return new Response('<html>oops</html>', { status: 200 });
        if (url.endsWith('/gone')) return new Response('', { status: 404 });
        return new Response(`${pem}\n`, { status: 200 });
      }) as typeof fetch,
    });
    expect(await fetcher('key-1')).toBe(pem.trim());
    await fetcher('key-1');
    expect(asked).toEqual(['https://keys.example.com/key-1']);
    await expect(fetcher('bad')).rejects.toThrow(/not return a PEM/);
    await expect(fetcher('gone')).rejects.toThrow(/HTTP 404/);
    expect((await verify(await token(), { keyFetcher: fixedKeyFetcher(atlassian.publicKey) })).ok).toBe(true);
  });
});
