import { webcrypto } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import type { Fleet } from '../fleet.ts';
import { FleetError } from '../errors.ts';
import { tenantIdProblem } from '../tenants/ids.ts';
import { touchTenant } from '../tenants/touch.ts';
import { queryStringHash, type CanonicalRequestInput } from '../atlassian/query-string-hash.ts';
import {
  openConnectCredentials,
  openSecretBox,
  readInstallation,
  type AppSecretOptions,
  type InstallationKind,
} from '../atlassian/installations.ts';
import type { SecretBox } from '../atlassian/secret-box.ts';
import type { TenantStatus } from '../tenants/tenant-row.ts';
import { ForgeKeySet, KeyUnavailable, type JwksFetcher } from './forge-keys.ts';

/**
 * The request guard: which tenant a request comes from, proven before any tenant data is touched.
 *
 * Connect (`Authorization: JWT <token>` or `?jwt=`): HS256 only; the unverified `iss` only picks the
 * tenant (its lowercase is the tenant id), whose sharedSecret then verifies the token; `exp`
 * required (a small skew allowed); `qsh` required and equal to this request's hash, or exactly
 * "context-qsh" on routes marked as context routes.
 * Forge (`Authorization: Bearer <FIT>`): RS256 against Forge's JWKS; `iss` forge/invocation-token;
 * `aud` the app id; `exp` required, `nbf` checked; the tenant is the site's cloudId and the token's
 * installationId must be the tenant's current one.
 * Both: the tenant must be active (a route may accept more statuses, e.g. `moving` for the
 * realm-migration hooks of the tenant being moved: the token is verified the same way). The answer
 * is the tenant or a rejection with a code and a reason that carries neither a secret nor any
 * tenant's data.
 *
 * A warm tenant costs no query: its status, installation and verification key are cached in this
 * process (`cacheTtlMs`, default 10 s, bounds how late a change made by another process is seen;
 * changes through this process's lifecycle handlers drop the entry at once). The cache is a filter,
 * not the authority: withTenant re-reads the status in the transaction that does the work.
 */
export type GuardKind = 'connect' | 'forge';

export interface GuardedTenant {
  readonly tenantId: string;
  readonly kind: GuardKind;
  /** Connect: the token's `sub` (the user's account id); Forge: the FIT's `principal`. */
  readonly principal?: string;
  /** Forge: the installation the token was issued for. */
  readonly installationId?: string;
}

export type GuardRejectionCode =
  | 'TOKEN_MISSING'
  | 'TOKEN_MALFORMED'
  | 'TOKEN_ALGORITHM'
  | 'TOKEN_SIGNATURE'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'TOKEN_CLAIMS'
  | 'TOKEN_QSH'
  | 'KEY_UNKNOWN'
  | 'KEY_UNAVAILABLE'
  | 'TENANT_UNKNOWN'
  | 'INSTALLATION_MISMATCH'
  | 'TENANT_NOT_ACTIVE';

export interface GuardRejection {
  readonly ok: false;
  readonly code: GuardRejectionCode;
  readonly reason: string;
  /** 403 for a known tenant (proven by its token) that is not active; 401 otherwise. */
  readonly status: 401 | 403;
}

export type GuardResult = ({ readonly ok: true } & GuardedTenant) | GuardRejection;

export interface GuardRequest {
  readonly method: string;
  /** The path as received, without the query. */
  readonly path: string;
  /** The raw query string (with or without `?`) or parsed parameters. */
  readonly query?: CanonicalRequestInput['query'];
  readonly authorization?: string | readonly string[] | undefined;
}

export interface ConnectGuardOptions {
  /** The app's base URL from its descriptor (its path prefix is left out of the qsh). */
  readonly appBaseUrl: string;
  /** Allowed clock skew for exp/nbf, seconds; default 30. */
  readonly clockToleranceSeconds?: number;
}

export interface ForgeGuardOptions {
  /** The app's id, e.g. ari:cloud:ecosystem::app/<uuid>: the FIT's `aud`. */
  readonly appId: string;
  readonly jwksUrl?: string;
  readonly jwksFetcher?: JwksFetcher;
  readonly jwksTtlMs?: number;
  readonly clockToleranceSeconds?: number;
}

