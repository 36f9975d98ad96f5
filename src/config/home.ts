import path from 'node:path';
import { readFleetEnvironment } from './env.ts';

/**
 * Where the toolkit keeps its local state (the embedded PostgreSQL, generated credentials):
 * FLEET_HOME when set, else `.fleet/` in the working directory. Never the package directory,
 * which is `node_modules/tenant-fleet` for an application and may be read-only.
 */
export function fleetHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const home = readFleetEnvironment(env).home;
  return home ? path.resolve(cwd, home) : path.join(cwd, '.fleet');
}
