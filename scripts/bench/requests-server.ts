/**
 * The two servers of the requests bench, in a process of their own so the load generator does not
 * share their event loop: the example add-on server (guarded, withTenant, one login per tenant)
 * and the insecure baseline (the same Fastify route and query on one shared superuser pool, the
 * tenant named by an unauthenticated header). Prints `{"guarded": port, "baseline": port}` and
 * runs until SIGTERM.
 *
 * Env: FLEET_DATABASE_URL (the bench database), FLEET_APP_SECRET, BENCH_TENANT_CONNECTIONS
 * (withTenant's maxConnections), BENCH_BASELINE_POOL (the baseline pool's size).
 */
import Fastify from 'fastify';
import pg from 'pg';
import type { AddressInfo } from 'node:net';
import { loadFleetConfig } from '../../src/config/load.ts';
import { openFleet } from '../../src/fleet.ts';
import { openTenantAccess } from '../../src/access/with-tenant.ts';
import { quoteIdent } from '../../src/db/quote.ts';
import { schemaNameFor, tenantIdProblem } from '../../src/tenants/ids.ts';
import { buildAddonServer } from '../../examples/addon-server/server.ts';

const env = process.env;
const url = env.FLEET_DATABASE_URL as string;
const appSecret = env.FLEET_APP_SECRET as string;
const fleet = await openFleet({ config: loadFleetConfig(), env: { FLEET_DATABASE_URL: url, FLEET_REGION: 'local' }, actor: 'bench' });
const access = await openTenantAccess(fleet, {
  appSecret,
  maxConnections: Number(env.BENCH_TENANT_CONNECTIONS ?? 20),
  logins: env.BENCH_LOGINS === 'tenant' ? 'tenant' : 'gateway',
});
const guarded = await buildAddonServer({ fleet, access, appBaseUrl: 'https://addon.bench.test', appSecret, guardCacheTtlMs: 60_000 });

const pool = new pg.Pool({ connectionString: url, max: Number(env.BENCH_BASELINE_POOL ?? 20) });
const baseline = Fastify({ logger: false });
baseline.get('/connect/api/issues', async (request, reply) => {
  const tenant = String(request.headers['x-tenant'] ?? '');
  if (tenantIdProblem(tenant) !== undefined) return reply.code(400).send({ error: 'BAD_REQUEST', message: 'x-tenant' });
  const { rows } = await pool.query(`SELECT key, summary, status FROM ${quoteIdent(schemaNameFor(tenant))}.issues ORDER BY id LIMIT 100`);
  return { issues: rows };
});

await guarded.app.listen({ port: 0, host: '127.0.0.1' });
await baseline.listen({ port: 0, host: '127.0.0.1' });
const port = (server: { address(): unknown }) => (server.address() as AddressInfo).port;
process.stdout.write(`${JSON.stringify({ guarded: port(guarded.app.server), baseline: port(baseline.server) })}\n`);

process.on('SIGTERM', () => {
  void (async () => {
    await guarded.app.close();
    await baseline.close();
    await pool.end();
    await access.close();
    await fleet.close();
    process.exit(0);
  })();
});