export interface RequestGuardOptions extends AppSecretOptions {
  readonly connect?: ConnectGuardOptions;
  readonly forge?: ForgeGuardOptions;
  /** The box that opens sealed Connect secrets; default from the application secret (openSecretBox). */
  readonly secretBox?: SecretBox;
  /** How long a tenant's cached status and key are trusted; default 10 s. */
  readonly cacheTtlMs?: number;
  /** Longest token accepted, characters; default 8192. */
  readonly maxTokenLength?: number;
}

export interface ConnectCheck {
  /** A context route: the token's qsh must be exactly "context-qsh". */
  readonly context?: boolean;
  /**
   * The tenant statuses this route serves; default `['active']`. Only for routes that touch no
   * tenant data: withTenant serves active tenants whatever the guard let through.
   */
  readonly statuses?: readonly TenantStatus[];
}

export interface ForgeCheck {
  /**
   * 'installed': the tenant may be unknown or have another installation (the event that registers
   * it); 'lifecycle': the installation must be current but the tenant need not be active.
   */
  readonly lifecycle?: 'installed' | 'lifecycle';
  /** As for Connect: the tenant statuses this route serves; default `['active']`. */
  readonly statuses?: readonly TenantStatus[];
}

export interface RequestGuard {
  readonly fleet: Fleet;
  verifyConnect(request: GuardRequest, check?: ConnectCheck): Promise<GuardResult>;
  verifyForge(request: GuardRequest, check?: ForgeCheck): Promise<GuardResult>;
  /** Forget what is cached about a tenant (after an install, uninstall, purge). */
  invalidate(tenantId: string): void;
  /** The box sealing Connect secrets (for the installed callback). */
  secretBox(): Promise<SecretBox>;
}

interface Entry {
  readonly loadedAt: number;
  readonly status: string;
  readonly disconnectCause: string | null;
  readonly kind: InstallationKind | null;
  readonly installationId: string | null;
  readonly hmacKey: CryptoKey | null;
}

const CONTEXT_QSH = 'context-qsh';
const FORGE_ISSUER = 'forge/invocation-token';
const NEGATIVE_TTL_MS = 5_000;
const MAX_ENTRIES = 100_000;

function reject(code: GuardRejectionCode, reason: string, status: 401 | 403 = 401): GuardRejection {
  return { ok: false, code, reason, status };
}

function headerValue(authorization: GuardRequest['authorization']): string | undefined | null {
  if (authorization === undefined) return undefined;
  if (typeof authorization === 'string') return authorization;
  // Two Authorization headers: which one the caller meant cannot be known.
  return authorization.length === 1 ? (authorization[0] as string) : null;
}

function queryJwt(query: GuardRequest['query']): string | undefined | null {
  if (query === undefined) return undefined;
  if (typeof query === 'string' || query instanceof URLSearchParams) {
    const params = typeof query === 'string' ? new URLSearchParams(query.startsWith('?') ? query.slice(1) : query) : query;
    const all = params.getAll('jwt');
    return all.length === 0 ? undefined : all.length === 1 ? (all[0] as string) : null;
  }
  const value = (query as Record<string, string | readonly string[] | undefined>).jwt;
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value.length === 1 ? (value[0] as string) : null;
}

function verifyFailure(error: unknown, what: string): GuardRejection {
  if (error instanceof errors.JWSSignatureVerificationFailed) return reject('TOKEN_SIGNATURE', `the ${what}'s signature does not verify`);
  if (error instanceof errors.JWTExpired) return reject('TOKEN_EXPIRED', `the ${what} has expired`);
  if (error instanceof errors.JOSEAlgNotAllowed) return reject('TOKEN_ALGORITHM', `the ${what}'s algorithm is not allowed`);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return reject('TOKEN_NOT_YET_VALID', `the ${what} is not valid yet (nbf)`);
    return reject('TOKEN_CLAIMS', `the ${what}'s ${error.claim} claim is missing or wrong (${error.reason})`);
  }
  return reject('TOKEN_MALFORMED', `the ${what} is not a valid JWT`);
}

