import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { migrationsCopy } from '../helpers/fleet.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { cliEnv, runFleet } from '../helpers/cli.ts';

const db = useTestDatabase('cli');

describe('the fleet CLI', () => {
  test('every command has --help with an example', async () => {
    for (const args of [
      [],
      ['tenants', 'add'],
      ['tenants', 'list'],
      ['migrate'],
      ['rollback'],
      ['status'],
      ['migration', 'new'],
      ['start'],
    ]) {
      const result = await runFleet([...args, '--help'], cliEnv(db().url));
      expect(result.exitCode, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toMatch(/Examples?:/);
    }
  });

  test('bad usage exits 2 and says what was wrong', async () => {
    const env = cliEnv(db().url);
    const cases: Array<[string[], RegExp]> = [
      [['migrate', '--concurrency', 'lots'], /--concurrency must be a whole number/],
      [['migrate', '--concurrency', '0'], /--concurrency must be a whole number/],
      [['migrate', '--shard', '5/4'], /--shard "5\/4" is not i\/n/],
      [['migrate', '--to', '9999_nope'], /--to "9999_nope" is not a migration/],
      [['migrate', '--bogus'], /unknown option '--bogus'/],
      [['rollback'], /required option '--to <name>'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['migrate', '--tenant', 'Not Valid'], /tenant id "Not Valid" is not valid/],
    ];
    for (const [args, message] of cases) {
      const result = await runFleet(args, env);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  });

  test('a broken fleet description exits 2 and lists every problem', async () => {
    const dir = tempDir('config');
    const file = path.join(dir, 'fleet.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'x',
        regions: [{ name: 'eu', awsRegion: 'eu-central-1', jurisdiction: 'EU', offsiteRegion: 'us-east-1' }],
        state: { bucket: 'b', awsRegion: 'eu-central-1' },
        oidc: { repository: 'a/b' },
      }),
    );
    const result = await runFleet(['status', '--config', file], cliEnv(db().url));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/CONFIG_INVALID/);
    expect(result.stderr).toMatch(/name: a fleet name/);
    expect(result.stderr).toMatch(/off-site region us-east-1 lies in US/);
    expect(result.stderr).toMatch(/state.bucket/);
  });

  test('tenants add --file, list --json, migrate --json, status --json, exit codes', async () => {
    const dir = migrationsCopy();
    const env = cliEnv(db().url, { FLEET_MIGRATIONS_DIR: dir });
    const ids = tempDir('ids');
    const file = path.join(ids, 'ids.txt');
    writeFileSync(file, '# new sites\nacme\nglobex\n\ninitech\n');
    const add = await runFleet(['tenants', 'add', '--file', file, '--json'], env);
    expect(add.exitCode, add.stderr).toBe(0);
    const added = JSON.parse(add.stdout);
    expect(added.registered.sort()).toEqual(['acme', 'globex', 'initech']);
    expect(added.migrate.summary).toMatchObject({ failed: 0, migrationsApplied: 18 });

    const again = await runFleet(['tenants', 'add', 'acme', '--json'], env);
    expect(JSON.parse(again.stdout).alreadyRegistered).toEqual([{ id: 'acme', region: 'local', status: 'active' }]);

    const list = await runFleet(['tenants', 'list', '--json'], env);
    const tenants = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    expect(Array.isArray(tenants)).toBe(true);
    expect(tenants.map((t) => [t.id, t.region, t.schema, t.status])).toEqual([
      ['acme', 'local', 't_acme', 'active'],
      ['globex', 'local', 't_globex', 'active'],
      ['initech', 'local', 't_initech', 'active'],
    ]);

    writeFileSync(path.join(dir, '0007_sprints.sql'), 'CREATE TABLE sprints (id bigint PRIMARY KEY);');
    const dry = await runFleet(['migrate', '--dry-run', '--json'], env);
    expect(dry.exitCode).toBe(0);
    expect(JSON.parse(dry.stdout).planned.map((p: { pending: string[] }) => p.pending)).toEqual([
      ['0007_sprints'],
      ['0007_sprints'],
      ['0007_sprints'],
    ]);

    const status = JSON.parse((await runFleet(['status', '--json'], env)).stdout);
    expect(status.latest).toBe('0007_sprints');
    expect(status.regions[0].versions).toEqual({ '0006_issue_labels_and_priority': 3 });
    expect(status.tenants[0]).toEqual({
      id: 'acme',
      region: 'local',
      schema: 't_acme',
      status: 'active',
      lastApplied: '0006_issue_labels_and_priority',
      pending: 1,
      pendingByPhase: { preDeploy: 1, postDeploy: 0 },
    });

    const migrate = await runFleet(['migrate', '--json'], env);
    expect(migrate.exitCode).toBe(0);
    const report = JSON.parse(migrate.stdout);
    expect(report).toMatchObject({ ok: true, summary: { tenants: 3, applied: 3, failed: 0, migrationsApplied: 3 } });

    writeFileSync(path.join(dir, '0008_broken.sql'), 'CREATE TABLE oops (id bigint PRIMARY KEY REFERENCES nowhere(id));');
    const broken = await runFleet(['migrate', '--json'], env);
    expect(broken.exitCode).toBe(1);
    const failed = JSON.parse(broken.stdout);
    expect(failed.ok).toBe(false);
    expect(failed.results[0]).toMatchObject({
      status: 'failed',
      error: { migration: '0008_broken', code: '42P01', message: expect.stringContaining('relation "nowhere" does not exist') },
    });

    const human = await runFleet(['migrate'], env);
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toMatch(/failed local\/acme at 0008_broken: relation "nowhere" does not exist \[SQLSTATE 42P01\]/);
    // Not a terminal: no progress bar, no colour codes.
    expect(human.stdout + human.stderr).not.toContain('\u001b[');
  });

  test('migration new writes the next numbered file', async () => {
    const dir = migrationsCopy();
    // A name that would have to be reshaped is refused (the ledger keys on it for ever), with the fix.
    const reshaped = await runFleet(
      ['migration', 'new', 'Add issue votes', '--down', '--json'],
      cliEnv(db().url, { FLEET_MIGRATIONS_DIR: dir }),
    );
    expect(reshaped.exitCode).toBe(2);
    expect(JSON.parse(reshaped.stdout).error.message).toContain('did you mean add_issue_votes?');
    expect(readdirSync(dir).some((f) => f.startsWith('0007'))).toBe(false);
    const result = await runFleet(
      ['migration', 'new', 'add_issue_votes', '--down', '--json'],
      cliEnv(db().url, { FLEET_MIGRATIONS_DIR: dir }),
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).name).toBe('0007_add_issue_votes');
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['0007_add_issue_votes.sql', '0007_add_issue_votes.down.sql']));
    const bad = await runFleet(['migration', 'new', 'drop;table'], cliEnv(db().url, { FLEET_MIGRATIONS_DIR: dir }));
    expect(bad.exitCode).toBe(2);
  });
});
