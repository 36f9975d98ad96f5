import type { Fleet } from '../fleet.ts';
import { FleetError } from '../errors.ts';
import { tenantIdProblem } from '../tenants/ids.ts';
import { installTenant, type InstallResult } from '../lifecycle/install.ts';
import { uninstallTenant } from '../lifecycle/uninstall.ts';
import { findTenant } from '../tenants/tenant-row.ts';
import type { TransitionResult } from '../lifecycle/transition.ts';
import type { CanonicalRequestInput } from './query-string-hash.ts';
import { createHash } from 'node:crypto';
import { atlassianKeyFetcher, verifyLifecycleJwt, type KeyFetcher, type RejectionCode } from './connect-jwt.ts';
import type { SecretBox } from './secret-box.ts';
import { storeConnectCredentials } from './installations.ts';

/** The fields of a Connect lifecycle payload the fleet uses (it carries more: the app stores those). */
export interface LifecyclePayload {
  readonly eventType: 'installed' | 'uninstalled';
  /** The Atlassian site's installation: the tenant id. */
  readonly clientKey: string;
  /** The app's key. */
  readonly key?: string;
  /** The site's URL. */
  readonly baseUrl?: string;
  /** The tenant's HS256 secret for the requests that follow (installed only). */
  readonly sharedSecret?: string;
}

export type CallbackRejectionCode = RejectionCode | 'JWT_REPLAYED' | 'EVENT_MISMATCH';

/** Remembers accepted callback tokens until they expire; `remember` is false when it was seen already. */
export interface ReplayCache {
  remember(tokenHash: string, expiresAt: Date): Promise<boolean>;
  forget(tokenHash: string): Promise<void>;
}

export interface ReceiveCallbackOptions {
  /** The JWT from the Authorization header (`JWT <token>` or the bare token). */
  readonly jwt: string | undefined;
  /** The parsed JSON body. */
  readonly payload: unknown;
  /** The app's base URL, as in its Connect descriptor. */
  readonly appBaseUrl: string;
  /** The request as received; default a POST to `/installed` or `/uninstalled` (the eventType) with no query. */
  readonly request?: CanonicalRequestInput;
  /**
   * The event the route serves. The payload's eventType must be it: the qsh binds the token to the
   * path, this binds the path to the event, so a token signed for /installed cannot uninstall.
   * Default: the last segment of `request.path` (when a request is given).
   */
  readonly event?: 'installed' | 'uninstalled';
  /** Default: Atlassian's public key CDN, keys cached by kid for the life of the process. */
  readonly keyFetcher?: KeyFetcher;
  /**
   * Seals and stores the installed tenant's sharedSecret and baseUrl (see installations.ts); an
   * installed payload must then carry both. Without it nothing of the payload is stored.
   */
  readonly secretBox?: SecretBox;
  /** Default: fleet.callback_replays in the tenant's region database (shared by every host); false: none. */
  readonly replay?: ReplayCache | false;
  /** Called after a tenant's installation or status changed, so request caches drop it. */
  readonly onChange?: (tenantId: string) => void;
  /** When set, the payload's `key` must be this app key. */
  readonly appKey?: string;
  /** Region for a tenant installed for the first time (required when the fleet has several). */
  readonly region?: string;
  readonly clockToleranceSeconds?: number;
}

export type CallbackReceipt =
  | {
      readonly accepted: true;
      readonly event: 'installed' | 'uninstalled';
      readonly tenant: string;
      /** What the transition did; `not-registered` for an uninstall of a tenant this fleet never had. */
      readonly result: InstallResult | TransitionResult | { readonly outcome: 'not-registered'; readonly changed: false };
    }
  | { readonly accepted: false; readonly code: CallbackRejectionCode; readonly message: string };

