import type { Fleet } from '../fleet.ts';
import { withClient } from '../db/scoped.ts';
import { readMigrationFiles } from '../migrate/migration-files.ts';
import { FleetError } from '../errors.ts';
import { checkMigrations, type CheckOptions, type CheckReport } from './check-migrations.ts';

/**
 * Check the fleet's migration files on the first region's database, in a scratch schema no tenant
 * sees (dropped at the end). Meant for a scratch database (the embedded default in CI); on a
 * production database it only adds and drops its own schema.
 */
export async function checkFleetMigrations(fleet: Fleet, options: CheckOptions = {}): Promise<CheckReport> {
  const files = readMigrationFiles(fleet.migrationsDir);
  const region = fleet.regions[0];
  if (!region) throw new FleetError('CONFIG_INVALID', 'the fleet has no region to check the migrations on');
  return withClient(region.controlPool, (client) =>
    checkMigrations(client, files, { statementTimeoutMs: fleet.config.runner.statementTimeoutMs, ...options }),
  );
}
