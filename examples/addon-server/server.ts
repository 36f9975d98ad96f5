import http from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Fleet } from '../../src/index.ts';
import type { TenantAccess } from '../../src/access/index.ts';
import {
  atlassianKeyFetcher,
  createRequestGuard,
  receiveConnectCallback,
  receiveForgeInstalled,
  receiveForgePreUninstall,
  type KeyFetcher,
  type JwksFetcher,
  type RequestGuard,
} from '../../src/requests/index.ts';
import { tenantGuardPlugin, TenantRequestError } from '../../src/requests/fastify.ts';
import { registerRealmMigrationHooks } from './realm-migration.ts';

/**
 * The reference add-on backend: Atlassian Connect and Forge remote routes in front of one fleet.
 * Every tenant route is guarded (src/requests) before its handler runs, and reaches the tenant's
 * rows only through request.withTenant. Every error body is `{ error, message }` and says nothing
 * about any tenant's data. Atlassian's realm-migration hooks move a tenant between the fleet's
 * regions (realm-migration.ts).
 */
export interface AddonServerOptions {
  readonly fleet: Fleet;
  readonly access: TenantAccess;
  /** The app's base URL (its Connect descriptor's baseUrl): the audience of signed installs. */
  readonly appBaseUrl: string;
  /** Atlassian's install-key service (default the real one). */
  readonly connectInstallKeysUrl?: string;
  readonly connectKeyFetcher?: KeyFetcher;
  /** Forge's JWKS (default the real one). */
  readonly forgeJwksUrl?: string;
  readonly forgeJwksFetcher?: JwksFetcher;
  /** The Forge app id (FIT `aud`); without it the Forge routes refuse every token. */
  readonly forgeAppId?: string;
  /** FLEET_APP_SECRET; default the generated credentials file (as withTenant). */
  readonly appSecret?: string;
  /** Region of newly installed tenants; default the fleet's first. */
  readonly installRegion?: string;
  /** A pino logger; default none. */
  readonly logger?: FastifyBaseLogger;
  readonly guardCacheTtlMs?: number;
}

export interface AddonServer {
  readonly app: FastifyInstance;
  readonly guard: RequestGuard;
  /** Units of work that reached tenant data (withTenant's fn ran): the attack tests expect none for a rejected request. */
  readonly stats: { tenantUnits: number };
}

interface IssueRow {
  key: string;
  summary: string;
  status: string;
}

const ISSUE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'summary'],
  properties: {
    key: { type: 'string', pattern: '^[A-Z][A-Z0-9]{0,9}-[1-9][0-9]{0,8}$' },
    summary: { type: 'string', minLength: 1, maxLength: 500 },
  },
} as const;

async function listIssues(client: pg.ClientBase): Promise<IssueRow[]> {
  return (await client.query<IssueRow>('SELECT key, summary, status FROM issues ORDER BY id LIMIT 100')).rows;
}

async function addIssue(client: pg.ClientBase, body: { key: string; summary: string }): Promise<IssueRow> {
  const projectKey = body.key.split('-')[0] as string;
  // The id in a scalar subquery: an aggregate over the filtered rows would yield a row (and a
  // duplicate project) even when the project exists.
  await client.query(
    `INSERT INTO projects (id, key, name) SELECT (SELECT coalesce(max(id), 0) + 1 FROM projects), $1, $1
      WHERE NOT EXISTS (SELECT 1 FROM projects WHERE key = $1)`,
    [projectKey],
  );
  const { rows } = await client.query<IssueRow>(
    `INSERT INTO issues (id, project_id, key, summary, status, created_at, updated_at)
     SELECT coalesce((SELECT max(id) FROM issues), 0) + 1, p.id, $1, $2, 'open', now(), now() FROM projects p WHERE p.key = $3
     ON CONFLICT (key) DO UPDATE SET summary = EXCLUDED.summary, updated_at = now()
     RETURNING key, summary, status`,
    [body.key, body.summary, projectKey],
  );
  return rows[0] as IssueRow;
}

/** The request as the logs see it: never the query string, which may carry a ?jwt= token. */
function redactedUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}

