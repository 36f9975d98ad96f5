import type pg from 'pg';
import type { FleetConfig } from '../config/schema.ts';
import type { Clock } from '../clock.ts';
import { readFleetEnvironment } from '../config/env.ts';
import { FleetError } from '../errors.ts';
import { createRdsSigner, iamPasswordProvider, rdsTlsOptions, type AuthTokenSigner } from './iam-auth.ts';

/**
 * Where each region's database is. In order of precedence:
 *   1. FLEET_DATABASE_URL: a one-region fleet (region FLEET_REGION, default `local`) on that database;
 *   2. a region's `database` endpoint in the fleet description: RDS with IAM tokens over verified TLS;
 *   3. the embedded PostgreSQL under .fleet/, one database per region.
 * Between 1 and 2: FLEET_DATABASE_URL_<REGION> (the region name uppercased, e.g.
 * FLEET_DATABASE_URL_EU) points that one region of the description at a database of your own,
 * the others keep their endpoint or the embedded default. The benchmarks use it to run one
 * runner over two regions on two databases of one server.
 */
export type RegionTarget =
  | { readonly region: string; readonly kind: 'url'; readonly url: string }
  | {
      readonly region: string;
      readonly kind: 'iam';
      readonly host: string;
      readonly port: number;
      readonly database: string;
      readonly awsRegion: string;
      readonly sslCaFile?: string;
    }
  | { readonly region: string; readonly kind: 'embedded'; readonly database: string };

export function resolveTargets(config: FleetConfig, env?: NodeJS.ProcessEnv): RegionTarget[] {
  const environment = readFleetEnvironment(env);
  const url = environment.databaseUrl;
  if (url) {
    const region = environment.region ?? 'local';
    if (!/^[a-z][a-z0-9]{0,15}$/.test(region)) {
      throw new FleetError(
        'CONFIG_INVALID',
        `FLEET_REGION ${JSON.stringify(region)} is not a region name: 1-16 lowercase letters or digits, starting with a letter`,
      );
    }
    try {
      new URL(url);
    } catch {
      throw new FleetError('CONFIG_INVALID', 'FLEET_DATABASE_URL is not a URL: expected postgres://user:password@host:port/database');
    }
    return [{ region, kind: 'url', url }];
  }
  return config.regions.map((region): RegionTarget => {
    const { variable, url: regionUrl } = environment.regionDatabaseUrl(region.name);
    if (regionUrl) {
      try {
        new URL(regionUrl);
      } catch {
        throw new FleetError('CONFIG_INVALID', `${variable} is not a URL: expected postgres://user:password@host:port/database`);
      }
      return { region: region.name, kind: 'url', url: regionUrl };
    }
    if (region.database) {
      return {
        region: region.name,
        kind: 'iam',
        host: region.database.host,
        port: region.database.port,
        database: region.database.name,
        awsRegion: region.awsRegion,
        ...(region.database.sslCaFile ? { sslCaFile: region.database.sslCaFile } : {}),
      };
    }
    return { region: region.name, kind: 'embedded', database: `fleet_${region.name}` };
  });
}

/** A description of a target safe to print: never a password. */
export function describeTarget(target: RegionTarget): string {
  switch (target.kind) {
    case 'url': {
      const u = new URL(target.url);
      return `${u.hostname}:${u.port || 5432}${u.pathname}`;
    }
    case 'iam':
      return `${target.host}:${target.port}/${target.database} (IAM, ${target.awsRegion})`;
    case 'embedded':
      return `embedded/${target.database}`;
  }
}

export interface ConnectionDeps {
  readonly clock: Clock;
  /** The database user for IAM auth (the migrator by default). */
  readonly iamUser: string;
  /** Builds the token signer; tests inject a fake. */
  readonly signerFactory?: (options: { hostname: string; port: number; username: string; region: string }) => Promise<AuthTokenSigner>;
  /** Resolves the URL of an embedded database, starting the server if needed. */
  readonly embeddedUrl?: (database: string) => Promise<string>;
}

/** pg connection settings for a target (without pool sizing). */
export async function connectionConfig(target: RegionTarget, deps: ConnectionDeps): Promise<pg.ClientConfig> {
  switch (target.kind) {
    case 'url':
      return { connectionString: target.url };
    case 'iam': {
      const signer = await (deps.signerFactory ?? createRdsSigner)({
        hostname: target.host,
        port: target.port,
        username: deps.iamUser,
        region: target.awsRegion,
      });
      return {
        host: target.host,
        port: target.port,
        database: target.database,
        user: deps.iamUser,
        password: iamPasswordProvider(signer, deps.clock),
        ssl: await rdsTlsOptions(target.sslCaFile),
      };
    }
    case 'embedded': {
      if (!deps.embeddedUrl)
        throw new FleetError(
          'DATABASE_UNAVAILABLE',
          `region ${target.region} needs the embedded PostgreSQL, which this caller did not provide`,
        );
      return { connectionString: await deps.embeddedUrl(target.database) };
    }
  }
}

/**
 * The database users of the fleet description, one per kind of work: the purge connects only as
 * the purge user (the one the purge roles of the stacks may sign for), support grants as the
 * support user, everything else (migrate, provisioning, the lifecycle) as the migrator.
 */
export type DatabaseRole = 'migrator' | 'purge' | 'support';

/** The database user a kind of work signs IAM tokens as (`databaseUsers.<role>`). */
export function databaseUserFor(config: FleetConfig, role: DatabaseRole): string {
  return config.databaseUsers[role];
}

/**
 * Regions that would fall back to the embedded PostgreSQL: no FLEET_DATABASE_URL(_<REGION>) and no
 * endpoint in the description. A destructive command run there by mistake acts on an empty,
 * throw-away database and reports success, so callers refuse unless told the embedded one is meant.
 */
export function embeddedRegions(targets: readonly RegionTarget[]): string[] {
  return targets.filter((t) => t.kind === 'embedded').map((t) => t.region);
}
