import path from 'node:path';

/**
 * Where the toolkit keeps its local state (the embedded PostgreSQL, generated credentials):
 * FLEET_HOME when set, else `.fleet/` in the working directory. Never the package directory,
 * which is `node_modules/tenant-fleet` for an application and may be read-only.
 */
export function fleetHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return env.FLEET_HOME ? path.resolve(cwd, env.FLEET_HOME) : path.join(cwd, '.fleet');
}