export function createRequestGuard(fleet: Fleet, options: RequestGuardOptions): RequestGuard {
  if (!options.connect && !options.forge)
    throw new FleetError('CONFIG_INVALID', 'the request guard needs a connect or a forge configuration (or both)');
  if (options.connect) {
    try {
      new URL(options.connect.appBaseUrl);
    } catch {
      throw new FleetError(
        'CONFIG_INVALID',
        `the app base URL ${JSON.stringify(options.connect.appBaseUrl)} is not a URL: pass the baseUrl of the app's Connect descriptor`,
      );
    }
  }
  if (options.forge && !options.forge.appId)
    throw new FleetError(
      'CONFIG_INVALID',
      'the Forge app id is empty: pass the app id from manifest.yml (ari:cloud:ecosystem::app/<uuid>), e.g. from FORGE_APP_ID',
    );
  const ttl = options.cacheTtlMs ?? 10_000;
  const maxToken = options.maxTokenLength ?? 8192;
  const clock = fleet.clock;
  const cache = new Map<string, Entry | { loadedAt: number; missing: true }>();
  const loading = new Map<string, Promise<Entry | undefined>>();
  let box: Promise<SecretBox> | undefined = options.secretBox ? Promise.resolve(options.secretBox) : undefined;
  const secretBox = () =>
    (box ??= openSecretBox(fleet, options).catch((error: unknown) => {
      box = undefined;
      throw error;
    }));
  const keySet = options.forge
    ? new ForgeKeySet({
        clock,
        ...(options.forge.jwksUrl ? { url: options.forge.jwksUrl } : {}),
        ...(options.forge.jwksFetcher ? { fetcher: options.forge.jwksFetcher } : {}),
        ...(options.forge.jwksTtlMs ? { ttlMs: options.forge.jwksTtlMs } : {}),
      })
    : undefined;

  // Bumped by invalidate: a load that started before it does not cache what it read.
  let epoch = 0;

  async function load(tenantId: string): Promise<Entry | undefined> {
    const started = epoch;
    const found = await readInstallation(fleet, tenantId);
    const now = clock.now().getTime();
    if (cache.size >= MAX_ENTRIES) cache.clear();
    if (!found) {
      if (started === epoch) cache.set(tenantId, { loadedAt: now, missing: true });
      return undefined;
    }
    const { row } = found;
    let hmacKey: CryptoKey | null = null;
    if (row.kind === 'connect' && row.secret_box) {
      const credentials = openConnectCredentials(await secretBox(), tenantId, row);
      hmacKey = (await webcrypto.subtle.importKey(
        'raw',
        Buffer.from(credentials.sharedSecret, 'utf8'),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['verify'],
      )) as CryptoKey;
    }
    const entry: Entry = {
      loadedAt: now,
      status: row.status,
      disconnectCause: row.disconnect_cause,
      kind: row.kind,
      installationId: row.installation_id,
      hmacKey,
    };
    if (started === epoch) cache.set(tenantId, entry);
    return entry;
  }

  async function lookup(tenantId: string): Promise<Entry | undefined> {
    const cached = cache.get(tenantId);
    const now = clock.now().getTime();
    if (cached && now >= cached.loadedAt && now - cached.loadedAt < ('missing' in cached ? NEGATIVE_TTL_MS : ttl))
      return 'missing' in cached ? undefined : cached;
    let pending = loading.get(tenantId);
    if (!pending) {
      pending = load(tenantId).finally(() => loading.delete(tenantId));
      loading.set(tenantId, pending);
    }
    return pending;
  }

  /**
   * After the token proved the tenant: in a status the route serves (active, unless the route says
   * more), or back from a sweep's silence by this very contact.
   */
  async function servedOr403(
    tenantId: string,
    entry: Entry,
    statuses: readonly TenantStatus[] = ['active'],
  ): Promise<GuardRejection | undefined> {
    if ((statuses as readonly string[]).includes(entry.status)) return undefined;
    if (statuses.includes('active') && entry.status === 'disconnected' && entry.disconnectCause === 'stale') {
      const touched = await touchTenant(fleet, tenantId);
      cache.delete(tenantId);
      if (touched.resumed || touched.status === 'active') return undefined;
    }
    return reject(
      'TENANT_NOT_ACTIVE',
      entry.status === 'moving' || entry.status === 'restoring'
        ? `the tenant is ${entry.status === 'moving' ? 'being moved to another region' : 'being restored'}; it is served again when that is done`
        : `the tenant is ${entry.status === 'provisioning' ? 'still being provisioned' : entry.status === 'purged' ? 'uninstalled and its data deleted' : 'not active (uninstalled or disconnected)'}; a reinstall makes it active again`,
      403,
    );
  }

  async function verifyConnect(request: GuardRequest, check: ConnectCheck = {}): Promise<GuardResult> {
    const connect = options.connect;
    if (!connect) return reject('TOKEN_MISSING', 'this app does not accept Atlassian Connect tokens');
    const header = headerValue(request.authorization);
    if (header === null) return reject('TOKEN_MALFORMED', 'more than one Authorization header');
    let token: string | undefined | null;
    if (header !== undefined) {
      const match = /^JWT ([^\s]+)$/.exec(header.trim());
      if (!match)
        return reject(header.length > maxToken ? 'TOKEN_MALFORMED' : 'TOKEN_MISSING', 'the Authorization header is not "JWT <token>"');
      token = match[1];
    } else {
      token = queryJwt(request.query);
      if (token === null) return reject('TOKEN_MALFORMED', 'more than one jwt query parameter');
    }
    if (!token) return reject('TOKEN_MISSING', 'no token: send Authorization: JWT <token> (or ?jwt=)');
    if (token.length > maxToken) return reject('TOKEN_MALFORMED', `the token is longer than ${maxToken} characters`);

    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      return reject('TOKEN_MALFORMED', 'the token is not a JWT');
    }
    if (alg !== 'HS256') return reject('TOKEN_ALGORITHM', 'Connect tokens are signed with HS256; no other algorithm is accepted');
    // Unverified: it only picks whose secret to verify with.
    if (typeof iss !== 'string' || iss.length === 0) return reject('TOKEN_CLAIMS', 'the token has no iss (clientKey)');
    const tenantId = iss.toLowerCase();
    if (tenantIdProblem(tenantId) !== undefined) return reject('TENANT_UNKNOWN', "the token's issuer is not an installed tenant");
    const entry = await lookup(tenantId);
    if (!entry || entry.kind !== 'connect' || !entry.hmacKey)
      return reject('TENANT_UNKNOWN', "the token's issuer is not an installed Connect tenant");

    let claims: JWTPayload & { qsh?: unknown };
    try {
      ({ payload: claims } = await jwtVerify(token, entry.hmacKey, {
        algorithms: ['HS256'],
        currentDate: clock.now(),
        clockTolerance: connect.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp', 'iss', 'qsh'],
      }));
    } catch (error) {
      return verifyFailure(error, 'token');
    }
    if (claims.iss !== iss) return reject('TOKEN_CLAIMS', "the token's iss changed");
    if (check.context) {
      if (claims.qsh !== CONTEXT_QSH) return reject('TOKEN_QSH', 'this is a context route: the token\'s qsh must be "context-qsh"');
    } else {
      let expected: string;
      try {
        expected = queryStringHash(
          { method: request.method, path: request.path, ...(request.query !== undefined ? { query: request.query } : {}) },
          connect.appBaseUrl,
        );
      } catch {
        return reject('TOKEN_QSH', "the request's query cannot be hashed");
      }
      if (claims.qsh !== expected) return reject('TOKEN_QSH', "the token's qsh does not match this request (method, path and query)");
    }
    const inactive = await servedOr403(tenantId, entry, check.statuses);
    if (inactive) return inactive;
    return { ok: true, tenantId, kind: 'connect', ...(typeof claims.sub === 'string' ? { principal: claims.sub } : {}) };
  }

  async function verifyForge(request: GuardRequest, check: ForgeCheck = {}): Promise<GuardResult> {
    const forge = options.forge;
    if (!forge || !keySet) return reject('TOKEN_MISSING', 'this app does not accept Forge invocation tokens');
    const header = headerValue(request.authorization);
    if (header === null) return reject('TOKEN_MALFORMED', 'more than one Authorization header');
    if (header === undefined || header.trim() === '')
      return reject('TOKEN_MISSING', 'no token: send Authorization: Bearer <Forge invocation token>');
    const match = /^Bearer ([^\s]+)$/.exec(header.trim());
    if (!match)
      return reject(header.length > maxToken ? 'TOKEN_MALFORMED' : 'TOKEN_MISSING', 'the Authorization header is not "Bearer <token>"');
    const token = match[1] as string;
    if (token.length > maxToken) return reject('TOKEN_MALFORMED', `the token is longer than ${maxToken} characters`);

    let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
    try {
      protectedHeader = decodeProtectedHeader(token);
    } catch {
      return reject('TOKEN_MALFORMED', 'the token is not a JWT');
    }
    if (protectedHeader.alg !== 'RS256')
      return reject('TOKEN_ALGORITHM', 'Forge invocation tokens are signed with RS256; no other algorithm is accepted');
    if (typeof protectedHeader.kid !== 'string' || protectedHeader.kid === '' || protectedHeader.kid.length > 200)
      return reject('KEY_UNKNOWN', 'the token names no key (kid)');
    let key: CryptoKey | undefined;
    try {
      key = await keySet.key(protectedHeader.kid);
    } catch (error) {
      if (error instanceof KeyUnavailable)
        return reject('KEY_UNAVAILABLE', "Forge's signing keys cannot be fetched right now; retry later");
      throw error;
    }
    if (!key) return reject('KEY_UNKNOWN', "the token's key is not one of Forge's signing keys");

    let claims: JWTPayload & { app?: { installationId?: unknown }; context?: { cloudId?: unknown }; principal?: unknown };
    try {
      ({ payload: claims } = await jwtVerify(token, key, {
        algorithms: ['RS256'],
        issuer: FORGE_ISSUER,
        audience: forge.appId,
        currentDate: clock.now(),
        clockTolerance: forge.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp', 'iss', 'aud'],
      }));
    } catch (error) {
      return verifyFailure(error, 'Forge invocation token');
    }
    const installationId = claims.app?.installationId;
    const cloudId = claims.context?.cloudId;
    if (typeof installationId !== 'string' || installationId === '') return reject('TOKEN_CLAIMS', 'the token has no app.installationId');
    if (typeof cloudId !== 'string' || tenantIdProblem(cloudId.toLowerCase()) !== undefined)
      return reject('TOKEN_CLAIMS', 'the token has no usable context.cloudId');
    const tenantId = cloudId.toLowerCase();
    const principal = typeof claims.principal === 'string' ? { principal: claims.principal } : {};
    if (check.lifecycle === 'installed') return { ok: true, tenantId, kind: 'forge', installationId, ...principal };

    const entry = await lookup(tenantId);
    if (!entry || entry.kind !== 'forge') return reject('TENANT_UNKNOWN', "the token's site is not an installed Forge tenant");
    if (entry.installationId !== installationId)
      return reject('INSTALLATION_MISMATCH', 'the token was issued for another installation of the app (an earlier install)');
    if (check.lifecycle !== 'lifecycle') {
      const inactive = await servedOr403(tenantId, entry, check.statuses);
      if (inactive) return inactive;
    }
    return { ok: true, tenantId, kind: 'forge', installationId, ...principal };
  }

  return {
    fleet,
    verifyConnect,
    verifyForge,
    invalidate: (tenantId) => {
      epoch += 1;
      cache.delete(tenantId);
      loading.delete(tenantId);
    },
    secretBox,
  };
}
