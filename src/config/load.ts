import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FleetError } from '../errors.ts';
import { readFleetEnvironment } from './env.ts';
import { fleetSchema, type FleetConfig } from './schema.ts';

/** The package root: where the default fleet description and migrations live (two levels above src/config/, three above the build's dist/src/config/). */
const TWO_UP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PACKAGE_ROOT = existsSync(path.join(TWO_UP, 'package.json')) ? TWO_UP : path.dirname(TWO_UP);

/** FLEET_CONFIG, else ./fleet.config.json, else the one shipped at the package root. */
export function defaultConfigPath(env?: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  const configPath = readFleetEnvironment(env).configPath;
  if (configPath) return path.resolve(cwd, configPath);
  const local = path.join(cwd, 'fleet.config.json');
  return existsSync(local) ? local : path.join(PACKAGE_ROOT, 'fleet.config.json');
}

/** Validate a parsed description, reporting every problem at once. */
export function parseFleetConfig(raw: unknown, source = 'fleet description'): FleetConfig {
  const result = fleetSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `${where}: ${issue.message}`;
  });
  throw new FleetError(
    'CONFIG_INVALID',
    `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); fix each and retry:`,
    problems,
  );
}

export function loadFleetConfig(file = defaultConfigPath()): FleetConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new FleetError(
      'CONFIG_INVALID',
      `cannot read the fleet description ${file}: ${(error as Error).message}. Set FLEET_CONFIG to its path.`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new FleetError('CONFIG_INVALID', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseFleetConfig(raw, file);
}