export async function buildAddonServer(options: AddonServerOptions): Promise<AddonServer> {
  const { fleet } = options;
  const stats = { tenantUnits: 0 };
  // Count the units that actually ran: the attack corpus checks none ran for a rejected request.
  const access = {
    withTenant<T>(
      tenantId: string,
      fn: (client: pg.ClientBase) => Promise<T>,
      unitOptions?: { readOnly?: boolean; recordContact?: boolean },
    ): Promise<T> {
      return options.access.withTenant(
        tenantId,
        (client) => {
          stats.tenantUnits += 1;
          return fn(client);
        },
        unitOptions,
      );
    },
  };
  const guard = createRequestGuard(fleet, {
    connect: { appBaseUrl: options.appBaseUrl },
    forge: {
      appId: options.forgeAppId ?? 'forge-app-id-not-configured',
      ...(options.forgeJwksUrl ? { jwksUrl: options.forgeJwksUrl } : {}),
      ...(options.forgeJwksFetcher ? { jwksFetcher: options.forgeJwksFetcher } : {}),
    },
    ...(options.appSecret !== undefined ? { appSecret: options.appSecret } : {}),
    ...(options.guardCacheTtlMs !== undefined ? { cacheTtlMs: options.guardCacheTtlMs } : {}),
  });
  // Open the secret box now: a missing application secret is a start-up error, not a 503 later.
  const box = await guard.secretBox();
  const keyFetcher =
    options.connectKeyFetcher ?? atlassianKeyFetcher(options.connectInstallKeysUrl ? { baseUrl: options.connectInstallKeysUrl } : {});
  const installRegion = options.installRegion ?? fleet.regions[0]?.name;

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 64 * 1024,
    // Tokens longer than the guard accepts still reach it (and get a 401 with a reason), rather
    // than Node's bare 431.
    serverFactory: (handler) => http.createServer({ maxHeaderSize: 64 * 1024 }, handler),
    // Fastify's own request lines carry the URL, and a URL can carry ?jwt=: the onResponse hook logs a redacted one.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: redactedUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        tenant: request.tenant?.tenantId,
      },
      'request',
    );
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'NOT_FOUND', message: 'no such route' }));
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof TenantRequestError) return reply.code(error.statusCode).send({ error: error.code, message: error.message });
    const status = (error as { statusCode?: number }).statusCode;
    if ((error as { validation?: unknown }).validation || (status !== undefined && status >= 400 && status < 500)) {
      return reply.code(status ?? 400).send({ error: 'BAD_REQUEST', message: 'the request is not valid: see the API description' });
    }
    // Database errors can quote row values: the log gets the code, the client nothing of it.
    request.log.error({ code: (error as { code?: string }).code, name: (error as Error).name }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'the request failed; it has been logged' });
  });

  await app.register(tenantGuardPlugin, {
    guard,
    access,
    onReject: (request, rejection) => request.log.info({ url: redactedUrl(request.url), code: rejection.code }, 'request refused'),
  });

  app.get('/healthz', async () => ({ ok: true }));

  for (const event of ['installed', 'uninstalled'] as const) {
    app.post(`/connect/${event}`, async (request, reply) => {
      const q = request.url.indexOf('?');
      const receipt = await receiveConnectCallback(fleet, {
        jwt: typeof request.headers.authorization === 'string' ? request.headers.authorization : undefined,
        payload: request.body,
        appBaseUrl: options.appBaseUrl,
        event,
        request: {
          method: request.method,
          path: q === -1 ? request.url : request.url.slice(0, q),
          query: q === -1 ? '' : request.url.slice(q + 1),
        },
        keyFetcher,
        secretBox: box,
        onChange: guard.invalidate,
        ...(installRegion !== undefined ? { region: installRegion } : {}),
      });
      if (!receipt.accepted) {
        request.log.info({ code: receipt.code, event }, 'lifecycle callback refused');
        return reply.code(receipt.code === 'PAYLOAD_INVALID' ? 400 : 401).send({ error: receipt.code, message: receipt.message });
      }
      return reply.code(200).send({ ok: true, event: receipt.event, outcome: receipt.result.outcome });
    });
  }

  app.get('/connect/api/issues', { config: { tenantAuth: 'connect' } }, async (request) => ({
    issues: await request.withTenant(listIssues, { readOnly: true }),
  }));
  app.post('/connect/api/issues', { config: { tenantAuth: 'connect' }, schema: { body: ISSUE_BODY } }, async (request, reply) =>
    reply
      .code(201)
      .send({ issue: await request.withTenant((client) => addIssue(client, request.body as { key: string; summary: string })) }),
  );
  app.get('/connect/context/issues', { config: { tenantAuth: 'connect-context' } }, async (request) => ({
    issues: await request.withTenant(listIssues, { readOnly: true }),
  }));

  registerRealmMigrationHooks(app, { fleet, guard });

  app.post('/forge/events/installed', { config: { tenantAuth: 'forge-installed' } }, async (request) => {
    const tenant = request.tenant as NonNullable<typeof request.tenant>;
    const result = await receiveForgeInstalled(fleet, tenant.tenantId, tenant.installationId as string, {
      ...(installRegion !== undefined ? { region: installRegion } : {}),
      onChange: guard.invalidate,
    });
    return { ok: result.ok, outcome: result.outcome };
  });
  app.post('/forge/events/pre-uninstall', { config: { tenantAuth: 'forge-lifecycle' } }, async (request) => {
    const tenant = request.tenant as NonNullable<typeof request.tenant>;
    const result = await receiveForgePreUninstall(fleet, tenant.tenantId, tenant.installationId as string, { onChange: guard.invalidate });
    return { ok: true, outcome: result.outcome };
  });
  app.get('/forge/api/issues', { config: { tenantAuth: 'forge' } }, async (request) => ({
    issues: await request.withTenant(listIssues, { readOnly: true }),
  }));
  app.post('/forge/api/issues', { config: { tenantAuth: 'forge' }, schema: { body: ISSUE_BODY } }, async (request, reply) =>
    reply
      .code(201)
      .send({ issue: await request.withTenant((client) => addIssue(client, request.body as { key: string; summary: string })) }),
  );

  return { app, guard, stats };
}
