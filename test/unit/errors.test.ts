import { expect, test } from 'vitest';
import { FleetError } from '../../src/errors.ts';
import { readFleetEnvironment } from '../../src/config/env.ts';
import { flagOf } from '../../scripts/cli/run-command.ts';

test('a refused option is named as the library knows it, and as a caller maps it', () => {
  const error = FleetError.forOption('INPUT_INVALID', 'staleAfterDays', (o) => `${o} must be at least 1`, ['got 0']);
  expect(error.option).toBe('staleAfterDays');
  expect(error.message).toBe('staleAfterDays must be at least 1\n  - got 0');
  expect(error.describeWith(flagOf)).toBe('--stale-after must be at least 1\n  - got 0');
  expect(FleetError.forOption('INPUT_INVALID', 'now', (o) => `${o} is not a date`).describeWith(flagOf)).toBe('--now is not a date');
  expect(flagOf('failFast')).toBe('--fail-fast');
  const plain = new FleetError('REFUSED', 'no option here');
  expect(plain.option).toBeUndefined();
  expect(plain.describeWith(flagOf)).toBe('no option here');
});

test('the fleet environment: set, unset and empty variables', () => {
  const environment = readFleetEnvironment({
    FLEET_DATABASE_URL: 'postgres://db/app',
    FLEET_REGION: '',
    FLEET_DATABASE_URL_EU: 'postgres://eu/app',
  });
  expect(environment.databaseUrl).toBe('postgres://db/app');
  expect(environment.region).toBeUndefined();
  expect(environment.configPath).toBeUndefined();
  expect(environment.regionDatabaseUrl('eu')).toEqual({ variable: 'FLEET_DATABASE_URL_EU', url: 'postgres://eu/app' });
  expect(environment.regionDatabaseUrl('us').url).toBeUndefined();
});
