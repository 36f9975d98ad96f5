/**
 * `tenant-fleet/access`: work inside one tenant's scope, enforced by PostgreSQL
 * (`openTenantAccess(fleet)`, then `access.withTenant(tenantId, fn)`), and time-boxed support
 * grants. Loads neither cdktf nor the embedded PostgreSQL.
 */
export {
  openTenantAccess,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  type RegionAccessInfo,
  type TenantAccess,
  type TenantAccessOptions,
  type TenantWork,
  type WithTenantOptions,
} from './with-tenant.ts';
export { isDatabaseRefusal, runTenantSql, type StatementResult, type TenantSqlOptions, type TenantSqlResult } from './tenant-sql.ts';
export {
  enforceSupportExpiry,
  grantSupport,
  listSupportGrants,
  revokeSupportGrant,
  sweepSupportGrants,
  type GrantState,
  type GrantSupportOptions,
  type GrantSupportResult,
  type RevokeResult,
  type SupportGrant,
  type SupportLogin,
} from './support.ts';
export { printable } from './printable.ts';
export { formatDuration, MAX_SUPPORT_TTL_MS, MIN_SUPPORT_TTL_MS, parseTtl } from './duration.ts';
export type { SessionPoolStats } from './session-pool.ts';
