import type { KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors, importSPKI, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { queryStringHash, type CanonicalRequestInput } from './query-string-hash.ts';

/**
 * Verifying an Atlassian Connect install or uninstall callback. Atlassian signs these with its own
 * key (RS256, "signed install"): the token's `kid` header names a public key served at
 * https://connect-install-keys.atlassian.com/<kid>. Checked, in order: a token is there; RS256;
 * a kid; the key; the signature; `exp` (and `nbf`); `aud` is the app's base URL (from its
 * descriptor); `iss` is the payload's clientKey; `qsh` is the hash of this request (method, path,
 * query). The first failure is the answer, with a stable code and the reason in words.
 */

export type VerificationKey = CryptoKey | KeyObject;

/** Looks up Atlassian's public key by the token's kid: a PEM (SPKI) text or an imported key. */
export type KeyFetcher = (kid: string) => Promise<string | VerificationKey>;

export type RejectionCode =
  | 'JWT_MISSING'
  | 'JWT_MALFORMED'
  | 'JWT_ALGORITHM'
  | 'JWT_NO_KID'
  | 'KEY_UNAVAILABLE'
  | 'JWT_BAD_SIGNATURE'
  | 'JWT_EXPIRED'
  | 'JWT_NOT_YET_VALID'
  | 'JWT_WRONG_AUDIENCE'
  | 'JWT_WRONG_ISSUER'
  | 'JWT_WRONG_QSH'
  | 'JWT_CLAIMS_INVALID'
  | 'PAYLOAD_INVALID';

export interface Rejection {
  readonly ok: false;
  readonly code: RejectionCode;
  readonly message: string;
}

export interface ConnectClaims extends JWTPayload {
  readonly qsh?: string;
}

export interface Verified {
  readonly ok: true;
  readonly kid: string;
  readonly claims: ConnectClaims;
}

export interface VerifyLifecycleJwtOptions {
  /** The app's base URL, as in its Connect descriptor: the token's `aud` must be it. */
  readonly appBaseUrl: string;
  /** The request the token came with, for the qsh; a callback is a POST to the lifecycle path. */
  readonly request: CanonicalRequestInput;
  readonly keyFetcher: KeyFetcher;
  /** Time to judge exp/nbf by (the fleet's clock). */
  readonly now: Date;
  /** The payload's clientKey: the token's `iss` must be it. */
  readonly clientKey?: string;
  /** Allowed clock skew for exp/nbf, in seconds; default 0. */
  readonly clockToleranceSeconds?: number;
}

export const ATLASSIAN_INSTALL_KEYS_URL = 'https://connect-install-keys.atlassian.com';
const KID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

function reject(code: RejectionCode, message: string): Rejection {
  return { ok: false, code, message };
}

/** The base URL without trailing slashes, so `https://app.example.com/` and `https://app.example.com` agree. */
function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

export async function verifyLifecycleJwt(token: string | undefined, options: VerifyLifecycleJwtOptions): Promise<Verified | Rejection> {
  const raw = token?.trim().replace(/^JWT\s+/i, '') ?? '';
  if (raw === '')
    return reject(
      'JWT_MISSING',
      'no JWT came with the callback (expected an Authorization: JWT <token> header); install callbacks must be signed by Atlassian ("signed-install"); nothing was changed',
    );

  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(raw);
  } catch (error) {
    return reject('JWT_MALFORMED', `the JWT cannot be decoded: ${(error as Error).message}; nothing was changed`);
  }
  if (header.alg !== 'RS256') {
    return reject(
      'JWT_ALGORITHM',
      `the JWT is signed with ${JSON.stringify(header.alg)}, not RS256: lifecycle callbacks are signed by Atlassian with RS256 (enable "signed-install" in the app descriptor); nothing was changed`,
    );
  }
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '')
    return reject('JWT_NO_KID', 'the JWT has no kid header: the key that signed it cannot be looked up; nothing was changed');
  if (!KID_PATTERN.test(kid) || kid.includes('..'))
    return reject('JWT_MALFORMED', `the JWT's kid ${JSON.stringify(kid.slice(0, 80))} is not a key id; nothing was changed`);

  let key: VerificationKey;
  try {
    const fetched = await options.keyFetcher(kid);
    key = typeof fetched === 'string' ? await importSPKI(fetched, 'RS256') : fetched;
  } catch (error) {
    return reject(
      'KEY_UNAVAILABLE',
      `the public key ${JSON.stringify(kid)} could not be obtained: ${(error as Error).message}; nothing was changed (retry later; Atlassian retries failed callbacks)`,
    );
  }

  const audience = normalizeBaseUrl(options.appBaseUrl);
  let claims: ConnectClaims;
  try {
    const verified = await jwtVerify<ConnectClaims>(raw, key, {
      algorithms: ['RS256'],
      audience: [audience, `${audience}/`],
      currentDate: options.now,
      clockTolerance: options.clockToleranceSeconds ?? 0,
      requiredClaims: ['exp', 'iss', 'qsh'],
    });
    claims = verified.payload;
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed)
      return reject(
        'JWT_BAD_SIGNATURE',
        `the JWT's signature does not verify with Atlassian's key ${JSON.stringify(kid)}: it was not signed by Atlassian or was altered; nothing was changed`,
      );
    if (error instanceof errors.JWTExpired)
      return reject('JWT_EXPIRED', `the JWT expired (${error.message}; now ${options.now.toISOString()}); nothing was changed`);
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'aud')
        return reject(
          'JWT_WRONG_AUDIENCE',
          `the JWT's aud ${JSON.stringify(decodeClaim(raw, 'aud'))} is not this app's base URL ${JSON.stringify(audience)}: it was issued for another app; nothing was changed`,
        );
      if (error.claim === 'nbf') return reject('JWT_NOT_YET_VALID', `the JWT is not valid yet (${error.message}); nothing was changed`);
      return reject('JWT_CLAIMS_INVALID', `the JWT's claims are not valid: ${error.message} (${error.claim}); nothing was changed`);
    }
    if (error instanceof errors.JOSEAlgNotAllowed) return reject('JWT_ALGORITHM', `${(error as Error).message}; nothing was changed`);
    return reject('JWT_MALFORMED', `the JWT is not valid: ${(error as Error).message}; nothing was changed`);
  }

  if (options.clientKey !== undefined && claims.iss !== options.clientKey) {
    return reject(
      'JWT_WRONG_ISSUER',
      `the JWT's iss ${JSON.stringify(claims.iss)} is not the payload's clientKey ${JSON.stringify(options.clientKey)}; nothing was changed`,
    );
  }
  const expected = queryStringHash(options.request, options.appBaseUrl);
  if (claims.qsh !== expected) {
    return reject(
      'JWT_WRONG_QSH',
      `the JWT's qsh does not match this request (${options.request.method.toUpperCase()} ${options.request.path}): it was issued for another request; nothing was changed`,
    );
  }
  return { ok: true, kid, claims };
}

