import type pg from 'pg';
import { FleetError } from '../errors.ts';
import type { MigrationFile } from '../migrate/migration-files.ts';
import { migrateTenantUp, type TenantRunSettings } from '../migrate/tenant-migrator.ts';
import { prepareTenantSchema } from '../provisioning/prepare-schema.ts';
import type { TenantStatus } from '../tenants/tenant-row.ts';

export interface StructureTarget {
  readonly id: string;
  readonly schema: string;
  readonly region: string;
  /** The target's registry status (the caller registered it, e.g. 'moving'). */
  readonly status: TenantStatus;
}

/**
 * Build the tenant's structure in the target the way the runner builds it: its schema and roles
 * as provisioning makes them, then the runner's own per-tenant path applies the migration files
 * up to `version` (its ledger rows included). So the target is what the runner would have made.
 */
export async function buildStructure(
  client: pg.ClientBase,
  target: StructureTarget,
  files: readonly MigrationFile[],
  settings: TenantRunSettings,
  version: string | null,
): Promise<void> {
  await prepareTenantSchema(client, target);
  if (version === null) return;
  const outcome = await migrateTenantUp(client, { ...target, applied: [] }, files, settings, version);
  if (outcome.status === 'failed') {
    throw new FleetError(
      'REFUSED',
      `building tenant ${JSON.stringify(target.id)}'s structure in the target failed at ${outcome.error.migration ?? 'its start'}: ${outcome.error.message}`,
    );
  }
  if (outcome.status === 'skipped' && outcome.reason !== 'up to date') {
    throw new FleetError(
      'REFUSED',
      `building tenant ${JSON.stringify(target.id)}'s structure in the target was skipped (${outcome.reason}); run the copy again once nothing else holds it`,
    );
  }
}
