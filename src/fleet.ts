import path from 'node:path';
import type { FleetConfig } from './config/schema.ts';
import { PACKAGE_ROOT } from './config/load.ts';
import { fleetHome } from './config/home.ts';
import { systemClock, type Clock } from './clock.ts';
import { FleetError } from './errors.ts';
import { ensureControlSchema } from './db/control-schema.ts';
import { RegionDatabase } from './db/region-database.ts';
import { withClient } from './db/scoped.ts';
import { connectionConfig, resolveTargets, type ConnectionDeps } from './db/targets.ts';
import type { AuthTokenSigner } from './db/iam-auth.ts';

/** Everything a fleet operation needs: the description, the clock, who acts, and each region's database. */
export interface Fleet {
  readonly config: FleetConfig;
  readonly clock: Clock;
  /** Who is acting, for the audit trail: the OS user or the pipeline. */
  readonly actor: string;
  readonly migrationsDir: string;
  readonly regions: readonly RegionDatabase[];
  region(name: string): RegionDatabase;
  close(): Promise<void>;
}

export interface OpenFleetOptions {
  readonly config: FleetConfig;
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  readonly actor?: string;
  /** Tenant migrations directory; default migrations/tenant of the package. */
  readonly migrationsDir?: string;
  /** Tenant connections per database; default the description's runner.concurrency. */
  readonly concurrency?: number;
  /** Only these regions (validated against the fleet). */
  readonly regions?: readonly string[];
  /** Where the embedded PostgreSQL lives; default fleetHome(options.env): FLEET_HOME, else `.fleet/` in the working directory. */
  readonly embeddedDir?: string;
  readonly signerFactory?: (options: { hostname: string; port: number; username: string; region: string }) => Promise<AuthTokenSigner>;
  /** Database user for IAM auth; default the migrator. */
  readonly iamUser?: string;
}

export const DEFAULT_MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations', 'tenant');

/** Connect to every region (starting the embedded server when that is the target) and bring the control schema up to date. */
export async function openFleet(options: OpenFleetOptions): Promise<Fleet> {
  const clock = options.clock ?? systemClock;
  const concurrency = options.concurrency ?? options.config.runner.concurrency;
  let targets = resolveTargets(options.config, options.env);
  if (options.regions && options.regions.length > 0) {
    const known = new Set(targets.map((t) => t.region));
    const unknown = options.regions.filter((r) => !known.has(r));
    if (unknown.length > 0) {
      throw new FleetError(
        'INPUT_INVALID',
        `unknown region ${unknown.map((r) => JSON.stringify(r)).join(', ')}: this fleet has ${[...known].join(', ')}`,
      );
    }
    targets = targets.filter((t) => options.regions?.includes(t.region));
  }

  let embedded: { url(database: string): string; ensureDatabase(name: string): Promise<void>; release(): Promise<void> } | undefined;
  const deps: ConnectionDeps = {
    clock,
    iamUser: options.iamUser ?? options.config.databaseUsers.migrator,
    ...(options.signerFactory ? { signerFactory: options.signerFactory } : {}),
    embeddedUrl: async (database) => {
      if (!embedded) {
        const { acquireEmbeddedServer } = await import('./db/embedded/index.ts');
        embedded = await acquireEmbeddedServer({ dir: options.embeddedDir ?? fleetHome(options.env) });
      }
      const server = embedded;
      await server.ensureDatabase(database);
      return server.url(database);
    },
  };

  const regions: RegionDatabase[] = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Pools wait for checked-out clients; on an interrupt some may never come back, and the
      // embedded server must still be released (its stop ends any backend left).
      const pools = Promise.all(regions.map((r) => r.close()));
      await Promise.race([pools, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      await embedded?.release();
    })());
  try {
    for (const target of targets) {
      regions.push(new RegionDatabase(target, await connectionConfig(target, deps), concurrency));
    }
    await Promise.all(
      regions.map(async (region) => {
        try {
          await withClient(region.controlPool, (client) => ensureControlSchema(client, options.config.extensions));
        } catch (error) {
          if (error instanceof FleetError) throw error;
          throw new FleetError(
            'DATABASE_UNAVAILABLE',
            `cannot reach region ${region.name} at ${region.description}: ${(error as Error).message}. Check that the database is up and the connection settings (FLEET_DATABASE_URL or the fleet description) are right.`,
          );
        }
      }),
    );
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }

  return {
    config: options.config,
    clock,
    actor: options.actor ?? 'library',
    migrationsDir: options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR,
    regions,
    region(name: string) {
      const found = regions.find((r) => r.name === name);
      if (!found)
        throw new FleetError(
          'INPUT_INVALID',
          `unknown region ${JSON.stringify(name)}: this fleet has ${regions.map((r) => r.name).join(', ')}`,
        );
      return found;
    },
    close,
  };
}
