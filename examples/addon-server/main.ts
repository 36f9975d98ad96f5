/**
 * `npm run example:server`: the reference add-on backend (server.ts) on one fleet.
 *
 *   PORT                      default 3000
 *   HOST                      default 127.0.0.1
 *   APP_BASE_URL              default http://127.0.0.1:$PORT (the Connect descriptor's baseUrl)
 *   CONNECT_INSTALL_KEYS_URL  default https://connect-install-keys.atlassian.com
 *   FORGE_JWKS_URL            default https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json
 *   FORGE_APP_ID              the Forge app id (ari:cloud:ecosystem::app/<uuid>); unset: Forge routes refuse every token
 *   FLEET_APP_SECRET          the application secret (in AWS: from Secrets Manager); default the generated credentials file
 *   FLEET_DATABASE_URL, FLEET_REGION, FLEET_CONFIG, FLEET_HOME: the fleet, as for the fleet CLI (embedded PostgreSQL when unset)
 *   FLEET_INSTALL_REGION      region of newly installed tenants; default the fleet's first
 *   LOG_LEVEL                 default info
 * SIGTERM or SIGINT: stop accepting, finish requests in flight, close the tenant connections and the fleet, exit 0.
 */
import os from 'node:os';
import pino from 'pino';
import { loadFleetConfig, openFleet } from '../../src/index.ts';
import { openTenantAccess } from '../../src/access/index.ts';
import { buildAddonServer } from './server.ts';

const env = process.env;
const logger = pino({ level: env.LOG_LEVEL ?? 'info', redact: ['req.headers.authorization', '*.sharedSecret'] });
const port = Number(env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  logger.fatal(`PORT ${JSON.stringify(env.PORT)} is not a port number: set PORT to 0-65535`);
  process.exit(2);
}
const host = env.HOST ?? '127.0.0.1';
const appBaseUrl = env.APP_BASE_URL ?? `http://127.0.0.1:${port}`;

const fleet = await openFleet({
  config: loadFleetConfig(),
  actor: `addon-server@${os.hostname()}`,
  ...(env.FLEET_HOME ? { embeddedDir: env.FLEET_HOME } : {}),
});
const secret = env.FLEET_APP_SECRET ? { appSecret: env.FLEET_APP_SECRET } : {};
// Gateway logins: a tenant without a warm connection gets a moved one, not a new login (docs/access.md).
const access = await openTenantAccess(fleet, { ...secret, logins: 'gateway' });
const { app } = await buildAddonServer({
  fleet,
  access,
  appBaseUrl,
  logger,
  ...secret,
  ...(env.CONNECT_INSTALL_KEYS_URL ? { connectInstallKeysUrl: env.CONNECT_INSTALL_KEYS_URL } : {}),
  ...(env.FORGE_JWKS_URL ? { forgeJwksUrl: env.FORGE_JWKS_URL } : {}),
  ...(env.FORGE_APP_ID ? { forgeAppId: env.FORGE_APP_ID } : {}),
  ...(env.FLEET_INSTALL_REGION ? { installRegion: env.FLEET_INSTALL_REGION } : {}),
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: finishing requests in flight');
  try {
    await app.close();
    await access.close();
    await fleet.close();
    logger.info('stopped');
    process.exit(0);
  } catch (error) {
    logger.error({ message: (error as Error).message }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  const address = await app.listen({ port, host });
  logger.info(
    { address, appBaseUrl, regions: fleet.regions.map((r) => r.name), forge: env.FORGE_APP_ID ? 'on' : 'off' },
    'add-on server listening',
  );
} catch (error) {
  logger.fatal({ message: (error as Error).message }, 'cannot listen');
  await access.close();
  await fleet.close();
  process.exit(1);
}