function decodeClaim(token: string, name: string): unknown {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    return payload[name];
  } catch {
    return undefined;
  }
}

export interface AtlassianKeyFetcherOptions {
  /** Default Atlassian's CDN. */
  readonly baseUrl?: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/**
 * The default key fetcher: Atlassian's public key CDN, one key per kid. A kid names one key
 * forever (a rotation makes a new kid), so keys are cached by kid for the life of the fetcher.
 */
export function atlassianKeyFetcher(options: AtlassianKeyFetcherOptions = {}): KeyFetcher {
  const base = (options.baseUrl ?? ATLASSIAN_INSTALL_KEYS_URL).replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const cache = new Map<string, string>();
  return async (kid) => {
    const cached = cache.get(kid);
    if (cached) return cached;
    const url = `${base}/${kid.split('/').map(encodeURIComponent).join('/')}`;
    const response = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    const pem = (await response.text()).trim();
    if (!pem.startsWith('-----BEGIN PUBLIC KEY-----')) throw new Error(`${url} did not return a PEM public key`);
    cache.set(kid, pem);
    return pem;
  };
}

/** A fetcher that answers every kid with one key: offline verification with a key file. */
export function fixedKeyFetcher(key: string | VerificationKey): KeyFetcher {
  return async () => key;
}
