/**
 * `tenant-fleet`: describe a fleet, open it, register tenants and run the per-tenant migrations
 * across it.
 *
 * The other entry points: `tenant-fleet/access` (one tenant's unit of work, support grants),
 * `tenant-fleet/lifecycle` (install, uninstall, hold, sweep), `tenant-fleet/purge` and
 * `tenant-fleet/requests` (the request guard). None of them loads cdktf; the embedded PostgreSQL
 * is loaded only when a fleet actually needs it.
 */
export { openFleet, DEFAULT_MIGRATIONS_DIR, type Fleet, type OpenFleetOptions } from './fleet.ts';
export { defaultConfigPath, loadFleetConfig, parseFleetConfig } from './config/load.ts';
export {
  ATLASSIAN_LOCATIONS,
  ATLASSIAN_LOCATION_NAMES,
  regionForAtlassianLocation,
  type AtlassianLocation,
} from './config/atlassian-locations.ts';
export type { FleetConfig, FleetConfigInput, RegionConfig } from './config/schema.ts';
export { FleetError, isUsageError, type ErrorCode } from './errors.ts';
export { ManualClock, systemClock, type Clock } from './clock.ts';
export { migrateFleet, type MigrateOptions, type MigrateReport, type MigrateSummary, type PlannedTenant } from './migrate/migrate-fleet.ts';
export { BEING_COPIED, LOCKED_BY_ANOTHER_RUNNER } from './migrate/tenant-migrator.ts';
export { rollbackFleet, type RollbackOptions } from './migrate/rollback-fleet.ts';
export {
  fleetStatus,
  type AsideStatusRow,
  type FleetStatus,
  type RegionVersionSummary,
  type TenantStatusRow,
} from './migrate/fleet-status.ts';
export type { AsideSchema } from './tenants/aside.ts';
export type { RunEvent, TenantResult } from './migrate/run-fleet.ts';
export { parseShard, type Shard } from './migrate/shard.ts';
export { createMigrationFile, type NewMigration } from './migrate/new-migration.ts';
export { checkFleetMigrations, checkMigrations, type CheckProblem, type CheckReport } from './check/index.ts';
export { lintMigrations, lintMigrationPaths, ERROR_RULES, EXCLUDED_RULES, type LintFinding, type LintReport } from './migrate/lint.ts';
export { verifyFleet, type RegionVerification, type TenantDrift, type VerifyOptions, type VerifyReport } from './verify/verify-fleet.ts';
export { addTenants, type AddTenantsOptions, type AddTenantsReport, type AlreadyRegistered } from './provisioning/add-tenants.ts';
export { prepareTenantSchema } from './provisioning/prepare-schema.ts';
export { listTenants, type ListTenantsOptions, type TenantRecord } from './tenants/list-tenants.ts';
export { showTenant, type TenantDetails } from './tenants/show-tenant.ts';
export { queryAudit, AUDIT_DEFAULT_LIMIT, type AuditQuery, type AuditRecord } from './audit-query.ts';
export { sampleTenants } from './tenants/sample-fleet.ts';
export { assertTenantId, tenantIdProblem, TENANT_ID_PATTERN, TENANT_ID_RULE } from './tenants/ids.ts';
export type { TenantStatus } from './tenants/tenant-row.ts';
export { fleetHome } from './config/home.ts';
export {
  asideSchemasOf,
  commitMove,
  copyTenant,
  discardAside,
  exportTenant,
  restoreTenant,
  type RestoreOptions,
  type RestoreResult,
  moveStatus,
  moveTenant,
  rollbackMove,
  scheduleMove,
  startMove,
  type CopyReport,
  type ExportManifest,
  MoveBusy,
  type MoveOptions,
  type MovePlan,
  type MoveResult,
  type MoveStatus,
  type TableChecksum,
} from './copy/index.ts';
export { databaseUserFor, describeTarget, embeddedRegions, resolveTargets, type DatabaseRole, type RegionTarget } from './db/targets.ts';
