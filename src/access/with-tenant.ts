/**
 * withTenant: units of work in one tenant's scope, enforced by PostgreSQL (the contract is on
 * TenantAccess.withTenant in with-tenant/types.ts). The modules:
 *   with-tenant/open.ts      openTenantAccess: secrets, role backfill, the access object
 *   with-tenant/backfill.ts  roles for registered tenants that lack them
 *   with-tenant/access.ts    the access object: regions, session pools, logins
 *   with-tenant/unit.ts      one unit of work: enter, fn, check, COMMIT
 *   with-tenant/errors.ts    the errors those raise
 */
export { openTenantAccess } from './with-tenant/open.ts';
export { backfillTenantRoles, BACKFILL_LOCK_TIMEOUT_MS, type BackfillResult } from './with-tenant/backfill.ts';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  type RegionAccessInfo,
  type TenantAccess,
  type TenantAccessOptions,
  type TenantWork,
  type WithTenantOptions,
} from './with-tenant/types.ts';
