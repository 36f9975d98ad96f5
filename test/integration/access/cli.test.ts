/** `fleet sql` and `fleet support` as an operator runs them: the real CLI in a child process. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { cliEnv, runFleet } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { dropRoles, schemaChecksum, seed } from './helpers.ts';

const db = useTestDatabase('access_cli');
let fleet: Fleet;
let env: Record<string, string>;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { concurrency: 2 });
  await addTenants(fleet, ['acme', 'globex']);
  await seed(fleet, 't_acme', 'acme');
  await seed(fleet, 't_globex', 'globex');
  // FLEET_HOME: where the CLI keeps the application role's credentials (credentials/).
  env = cliEnv(db().url, { FLEET_HOME: tempDir('home') });
});
afterAll(async () => {
  await fleet?.close();
  await dropRoles(db().url);
});

async function checksums(): Promise<string[]> {
  return Promise.all(['t_acme', 't_globex'].map((s) => schemaChecksum(fleet, s)));
}

describe('fleet sql', () => {
  test('reads in the tenant scope (JSON), refuses writes unless --write, and audits every run', async () => {
    const read = await runFleet(['sql', '--tenant', 'acme', '-c', 'SELECT key, summary FROM issues ORDER BY key', '--json'], env);
    expect(read.exitCode).toBe(0);
    const doc = JSON.parse(read.stdout) as {
      ok: boolean;
      tenant: string;
      write: boolean;
      statements: Array<{ command: string; rows: unknown[] }>;
    };
    expect(doc).toMatchObject({ ok: true, tenant: 'acme', write: false });
    expect(doc.statements[0]!.rows).toEqual([{ key: 'P1-1', summary: 'acme secret issue' }]);

    const refused = await runFleet(['sql', '--tenant', 'acme', '-c', `UPDATE issues SET status = 'done'`], env);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/read-only transaction/);

    const file = path.join(tempDir('sql'), 'fix.sql');
    writeFileSync(file, `UPDATE issues SET status = 'done' WHERE key = 'P1-1';\nSELECT status FROM issues;\n`);
    const wrote = await runFleet(['sql', '--tenant', 'acme', '-f', file, '--write'], env);
    expect(wrote.exitCode).toBe(0);
    expect(wrote.stdout).toContain('UPDATE 1');
    expect(wrote.stdout).toContain('done');
    const { rows } = await fleet.regions[0]!.query<{ action: string; actor: string; write: string }>(
      `SELECT action, actor, details->>'write' AS write FROM fleet.audit_events WHERE tenant_id = 'acme' AND action LIKE 'sql%' ORDER BY id`,
    );
    expect(rows.map((r) => r.action)).toEqual(['sql', 'sql.done', 'sql', 'sql.failed', 'sql', 'sql.done']);
    expect(rows.every((r) => r.actor === 'test-cli')).toBe(true);
    expect(rows.at(-1)?.write).toBe('true');
  });

  test('a row carrying terminal escape sequences is printed escaped, never obeyed (values, column names, error text)', async () => {
    const sql = `SELECT E'\\x1b]0;owned\\x07\\x1b[2J\\u202Etxt.exe' AS "col\x1b[31m", E'a\\tb\\nc\\u009b' AS v`;
    const run = await runFleet(['sql', '--tenant', 'acme', '-c', sql], env);
    expect(run.exitCode, run.stderr).toBe(0);
    // eslint-disable-next-line no-control-regex -- what must not reach the terminal
    expect(run.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(run.stdout).toContain('\\x1b]0;owned\\x07\\x1b[2J\\u202etxt.exe');
    expect(run.stdout).toContain('col\\x1b[31m');
    const failed = await runFleet(['sql', '--tenant', 'acme', '-c', `SELECT E'\\x1b[2J'::int`], env);
    expect(failed.exitCode).toBe(1);
    // eslint-disable-next-line no-control-regex -- what must not reach the terminal
    expect(failed.stderr).not.toMatch(/\u001b\[2J/);
  });

  test("another tenant's schema, the control schema, role changes: exit 1 with PostgreSQL's message, nothing changes", async () => {
    const before = await checksums();
    const prefix = (await fleet.regions[0]!.query<{ p: string }>('SELECT role_prefix AS p FROM fleet.access_settings')).rows[0]!.p;
    // The whole corpus runs in attack-corpus.test.ts through the library; here, the CLI path.
    const attempts = [
      [`DELETE FROM t_globex.issues`, /permission denied for schema t_globex/],
      [`SELECT * FROM fleet.tenants; SET SESSION AUTHORIZATION postgres`, /permission denied for schema fleet/],
      [`SET SESSION AUTHORIZATION postgres`, /permission denied to set session authorization/],
      [`SET ROLE "${prefix}_t_globex"; SELECT * FROM t_globex.issues`, /permission denied to set role/],
      [`SELECT set_config('role', '${prefix}_l_t_globex', true)`, /permission denied to set role/],
    ] as const;
    const results = await Promise.all(attempts.map(([sql]) => runFleet(['sql', '--tenant', 'acme', '--write', '-c', sql, '--json'], env)));
    results.forEach((result, i) => {
      expect([attempts[i]![0], result.exitCode]).toEqual([attempts[i]![0], 1]);
      expect(result.stderr).toMatch(attempts[i]![1]);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'POSTGRES', sqlstate: '42501' } });
    });
    expect(await checksums()).toEqual(before);
  });

  test('injection-crafted tenant ids and transaction control are refused with exit 2 before anything runs', async () => {
    const before = await checksums();
    const audits = (await fleet.regions[0]!.query('SELECT count(*)::int AS n FROM fleet.audit_events')).rows[0];
    const runs = await Promise.all([
      runFleet(['sql', '--tenant', "acme'; DROP SCHEMA t_globex CASCADE; --", '--write', '-c', 'SELECT 1'], env),
      runFleet(['sql', '--tenant', 'acme" ; RESET ROLE', '--write', '-c', 'DELETE FROM t_globex.issues'], env),
      runFleet(['sql', '--tenant', 'acme', '--write', '-c', 'SELECT 1; COMMIT; DELETE FROM t_globex.issues'], env),
      runFleet(['sql', '--tenant', 'acme', '-c', 'SELECT 1', '-f', '/dev/null'], env),
    ]);
    for (const run of runs) expect([run.exitCode, run.stderr.split('\n')[0]]).toEqual([2, expect.stringMatching(/INPUT_INVALID|error/)]);
    expect(await checksums()).toEqual(before);
    expect((await fleet.regions[0]!.query('SELECT count(*)::int AS n FROM fleet.audit_events')).rows[0]).toEqual(audits);
  });
});

describe('fleet support', () => {
  test('grant (login), list, revoke, sweep; bad ttl exits 2', async () => {
    const tooLong = await runFleet(['support', 'grant', 'acme', '--ticket', 'SUP-9', '--ttl', '9h'], env);
    expect(tooLong.exitCode).toBe(2);
    expect(tooLong.stderr).toContain('8 hours');

    const granted = await runFleet(['support', 'grant', 'acme', '--ticket', 'SUP-42', '--ttl', '1h', '--json'], env);
    expect(granted.exitCode).toBe(0);
    const doc = JSON.parse(granted.stdout) as {
      grant: { id: string; ticket: string; state: string };
      login: { user: string; url: string };
    };
    expect(doc.grant).toMatchObject({ ticket: 'SUP-42', state: 'active' });
    expect(doc.login.url).toContain(doc.login.user);

    const list = await runFleet(['support', 'list', '--json'], env);
    expect(list.exitCode).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ id: string }>).map((g) => g.id)).toContain(doc.grant.id);

    const revoked = await runFleet(['support', 'revoke', doc.grant.id, '--json'], env);
    expect(revoked.exitCode).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ changed: true, grant: { id: doc.grant.id, state: 'revoked' } });

    const sweep = await runFleet(['support', 'sweep', '--json'], env);
    expect(sweep.exitCode).toBe(0);
    expect(JSON.parse(sweep.stdout)).toMatchObject({ ok: true, revoked: [] });
  });
});
