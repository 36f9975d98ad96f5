import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  commitMove,
  FleetError,
  MoveBusy,
  moveStatus,
  regionForAtlassianLocation,
  rollbackMove,
  scheduleMove,
  startMove,
  type Fleet,
  type TenantStatus,
} from '../../src/index.ts';
import type { RequestGuard } from '../../src/requests/index.ts';

/**
 * Atlassian Connect's data residency (realm migration) hooks. The app's descriptor declares
 * `"lifecycle": { "dare-migration": "/connect/dare-migration" }` (and may set
 * `"dataResidency": { "maxMigrationDurationHours": ... }`); Atlassian's migration service then
 * calls, signed like any Connect request (HS256 with the tenant's sharedSecret, qsh bound to the
 * request):
 *   POST {path}/schedule  { migrationId, location, startTime, endTime }  check only
 *   POST {path}/start     { migrationId, location, startTime, endTime }  copy and verify (answered once begun)
 *   GET  {path}/status?migrationId=...                                     { status: 'ready-to-commit' | 'failed' | ... }
 *   POST {path}/commit    { migrationId }                                  switch, drop the source
 *   POST {path}/rollback  { migrationId }                                  drop the copy, serve the source again
 * The tenant is the token's, never one the body names; `location` is mapped to a fleet region by
 * the fleet description (`regions[].atlassianLocations`). A refusal carries Atlassian's
 * `errorResponseCode` (E0002 unsupported location, E9999 anything else), which stops its retries;
 * a tenant held by a migration is answered 503 without one, so Atlassian retries.
 */
export const REALM_MIGRATION_PATH = '/connect/dare-migration';

/** The hooks of a tenant being moved must reach it: its token is verified as for any route, its status may be `moving`. */
const HOOK_STATUSES: readonly TenantStatus[] = ['active', 'moving'];

const MIGRATION_ID = { type: ['string', 'integer'], maxLength: 128 } as const;
// Open to fields Atlassian adds: none of them can name the tenant a hook acts on.
const LOCATION_BODY = {
  type: 'object',
  required: ['location'],
  properties: {
    migrationId: MIGRATION_ID,
    location: { type: 'string', minLength: 1, maxLength: 32 },
    startTime: { type: 'string', maxLength: 64 },
    endTime: { type: 'string', maxLength: 64 },
  },
} as const;
const ID_BODY = { type: 'object', properties: { migrationId: MIGRATION_ID } } as const;

interface HookBody {
  readonly migrationId?: string | number;
  readonly location?: string;
}

/** Moves this process started and has not finished, and rollbacks waiting for them, by tenant. */
interface InFlight {
  readonly starts: Map<string, Promise<void>>;
  readonly rollbacks: Set<Promise<void>>;
}

function tenantOf(request: FastifyRequest): string {
  return (request.tenant as NonNullable<FastifyRequest['tenant']>).tenantId;
}

function audit(body: HookBody | undefined): { auditDetails: Record<string, unknown> } {
  return { auditDetails: { realmMigration: body?.migrationId === undefined ? null : String(body.migrationId) } };
}

/** A refusal Atlassian reads: errorResponseCode stops its retries; a busy tenant gets none, so it retries. */
function refuse(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof FleetError)) throw error;
  request.log.warn({ code: error.code, message: error.message, tenant: request.tenant?.tenantId }, 'realm migration refused');
  if (error instanceof MoveBusy)
    return reply.code(503).send({ error: 'TENANT_BUSY', message: 'the tenant is held by a migration or another copy; retry' });
  return reply.code(409).send({
    error: 'MIGRATION_REFUSED',
    message: 'the migration cannot go ahead for this tenant; the reason is in the app log',
    errorResponseCode: 'E9999',
  });
}

/** The fleet region this process serves for an Atlassian location, or a 422 with E0002. */
function regionFor(fleet: Fleet, request: FastifyRequest, reply: FastifyReply, location: string): string | FastifyReply {
  const region = regionForAtlassianLocation(fleet.config, location);
  if (region !== undefined && fleet.regions.some((r) => r.name === region)) return region;
  request.log.warn({ location, region: region ?? null }, 'realm migration to a location no open region hosts');
  return reply.code(422).send({
    error: 'LOCATION_UNSUPPORTED',
    message: `this app does not host Atlassian location ${JSON.stringify(location.slice(0, 32))}`,
    errorResponseCode: 'E0002',
  });
}

