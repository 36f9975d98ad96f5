/**
 * Open a one-region fleet on a test database, exactly as FLEET_DATABASE_URL does in production.
 *
 *   const db = useTestDatabase('purge');
 *   const fleet = await openTestFleet(db().url, { clock });
 *   ... await fleet.close();
 */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseFleetConfig, loadFleetConfig } from '../../../src/config/load.ts';
import type { FleetConfig } from '../../../src/config/schema.ts';
import type { Clock } from '../../../src/clock.ts';
import { tempDir } from './temp-dir.ts';
import { openFleet, DEFAULT_MIGRATIONS_DIR, type Fleet } from '../../../src/fleet.ts';

export interface TestFleetOptions {
  readonly clock?: Clock;
  readonly migrationsDir?: string;
  readonly concurrency?: number;
  readonly region?: string;
  /** Overrides merged over the default fleet description (shallow per top-level key). */
  readonly config?: Partial<Record<keyof FleetConfig, unknown>>;
  readonly actor?: string;
}

export function testConfig(overrides: TestFleetOptions['config'] = {}): FleetConfig {
  const base = loadFleetConfig(path.join(DEFAULT_MIGRATIONS_DIR, '..', '..', 'fleet.config.json'));
  return parseFleetConfig({ ...base, ...overrides });
}

export async function openTestFleet(url: string, options: TestFleetOptions = {}): Promise<Fleet> {
  return openFleet({
    config: testConfig(options.config),
    env: { FLEET_DATABASE_URL: url, FLEET_REGION: options.region ?? 'local' },
    actor: options.actor ?? 'test',
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.migrationsDir ? { migrationsDir: options.migrationsDir } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
}

/** A private copy of the starter migrations (or an empty dir) a test may add files to. */
export function migrationsCopy(options: { empty?: boolean } = {}): string {
  const dir = tempDir('migrations');
  if (!options.empty) cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

export function writeMigration(dir: string, file: string, sql: string): string {
  const full = path.join(dir, file);
  writeFileSync(full, sql);
  return full;
}
