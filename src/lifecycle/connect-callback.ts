import type { Fleet } from '../fleet.ts';
import { FleetError } from '../errors.ts';
import { tenantIdProblem } from '../tenants/ids.ts';
import { installTenant, type InstallResult } from './install.ts';
import { uninstallTenant } from './uninstall.ts';
import { findTenant } from '../tenants/tenant-row.ts';
import type { TransitionResult } from './transition.ts';
import type { CanonicalRequestInput } from './query-string-hash.ts';
import { atlassianKeyFetcher, verifyLifecycleJwt, type KeyFetcher, type RejectionCode } from './connect-jwt.ts';

/** The fields of a Connect lifecycle payload the fleet uses (it carries more: the app stores those). */
export interface LifecyclePayload {
  readonly eventType: 'installed' | 'uninstalled';
  /** The Atlassian site's installation: the tenant id. */
  readonly clientKey: string;
  /** The app's key. */
  readonly key?: string;
  /** The site's URL. */
  readonly baseUrl?: string;
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
  /** Default: Atlassian's public key CDN. */
  readonly keyFetcher?: KeyFetcher;
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
  | { readonly accepted: false; readonly code: RejectionCode; readonly message: string };

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
  return { eventType: p.eventType, clientKey: p.clientKey, ...(typeof p.key === 'string' ? { key: p.key } : {}), ...(typeof p.baseUrl === 'string' ? { baseUrl: p.baseUrl } : {}) };
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
    throw new FleetError('INPUT_INVALID', `the app base URL ${JSON.stringify(options.appBaseUrl)} is not an http(s) URL: pass the baseUrl of the app's Connect descriptor, e.g. https://app.example.com`);
  }
  const checked = payloadProblem(options.payload);
  if (typeof checked === 'string') return { accepted: false, code: 'PAYLOAD_INVALID', message: `${checked}; nothing was changed` };
  if (options.appKey !== undefined && checked.key !== options.appKey) {
    return { accepted: false, code: 'PAYLOAD_INVALID', message: `the payload is for app ${JSON.stringify(checked.key)}, not ${JSON.stringify(options.appKey)}; nothing was changed` };
  }

  const request = options.request ?? { method: 'POST', path: `/${checked.eventType}` };
  const verified = await verifyLifecycleJwt(options.jwt, {
    appBaseUrl: options.appBaseUrl,
    request,
    keyFetcher: options.keyFetcher ?? atlassianKeyFetcher(),
    now: fleet.clock.now(),
    clientKey: checked.clientKey,
    ...(options.clockToleranceSeconds !== undefined ? { clockToleranceSeconds: options.clockToleranceSeconds } : {}),
  });
  if (!verified.ok) return { accepted: false, code: verified.code, message: verified.message };

  const details = { via: 'atlassian-connect', kid: verified.kid, site: checked.baseUrl ?? null, iat: verified.claims.iat ?? null };
  const tenant = checked.clientKey;
  const known = await findTenant(fleet, tenant);
  if (checked.eventType === 'installed') {
    // The region is where a new tenant goes; a known one stays where it is.
    const region = known ? {} : options.region !== undefined ? { region: options.region } : {};
    const result = await installTenant(fleet, tenant, { ...region, reason: 'Atlassian Connect installed callback', details });
    return { accepted: true, event: 'installed', tenant, result };
  }
  if (!known) return { accepted: true, event: 'uninstalled', tenant, result: { outcome: 'not-registered', changed: false } };
  const result = await uninstallTenant(fleet, tenant, { reason: 'Atlassian Connect uninstalled callback', details });
  return { accepted: true, event: 'uninstalled', tenant, result };
}
