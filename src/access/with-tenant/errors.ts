import { FleetError } from '../../errors.ts';
import { SQLSTATE, sqlStateOf } from '../../db/sqlstate.ts';

/** The tenant is registered in none of these regions. */
export function notFound(tenantId: string, regions: readonly string[]): FleetError {
  return new FleetError(
    'TENANT_NOT_FOUND',
    `tenant ${JSON.stringify(tenantId)} is not registered in ${regions.length === 1 ? `region ${regions[0]}` : `any region (${regions.join(', ')})`}: check the id (fleet tenants list), or add it (fleet tenants add)`,
  );
}

/** A login as the tenant's session role failed: what to check, by how the region authenticates. */
export function loginFailed(region: string, auth: 'iam' | 'scram', tenantId: string, role: string, error: unknown): FleetError {
  return new FleetError(
    'DATABASE_UNAVAILABLE',
    `cannot connect to region ${region} as the session role ${JSON.stringify(role)} of tenant ${JSON.stringify(tenantId)}: ${(error as Error).message}. ${auth === 'iam' ? 'Check the application may rds-db:connect as <prefix>_l_* database users.' : 'Every application host must use the same secret (FLEET_APP_SECRET, or the same credentials file).'}`,
  );
}

/** Entering the tenant's role failed: a missing role or membership becomes REFUSED with the fix; anything else as is. */
export function enterFailed(tenantId: string, role: string, error: unknown): unknown {
  const code = sqlStateOf(error);
  // Not a member of the role, or the role does not exist.
  if (code === SQLSTATE.INSUFFICIENT_PRIVILEGE || code === SQLSTATE.INVALID_PARAMETER_VALUE) {
    return new FleetError(
      'REFUSED',
      `tenant ${JSON.stringify(tenantId)} is active but its role ${JSON.stringify(role)} is missing or not granted to its session role (${(error as Error).message}). Opening the access again (any fleet sql) restores the roles of registered tenants.`,
    );
  }
  return error;
}