export function registerRealmMigrationHooks(app: FastifyInstance, options: { fleet: Fleet; guard: RequestGuard }): void {
  const { fleet, guard } = options;
  const inFlight: InFlight = { starts: new Map(), rollbacks: new Set() };
  const config = (schema?: object) => ({
    config: { tenantAuth: 'connect' as const, tenantStatuses: HOOK_STATUSES },
    ...(schema ? { schema: { body: schema } } : {}),
  });

  // A closing server lets the copies it started finish (or fail and be recorded), and the rollbacks after them.
  app.addHook('onClose', async () => {
    await Promise.all([...inFlight.starts.values(), ...inFlight.rollbacks]);
  });

  app.post(
    `${REALM_MIGRATION_PATH}/schedule`,
    { config: { tenantAuth: 'connect' }, schema: { body: LOCATION_BODY } },
    async (request, reply) => {
      const tenantId = tenantOf(request);
      const body = request.body as HookBody;
      const to = regionFor(fleet, request, reply, body.location as string);
      if (typeof to !== 'string') return to;
      try {
        const where = await moveStatus(fleet, tenantId);
        if (where.status === 'not-started' && where.from === to) return { ok: true, outcome: 'already-there', region: to };
        const plan = await scheduleMove(fleet, tenantId, to);
        return { ok: true, outcome: 'scheduled', from: plan.from, to: plan.to };
      } catch (error) {
        return refuse(request, reply, error);
      }
    },
  );

  app.post(`${REALM_MIGRATION_PATH}/start`, config(LOCATION_BODY), async (request, reply) => {
    const tenantId = tenantOf(request);
    const body = request.body as HookBody;
    const to = regionFor(fleet, request, reply, body.location as string);
    if (typeof to !== 'string') return to;
    try {
      const where = await moveStatus(fleet, tenantId);
      if (where.status === 'not-started' && where.from === to) return { ok: true, outcome: 'already-there', region: to };
      // A retried start: the copy is under way or done.
      if (inFlight.starts.has(tenantId) || ((where.status === 'copying' || where.status === 'ready-to-commit') && where.to === to))
        return reply.code(202).send({ ok: true, outcome: 'started', to });
      let begun: () => void = () => undefined;
      const marked = new Promise<void>((resolve) => (begun = resolve));
      const run = startMove(fleet, tenantId, to, { ...audit(body), onStarted: () => begun() });
      const tracked = run.then(
        () => undefined,
        (error: unknown) => request.log.warn({ tenant: tenantId, message: (error as Error).message }, 'realm migration start failed'),
      );
      inFlight.starts.set(
        tenantId,
        tracked.finally(() => {
          inFlight.starts.delete(tenantId);
          guard.invalidate(tenantId);
        }),
      );
      // Answered once the move is recorded (the tenant is `moving`): status and a retried start find it.
      await Promise.race([marked, run]);
      guard.invalidate(tenantId);
      return reply.code(202).send({ ok: true, outcome: 'started', to });
    } catch (error) {
      return refuse(request, reply, error);
    }
  });

  app.get(`${REALM_MIGRATION_PATH}/status`, config(), async (request) => {
    const tenantId = tenantOf(request);
    if (inFlight.starts.has(tenantId)) return { status: 'copying' };
    const where = await moveStatus(fleet, tenantId);
    switch (where.status) {
      case 'failed':
        return { status: 'failed', errorResponseCode: 'E9999' };
      case 'copying':
        return { status: 'copying' };
      // committed: the switch is done (a commit finishes dropping the source); not-started: nothing to move.
      case 'ready-to-commit':
      case 'committed':
      case 'not-started':
        return { status: 'ready-to-commit' };
    }
  });

  app.post(`${REALM_MIGRATION_PATH}/commit`, config(ID_BODY), async (request, reply) => {
    const tenantId = tenantOf(request);
    if (inFlight.starts.has(tenantId))
      return reply.code(409).send({ error: 'MIGRATION_NOT_READY', message: 'the copy is still running', errorResponseCode: 'E9999' });
    try {
      const where = await moveStatus(fleet, tenantId);
      if (where.status === 'not-started') return { ok: true, outcome: 'nothing-to-commit' };
      const result = await commitMove(fleet, tenantId, audit(request.body as HookBody | undefined));
      return { ok: true, outcome: 'committed', from: result.from, to: result.to };
    } catch (error) {
      return refuse(request, reply, error);
    } finally {
      guard.invalidate(tenantId);
    }
  });

  app.post(`${REALM_MIGRATION_PATH}/rollback`, config(ID_BODY), async (request, reply) => {
    const tenantId = tenantOf(request);
    const details = audit(request.body as HookBody | undefined);
    const rollBack = async (): Promise<string> => {
      const where = await moveStatus(fleet, tenantId);
      if (where.status === 'not-started') return 'nothing-to-roll-back';
      await rollbackMove(fleet, tenantId, details);
      return 'rolled-back';
    };
    const copying = inFlight.starts.get(tenantId);
    if (copying) {
      // The copy this process runs cannot be cut short: the rollback follows it.
      const after = copying
        .then(rollBack)
        .then(
          (outcome) => request.log.info({ tenant: tenantId, outcome }, 'realm migration rolled back after its copy'),
          (error: unknown) => request.log.warn({ tenant: tenantId, message: (error as Error).message }, 'realm migration rollback failed'),
        )
        .finally(() => guard.invalidate(tenantId));
      inFlight.rollbacks.add(after);
      void after.finally(() => inFlight.rollbacks.delete(after));
      return reply.code(202).send({ ok: true, outcome: 'rolling-back' });
    }
    try {
      return { ok: true, outcome: await rollBack() };
    } catch (error) {
      return refuse(request, reply, error);
    } finally {
      guard.invalidate(tenantId);
    }
  });
}
