import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { FleetError } from '../errors.ts';
import { touchTenant } from '../tenants/touch.ts';
import type { TenantStatus } from '../tenants/tenant-row.ts';
import type { GuardedTenant, GuardResult, RequestGuard } from './guard.ts';

/**
 * The request guard as a Fastify plugin. A route opts in with `config: { tenantAuth: ... }`:
 *   'connect'          Connect JWT with this request's qsh
 *   'connect-context'  Connect JWT with qsh "context-qsh" (context routes)
 *   'forge'            Forge invocation token of the tenant's current installation, tenant active
 *   'forge-installed'  Forge `installed` event: the tenant may be new or reinstalled
 *   'forge-lifecycle'  other Forge lifecycle events: current installation, any status
 * `config: { tenantStatuses: ['active', 'moving'] }` lets a route serve a tenant in more statuses
 * than `active` (the realm-migration hooks of a tenant being moved); its token is verified the same
 * way, and request.withTenant still serves active tenants only.
 * The guard runs in onRequest, before the body is parsed and before any handler: a rejected
 * request is answered 401 (403 for a known tenant that is not active) with `{ error, message }`
 * and nothing else runs. An accepted one has `request.tenant` and `request.withTenant(fn)` (the
 * library's withTenant for that tenant and no other), and its contact is recorded (touchTenant).
 */
export type TenantAuth = 'connect' | 'connect-context' | 'forge' | 'forge-installed' | 'forge-lifecycle';

/** What the plugin needs of a TenantAccess: its withTenant. */
export interface TenantRunner {
  withTenant<T>(
    tenantId: string,
    fn: (client: pg.ClientBase) => Promise<T>,
    options?: { readOnly?: boolean; recordContact?: boolean },
  ): Promise<T>;
}

export interface TenantGuardPluginOptions {
  readonly guard: RequestGuard;
  readonly access: TenantRunner;
  /**
   * Units of work one tenant may run at once in this process (default 4); more wait their turn.
   * With a login per tenant, a burst of one tenant would otherwise open a connection per request
   * and evict other tenants' warm connections; waiting for the tenant's own is cheaper.
   */
  readonly perTenantConcurrency?: number;
  /** Called with every rejection (log it: it carries no secret and no tenant data). */
  readonly onReject?: (request: FastifyRequest, rejection: Extract<GuardResult, { ok: false }>) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated tenant; null on routes without tenantAuth. */
    tenant: GuardedTenant | null;
    /** withTenant for this request's tenant only. */
    withTenant<T>(fn: (client: pg.ClientBase) => Promise<T>, options?: { readOnly?: boolean }): Promise<T>;
  }
  interface FastifyContextConfig {
    tenantAuth?: TenantAuth;
    /** The tenant statuses the route serves; default ['active']. */
    tenantStatuses?: readonly TenantStatus[];
  }
}

/** A tenant that became unusable between the guard and the unit of work, as an HTTP error. */
export class TenantRequestError extends Error {
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}

function notGuarded(): never {
  throw new TenantRequestError(500, 'NOT_GUARDED', 'this route has no tenantAuth: request.withTenant is only available on guarded routes');
}

async function guardRequest(
  guard: RequestGuard,
  request: FastifyRequest,
  mode: TenantAuth,
  statuses: readonly TenantStatus[] | undefined,
): Promise<GuardResult> {
  const url = request.url;
  const q = url.indexOf('?');
  const input = {
    method: request.method,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    authorization: request.headers.authorization,
  };
  const served = statuses ? { statuses } : {};
  switch (mode) {
    case 'connect':
      return guard.verifyConnect(input, served);
    case 'connect-context':
      return guard.verifyConnect(input, { context: true, ...served });
    case 'forge':
      return guard.verifyForge(input, served);
    case 'forge-installed':
      return guard.verifyForge(input, { lifecycle: 'installed' });
    case 'forge-lifecycle':
      return guard.verifyForge(input, { lifecycle: 'lifecycle' });
  }
}

/** At most `limit` concurrent runs per key; the rest queue in arrival order. */
function keyedLimiter(limit: number): <T>(key: string, run: () => Promise<T>) => Promise<T> {
  const state = new Map<string, { active: number; queue: Array<() => void> }>();
  return async (key, run) => {
    let entry = state.get(key);
    if (!entry) state.set(key, (entry = { active: 0, queue: [] }));
    const slot = entry;
    if (slot.active >= limit) await new Promise<void>((resolve) => slot.queue.push(resolve));
    else slot.active += 1;
    try {
      return await run();
    } finally {
      const next = slot.queue.shift();
      if (next) next();
      else {
        slot.active -= 1;
        if (slot.active === 0) state.delete(key);
      }
    }
  };
}

async function plugin(app: FastifyInstance, options: TenantGuardPluginOptions): Promise<void> {
  const { guard, access } = options;
  const perTenant = options.perTenantConcurrency ?? 4;
  if (!Number.isInteger(perTenant) || perTenant < 1)
    throw new FleetError('CONFIG_INVALID', `perTenantConcurrency ${perTenant} is not a positive integer`);
  const limited = keyedLimiter(perTenant);
  app.decorateRequest('tenant', null);
  app.decorateRequest('withTenant', notGuarded);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const mode = request.routeOptions.config.tenantAuth;
    if (mode === undefined) return;
    let result: GuardResult;
    try {
      result = await guardRequest(guard, request, mode, request.routeOptions.config.tenantStatuses);
    } catch (error) {
      // The guard could not decide (the registry unreachable, sealed secrets that do not open): no pass.
      request.log.error({ err: { message: (error as Error).message, code: (error as FleetError).code } }, 'request guard failed');
      return reply.code(503).send({ error: 'GUARD_UNAVAILABLE', message: 'the request could not be authenticated right now; retry later' });
    }
    if (!result.ok) {
      options.onReject?.(request, result);
      return reply.code(result.status).send({ error: result.code, message: result.reason });
    }
    const { ok: _ok, ...tenant } = result;
    request.tenant = tenant;
    const tenantId = tenant.tenantId;
    request.withTenant = (fn, unitOptions) =>
      limited(tenantId, () => access.withTenant(tenantId, fn, { ...unitOptions, recordContact: false })).catch((error: unknown) => {
        if (error instanceof FleetError && error.code === 'TENANT_NOT_ACTIVE')
          throw new TenantRequestError(403, 'TENANT_NOT_ACTIVE', 'the tenant is not active');
        if (error instanceof FleetError && error.code === 'TENANT_NOT_FOUND')
          throw new TenantRequestError(401, 'TENANT_UNKNOWN', 'the tenant is not installed');
        throw error;
      });
    if (mode === 'forge' || mode === 'connect' || mode === 'connect-context') {
      // Contact for stale detection: at most one write per tenant per minute (touchTenant throttles).
      await touchTenant(guard.fleet, tenantId).catch((error: unknown) =>
        request.log.warn({ err: { message: (error as Error).message } }, 'recording tenant contact failed'),
      );
    }
    return undefined;
  });
}

export const tenantGuardPlugin = fp(plugin, { name: 'tenant-fleet-request-guard', fastify: '5.x' });
