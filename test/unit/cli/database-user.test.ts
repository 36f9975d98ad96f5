/** Each command signs its IAM tokens as the database user of its kind of work (databaseUsers in the description). */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { loadFleetConfig, parseFleetConfig } from '../../../src/config/load.ts';
import { connectionConfig, resolveTargets } from '../../../src/db/targets.ts';
import type { OpenFleetOptions } from '../../../src/fleet.ts';

const opened: OpenFleetOptions[] = [];
vi.mock('../../../src/index.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/index.ts')>();
  return {
    ...original,
    // The command stops here: what matters is the user it asked for.
    openFleet: async (options: OpenFleetOptions) => {
      opened.push(options);
      throw new original.FleetError('DATABASE_UNAVAILABLE', 'stopped by the test');
    },
  };
});
const { runCli } = await import('../../../scripts/fleet.ts');

afterEach(() => {
  opened.length = 0;
  process.exitCode = undefined;
});

async function userOf(args: string[]): Promise<string | undefined> {
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await runCli(['node', 'fleet', ...args]);
  } finally {
    stderr.mockRestore();
  }
  expect(opened, args.join(' ')).toHaveLength(1);
  const user = opened[0]?.iamUser;
  opened.length = 0;
  return user;
}

describe('the database user per command', () => {
  test.each([
    [['purge'], 'fleet_purge'],
    [['purge', 'report'], 'fleet_purge'],
    [['support', 'list'], 'fleet_support'],
    [['support', 'sweep'], 'fleet_support'],
    [['support', 'revoke', 'eu-1'], 'fleet_support'],
    [['support', 'grant', 'acme', '--ticket', 'SUP-1', '--ttl', '1h'], 'fleet_support'],
    [['migrate'], 'fleet_migrator'],
    [['tenants', 'add', 'acme', '--region', 'eu'], 'fleet_migrator'],
    [['start'], 'fleet_migrator'],
    [['status'], 'fleet_migrator'],
  ])('fleet %j connects as %s', async (args, user) => {
    expect(await userOf(args)).toBe(user);
  });

  test('the chosen user is the one the token is signed for, with the names the description gives', async () => {
    const raw = JSON.parse(JSON.stringify(loadFleetConfig()));
    raw.regions[0].database = { host: 'fleet-eu.abc.eu-central-1.rds.amazonaws.com', port: 5432, name: 'fleet' };
    raw.databaseUsers = { migrator: 'm_user', purge: 'p_user', support: 's_user' };
    const config = parseFleetConfig(raw);
    const target = resolveTargets(config, {})[0]!;
    const seen: string[] = [];
    for (const iamUser of [config.databaseUsers.purge, config.databaseUsers.support]) {
      const pgConfig = await connectionConfig(target, {
        clock: new ManualClock(),
        iamUser,
        signerFactory: async (options) => {
          seen.push(options.username);
          return { getAuthToken: async () => `token-for-${options.username}` };
        },
      });
      expect(pgConfig.user).toBe(iamUser);
      expect(await (pgConfig.password as () => Promise<string>)()).toBe(`token-for-${iamUser}`);
    }
    expect(seen).toEqual(['p_user', 's_user']);
  });
});
