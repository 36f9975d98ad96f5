import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, test } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { ForgeKeySet, KeyUnavailable } from '../../../src/requests/forge-keys.ts';

async function jwks(kids: string[]) {
  const keys = [];
  for (const kid of kids)
    keys.push({ ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey)), kid, alg: 'RS256', use: 'sig' });
  return { keys };
}

describe("ForgeKeySet: Forge's JWKS, cached, failing closed", () => {
  test('fetched once while fresh; an unknown kid refetches at most every minRefetchMs', async () => {
    const clock = new ManualClock();
    const body = await jwks(['k1']);
    let fetches = 0;
    const set = new ForgeKeySet({ clock, ttlMs: 600_000, minRefetchMs: 30_000, fetcher: async () => ((fetches += 1), body) });
    expect(await set.key('k1')).toBeDefined();
    expect(await set.key('k1')).toBeDefined();
    expect(fetches).toBe(1);
    expect(await set.key('unknown')).toBeUndefined();
    expect(await set.key('unknown')).toBeUndefined();
    expect(fetches).toBe(1);
    clock.advance(31_000);
    expect(await set.key('unknown')).toBeUndefined();
    expect(fetches).toBe(2);
  });

  test('a JWKS that cannot be fetched, with no fresh copy: KeyUnavailable, never a key', async () => {
    const clock = new ManualClock();
    let up = true;
    const body = await jwks(['k1']);
    const set = new ForgeKeySet({
      clock,
      ttlMs: 600_000,
      fetcher: async () => {
        if (!up) throw new Error('503');
        return body;
      },
    });
    expect(await set.key('k1')).toBeDefined();
    up = false;
    clock.advance(601_000);
    await expect(set.key('k1')).rejects.toBeInstanceOf(KeyUnavailable);
    const empty = new ForgeKeySet({ clock, fetcher: async () => ({ nothing: true }) });
    await expect(empty.key('k1')).rejects.toBeInstanceOf(KeyUnavailable);
  });

  test('only RSA signing keys for RS256 are taken', async () => {
    const clock = new ManualClock();
    const good = await jwks(['good']);
    const set = new ForgeKeySet({
      clock,
      fetcher: async () => ({
        keys: [
          ...good.keys,
          { ...good.keys[0], kid: 'enc', use: 'enc' },
          { ...good.keys[0], kid: 'ps', alg: 'PS256' },
          { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' },
        ],
      }),
    });
    expect(await set.key('good')).toBeDefined();
    for (const kid of ['enc', 'ps', 'hmac']) expect(await set.key(kid), kid).toBeUndefined();
  });
});