function payloadProblem(payload: unknown): string | LifecyclePayload {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'the payload is not a JSON object';
  const p = payload as Record<string, unknown>;
  if (p.eventType !== 'installed' && p.eventType !== 'uninstalled') {
    return `eventType ${JSON.stringify(p.eventType)} is not handled: only "installed" and "uninstalled" change a tenant's lifecycle`;
  }
  if (typeof p.clientKey !== 'string') return 'the payload has no clientKey';
  const idProblem = tenantIdProblem(p.clientKey);
  if (idProblem) return `the clientKey cannot be a tenant id: ${idProblem}`;
  if (p.key !== undefined && typeof p.key !== 'string') return 'the payload key is not a string';
  if (p.baseUrl !== undefined && typeof p.baseUrl !== 'string') return 'the payload baseUrl is not a string';
  if (p.sharedSecret !== undefined && typeof p.sharedSecret !== 'string') return 'the payload sharedSecret is not a string';
  if (p.eventType === 'installed' && typeof p.sharedSecret === 'string' && (p.sharedSecret.length < 16 || p.sharedSecret.length > 1024))
    return 'the payload sharedSecret is not 16 to 1024 characters long';
  return {
    eventType: p.eventType,
    clientKey: p.clientKey,
    ...(typeof p.key === 'string' ? { key: p.key } : {}),
    ...(typeof p.baseUrl === 'string' ? { baseUrl: p.baseUrl } : {}),
    ...(typeof p.sharedSecret === 'string' && p.eventType === 'installed' ? { sharedSecret: p.sharedSecret } : {}),
  };
}

/** The default key fetcher, shared by every call: Atlassian's keys are cached by kid across callbacks. */
let sharedKeyFetcher: KeyFetcher | undefined;

/** The replay cache in the control database: one row per accepted token, deleted once it expired. */
export function databaseReplayCache(fleet: Fleet): ReplayCache {
  const region = () => fleet.regions[0] as NonNullable<Fleet['regions'][0]>;
  return {
    async remember(tokenHash, expiresAt) {
      const { rows } = await region().query<{ inserted: boolean }>(
        `WITH gone AS (DELETE FROM fleet.callback_replays WHERE expires_at < $3)
         INSERT INTO fleet.callback_replays (token_hash, expires_at) VALUES ($1, $2) ON CONFLICT (token_hash) DO NOTHING RETURNING true AS inserted`,
        [tokenHash, expiresAt, fleet.clock.now()],
      );
      return rows.length === 1;
    },
    async forget(tokenHash) {
      await region().query('DELETE FROM fleet.callback_replays WHERE token_hash = $1', [tokenHash]);
    },
  };
}

function lastSegment(path: string): string {
  return (path.split('?')[0] ?? '').replace(/\/+$/, '').split('/').pop() ?? '';
}

/**
 * An Atlassian Connect installed/uninstalled callback: check the payload, verify the JWT (see
 * verifyLifecycleJwt), then apply installTenant or uninstallTenant. Anything wrong with the
 * payload or the token is a rejection: nothing changes and the receipt says why (answer the HTTP
 * request with 401, or 400 for PAYLOAD_INVALID). Misconfiguration (a bad app base URL) throws.
 */
