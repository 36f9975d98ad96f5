import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../clock.ts';

/**
 * Forge's token signing keys: the JWKS Forge publishes, fetched through an injectable fetcher and
 * cached. A kid not in the cached set triggers one refetch (at most every `minRefetchMs`), since
 * Forge rotates keys by publishing new kids. A set that cannot be fetched, and no fresh cached
 * copy, is a refusal (fail closed), never a pass.
 */
export const FORGE_JWKS_URL = 'https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json';

export type JwksFetcher = (url: string) => Promise<unknown>;

export interface ForgeKeySetOptions {
  readonly url?: string;
  /** Returns the parsed JSON of the JWKS; default fetch with a 5 s timeout. */
  readonly fetcher?: JwksFetcher;
  /** How long a fetched set is trusted; default 10 minutes. */
  readonly ttlMs?: number;
  /** Unknown kids refetch at most this often; default 30 s. */
  readonly minRefetchMs?: number;
  readonly clock: Clock;
}

export class KeyUnavailable extends Error {}

const MAX_KEYS = 50;

export function defaultJwksFetcher(timeoutMs = 5000): JwksFetcher {
  return async (url) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    return response.json();
  };
}

export class ForgeKeySet {
  readonly url: string;
  readonly #fetcher: JwksFetcher;
  readonly #ttlMs: number;
  readonly #minRefetchMs: number;
  readonly #clock: Clock;
  #keys = new Map<string, CryptoKey>();
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;

  constructor(options: ForgeKeySetOptions) {
    this.url = options.url ?? FORGE_JWKS_URL;
    this.#fetcher = options.fetcher ?? defaultJwksFetcher();
    this.#ttlMs = options.ttlMs ?? 600_000;
    this.#minRefetchMs = options.minRefetchMs ?? 30_000;
    this.#clock = options.clock;
  }

  /** The key for kid; undefined when the (fresh) set has no such key; throws KeyUnavailable when no fresh set can be had. */
  async key(kid: string): Promise<CryptoKey | undefined> {
    const now = this.#clock.now().getTime();
    const fresh = now - this.#fetchedAt < this.#ttlMs;
    if (!fresh) {
      await this.#refresh();
    } else if (!this.#keys.has(kid) && now - this.#attemptedAt >= this.#minRefetchMs) {
      await this.#refresh().catch(() => undefined);
    }
    return this.#keys.get(kid);
  }

  /** Drop the cached set (tests; a key compromise announced by Atlassian). */
  clear(): void {
    this.#keys = new Map();
    this.#fetchedAt = Number.NEGATIVE_INFINITY;
    this.#attemptedAt = Number.NEGATIVE_INFINITY;
  }

  #refresh(): Promise<void> {
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(): Promise<void> {
    this.#attemptedAt = this.#clock.now().getTime();
    let body: unknown;
    try {
      body = await this.#fetcher(this.url);
    } catch (error) {
      throw new KeyUnavailable(`Forge's signing keys could not be fetched from ${this.url}: ${(error as Error).message}`);
    }
    const list = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new KeyUnavailable(`${this.url} did not return a JWKS (no "keys" array)`);
    const keys = new Map<string, CryptoKey>();
    for (const jwk of list.slice(0, MAX_KEYS) as JWK[]) {
      if (
        typeof jwk !== 'object' ||
        jwk === null ||
        jwk.kty !== 'RSA' ||
        typeof jwk.kid !== 'string' ||
        typeof jwk.n !== 'string' ||
        typeof jwk.e !== 'string'
      )
        continue;
      if (jwk.alg !== undefined && jwk.alg !== 'RS256') continue;
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      try {
        keys.set(jwk.kid, (await importJWK({ kty: jwk.kty, n: jwk.n, e: jwk.e }, 'RS256')) as CryptoKey);
      } catch {
        // A malformed entry is skipped: the others still verify.
      }
    }
    this.#keys = keys;
    this.#fetchedAt = this.#clock.now().getTime();
  }
}
