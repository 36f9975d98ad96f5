import type pg from 'pg';
import type { Fleet } from '../../fleet.ts';
import type { RegionDatabase } from '../../db/region-database.ts';
import { withClient, withTransaction } from '../../db/scoped.ts';
import { FleetError } from '../../errors.ts';
import { readRolePrefix } from '../names.ts';
import { enforceSupportExpiry } from '../support.ts';
import { resolveSessionAuth } from '../session-login.ts';
import { Access } from './access.ts';
import { backfillTenantRoles } from './backfill.ts';
import { DEFAULT_MAX_CONNECTIONS, type TenantAccess, type TenantAccessOptions } from './types.ts';

/**
 * Set up (idempotently) every region's access: the application secret, the roles of registered
 * tenants that lack them (backfillTenantRoles), expired support grants revoked
 * (enforceSupportExpiry); no tenant connection opened yet. The returned
 * TenantAccess runs units of work (withTenant) until closed.
 */
export async function openTenantAccess(fleet: Fleet, options: TenantAccessOptions = {}): Promise<TenantAccess> {
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1)
    throw new FleetError('CONFIG_INVALID', `maxConnections ${maxConnections} is not a positive integer`);
  const regions = await Promise.all(
    fleet.regions.map(async (region) => {
      const auth = await resolveSessionAuth(region, {
        clock: fleet.clock,
        ...(options.appSecret !== undefined ? { appSecret: options.appSecret } : {}),
        ...(options.credentialsDir !== undefined ? { credentialsDir: options.credentialsDir } : {}),
      });
      const prefix = await withClientTx(region, async (client) => {
        const p = await readRolePrefix(client);
        await backfillTenantRoles(client, p);
        return p;
      });
      return { region, auth, prefix };
    }),
  );
  // Support access ends when it says, whether or not a sweep is scheduled.
  await enforceSupportExpiry(fleet);
  return new Access(fleet, regions, { ...options, maxConnections });
}

async function withClientTx<T>(region: RegionDatabase, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(region.controlPool, async (client) => {
    return await withTransaction(client, () => fn(client));
  });
}