export async function receiveConnectCallback(fleet: Fleet, options: ReceiveCallbackOptions): Promise<CallbackReceipt> {
  try {
    const base = new URL(options.appBaseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new FleetError(
      'INPUT_INVALID',
      `the app base URL ${JSON.stringify(options.appBaseUrl)} is not an http(s) URL: pass the baseUrl of the app's Connect descriptor, e.g. https://app.example.com`,
    );
  }
  const checked = payloadProblem(options.payload);
  if (typeof checked === 'string') return { accepted: false, code: 'PAYLOAD_INVALID', message: `${checked}; nothing was changed` };
  const served = options.event ?? (options.request ? lastSegment(options.request.path) : checked.eventType);
  if (served !== checked.eventType) {
    return {
      accepted: false,
      code: 'EVENT_MISMATCH',
      message: `the payload's eventType ${JSON.stringify(checked.eventType)} came to the ${JSON.stringify(served)} callback: a token signed for one lifecycle URL cannot trigger another event; nothing was changed`,
    };
  }
  if (options.secretBox && checked.eventType === 'installed' && (checked.sharedSecret === undefined || checked.baseUrl === undefined)) {
    return {
      accepted: false,
      code: 'PAYLOAD_INVALID',
      message:
        "the installed payload has no sharedSecret or no baseUrl: the app cannot authenticate the tenant's requests without them; nothing was changed",
    };
  }
  if (options.appKey !== undefined && checked.key !== options.appKey) {
    return {
      accepted: false,
      code: 'PAYLOAD_INVALID',
      message: `the payload is for app ${JSON.stringify(checked.key)}, not ${JSON.stringify(options.appKey)}; nothing was changed`,
    };
  }

  const request = options.request ?? { method: 'POST', path: `/${checked.eventType}` };
  const verified = await verifyLifecycleJwt(options.jwt, {
    appBaseUrl: options.appBaseUrl,
    request,
    keyFetcher: options.keyFetcher ?? (sharedKeyFetcher ??= atlassianKeyFetcher()),
    now: fleet.clock.now(),
    clientKey: checked.clientKey,
    ...(options.clockToleranceSeconds !== undefined ? { clockToleranceSeconds: options.clockToleranceSeconds } : {}),
  });
  if (!verified.ok) return { accepted: false, code: verified.code, message: verified.message };

  // Accepted once: the same signed callback again (a captured request replayed while its token is
  // still valid) is refused. Forgotten again when applying it fails, so Atlassian's retry goes through.
  const replay = options.replay === false ? undefined : (options.replay ?? databaseReplayCache(fleet));
  const tokenHash = createHash('sha256')
    .update(options.jwt?.trim().replace(/^JWT\s+/i, '') ?? '')
    .digest('hex');
  if (replay) {
    const exp = typeof verified.claims.exp === 'number' ? verified.claims.exp * 1000 : fleet.clock.now().getTime();
    const expiresAt = new Date(exp + (options.clockToleranceSeconds ?? 0) * 1000 + 60_000);
    if (!(await replay.remember(tokenHash, expiresAt))) {
      return {
        accepted: false,
        code: 'JWT_REPLAYED',
        message: 'this signed callback was accepted before: a replayed request is refused; nothing was changed',
      };
    }
  }
  try {
    return await apply(fleet, options, checked, verified.kid, verified.claims.iat ?? null);
  } catch (error) {
    await replay?.forget(tokenHash).catch(() => undefined);
    throw error;
  }
}

async function apply(
  fleet: Fleet,
  options: ReceiveCallbackOptions,
  checked: LifecyclePayload,
  kid: string,
  iat: number | null,
): Promise<CallbackReceipt> {
  const details = { via: 'atlassian-connect', kid, site: checked.baseUrl ?? null, iat };
  const tenant = checked.clientKey;
  const known = await findTenant(fleet, tenant);
  if (checked.eventType === 'installed') {
    // The region is where a new tenant goes; a known one stays where it is.
    const region = known ? {} : options.region !== undefined ? { region: options.region } : {};
    const result = await installTenant(fleet, tenant, { ...region, reason: 'Atlassian Connect installed callback', details });
    if (options.secretBox && checked.sharedSecret !== undefined && checked.baseUrl !== undefined) {
      await storeConnectCredentials(fleet, options.secretBox, tenant, { sharedSecret: checked.sharedSecret, baseUrl: checked.baseUrl });
    }
    options.onChange?.(tenant);
    return { accepted: true, event: 'installed', tenant, result };
  }
  if (!known) return { accepted: true, event: 'uninstalled', tenant, result: { outcome: 'not-registered', changed: false } };
  const result = await uninstallTenant(fleet, tenant, { reason: 'Atlassian Connect uninstalled callback', details });
  options.onChange?.(tenant);
  return { accepted: true, event: 'uninstalled', tenant, result };
}
