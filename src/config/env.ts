/**
 * The environment variables the library reads, all read here. Everything else in src/ gets them
 * as options (`openFleet({ env })`, `loadFleetConfig(file)`), so a caller can pass its own set.
 *
 * - FLEET_CONFIG: the fleet description file (default fleet.config.json of the package);
 * - FLEET_HOME: where local state lives (the embedded PostgreSQL, generated credentials; default
 *   `.fleet/` in the working directory);
 * - FLEET_DATABASE_URL: a one-region fleet on that database, the region named by FLEET_REGION
 *   (default `local`);
 * - FLEET_DATABASE_URL_<REGION> (the region name uppercased): that region of the description on a
 *   database of your own.
 */
export interface FleetEnvironment {
  readonly configPath: string | undefined;
  readonly home: string | undefined;
  readonly databaseUrl: string | undefined;
  readonly region: string | undefined;
  /** FLEET_DATABASE_URL_<REGION> of a region (by its name in the description). */
  regionDatabaseUrl(region: string): { readonly variable: string; readonly url: string | undefined };
}

/** The fleet's variables from `env`, the process environment by default. Empty values count as unset. */
export function readFleetEnvironment(env: NodeJS.ProcessEnv = process.env): FleetEnvironment {
  const value = (name: string) => (env[name] === '' ? undefined : env[name]);
  return {
    configPath: value('FLEET_CONFIG'),
    home: value('FLEET_HOME'),
    databaseUrl: value('FLEET_DATABASE_URL'),
    region: value('FLEET_REGION'),
    regionDatabaseUrl(region) {
      const variable = `FLEET_DATABASE_URL_${region.toUpperCase()}`;
      return { variable, url: value(variable) };
    },
  };
}
