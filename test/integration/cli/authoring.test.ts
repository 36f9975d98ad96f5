/** Safe authoring through the CLI: templates are not applied, names are not reshaped, --to says where tenants stand. */
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { cliEnv, runFleet, type CliResult } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { DEFAULT_MIGRATIONS_DIR } from '../../../src/fleet.ts';

const db = useTestDatabase('authoringcli');
const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, unknown>;

describe('authoring a migration', () => {
  const dir = tempDir('authoring');
  const migrations = path.join(dir, 'tenant');
  cpSync(DEFAULT_MIGRATIONS_DIR, migrations, { recursive: true });
  const env = () => cliEnv(db().url, { FLEET_MIGRATIONS_DIR: migrations });
  const latest = () =>
    readdirSync(migrations)
      .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
      .sort()
      .at(-1)
      ?.slice(0, -4) ?? '';

  test('a name that would be reshaped is refused, naming the one that would be accepted', async () => {
    const r = await runFleet(['migration', 'new', 'Add Labels', '--json'], env());
    expect(r.exitCode).toBe(2);
    expect(json(r)).toMatchObject({ ok: false, error: { message: expect.stringContaining('did you mean add_labels?') } });
    expect(readdirSync(migrations).some((f) => f.includes('add_labels'))).toBe(false);
  });

  test('migrate refuses a template that holds no SQL, naming it; once it holds SQL it applies', async () => {
    const add = await runFleet(['tenants', 'add', 'au-1', 'au-2', 'au-3', '--json'], env());
    expect(add.exitCode, add.stderr).toBe(0);
    const made = await runFleet(['migration', 'new', 'add_labels'], env());
    expect(made.exitCode, made.stderr).toBe(0);
    const name = latest();
    expect(name).toMatch(/_add_labels$/);
    const refused = await runFleet(['migrate', '--json'], env());
    expect(refused.exitCode).toBe(2);
    expect(json(refused)).toMatchObject({
      ok: false,
      error: { code: 'MIGRATION_FILES_INVALID', problems: [expect.stringContaining(`${name}.sql: only comments or nothing`)] },
    });

    writeFileSync(path.join(migrations, `${name}.sql`), 'CREATE TABLE labels (id bigint PRIMARY KEY);\n', { flag: 'a' });
    const dry = await runFleet(['migrate', '--dry-run', '--canary', '2'], env());
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`3 tenant\\(s\\) would apply ${name} {2}\\[local 3\\]: local/au-1, local/au-2, local/au-3`));
    expect(dry.stdout).toMatch(/canaries first: local\/au-1, local\/au-2/);
    const done = await runFleet(['migrate', '--canary', '1', '--json'], env());
    expect(done.exitCode, done.stderr).toBe(0);
    expect(json(done)).toMatchObject({ ok: true, canaries: [{ tenant: 'au-1', region: 'local' }], summary: { applied: 3 } });
  });

  test('migrate --to an older migration than applied says so; --to takes a version alone', async () => {
    const r = await runFleet(['migrate', '--to', '0002'], env());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /3 tenant\(s\) already have migrations later than 0002_issues: migrate never goes back.*fleet rollback --to 0002_issues/,
    );
    expect(r.stdout).not.toMatch(/up to date/);
    const j = await runFleet(['migrate', '--to', '0002', '--json'], env());
    expect(json(j)).toMatchObject({ target: '0002_issues', pastTarget: ['au-1', 'au-2', 'au-3'] });
  });
});
