/** The lifecycle and purge commands as an operator or a pipeline runs them: exit codes and --json shapes. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { DAY_MS, ManualClock } from '../../../src/clock.ts';
import type { Fleet } from '../../../src/fleet.ts';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { uninstallTenant } from '../../../src/lifecycle/uninstall.ts';
import { queryStringHash } from '../../../src/atlassian/query-string-hash.ts';
import { dumpDatabase, seedRows, tenantRow } from './helpers.ts';
import { runFleet } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const db = useTestDatabase('lifecyclecli');
// The CLI runs on the system clock; the setup happens a year and a half earlier.
const clock = new ManualClock(new Date(Date.now() - 540 * DAY_MS));
const ids = Array.from({ length: 10 }, (_, i) => `cli-${i}`);
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  fleet = await openTestFleet(db().url, { clock });
  await addTenants(fleet, ids);
  for (const id of ids) await seedRows(fleet, id, 1);
  dir = tempDir('cli');
});
afterAll(async () => fleet?.close());

async function fleetCli(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; json: Record<string, unknown> }> {
  const env = { FLEET_DATABASE_URL: db().url, FLEET_REGION: 'local', FLEET_ACTOR: 'ci:nightly-purge', NO_COLOR: '1' };
  const result = await runFleet(args, env);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(String(result.stdout).trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  } catch {
    // not JSON: the test looks at stdout itself
  }
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), json };
}

describe('fleet tenants lifecycle commands', () => {
  test('uninstall --at: exit 0, the transition as JSON, audited with the pipeline as actor', async () => {
    const at = new Date(clock.now().getTime() + DAY_MS).toISOString();
    const r = await fleetCli('tenants', 'uninstall', 'cli-0', '--at', at, '--reason', 'missed webhook, OPS-1', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json).toEqual({
      command: 'tenants uninstall',
      ok: true,
      tenant: 'cli-0',
      region: 'local',
      outcome: 'disconnected',
      changed: true,
      from: 'active',
      to: 'disconnected',
      disconnectedAt: at,
      purgeAfter: new Date(Date.parse(at) + 30 * DAY_MS).toISOString(),
      holdReason: null,
    });
    const { rows } = await fleet.regions[0]!.query(
      `SELECT actor, reason FROM fleet.audit_events WHERE tenant_id = 'cli-0' AND action = 'uninstalled'`,
    );
    expect(rows).toEqual([{ actor: 'ci:nightly-purge', reason: 'missed webhook, OPS-1' }]);
  });

  test('bad usage exits 2 before anything changes: unknown tenant, hold without --reason, a bad date', async () => {
    const unknown = await fleetCli('tenants', 'uninstall', 'nobody', '--json');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.json).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID', message: expect.stringMatching(/not registered/) } });
    const noReason = await fleetCli('tenants', 'hold', 'cli-1');
    expect(noReason.exitCode).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const badDate = await fleetCli('purge', '--now', 'tomorrow');
    expect(badDate.exitCode).toBe(2);
    expect(badDate.stderr).toMatch(/ISO date/);
  });

  test('hold with a reason: exit 0; sweep is a dry run by default and changes nothing', async () => {
    await uninstallTenant(fleet, 'cli-1');
    const held = await fleetCli('tenants', 'hold', 'cli-1', '--reason', 'LEGAL-9', '--json');
    expect(held.exitCode, held.stderr).toBe(0);
    expect(held.json).toMatchObject({ command: 'tenants hold', ok: true, outcome: 'held', holdReason: 'LEGAL-9' });
    const before = await dumpDatabase(fleet);
    const sweep = await fleetCli('tenants', 'sweep', '--json');
    expect(sweep.exitCode, sweep.stderr).toBe(0);
    expect(sweep.json).toMatchObject({ command: 'tenants sweep', ok: true, dryRun: true, staleAfterDays: 30, disconnected: 0 });
    expect((sweep.json.stale as unknown[]).length).toBe(8);
    expect(await dumpDatabase(fleet)).toEqual(before);
  });
});

describe('fleet purge', () => {
  test('a dry run: exit 0, the due tenants and the brake as JSON, the database unchanged', async () => {
    await uninstallTenant(fleet, 'cli-2');
    const before = await dumpDatabase(fleet);
    const r = await fleetCli('purge', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      command: 'purge',
      ok: true,
      dryRun: true,
      results: [],
      aside: [],
      asideResults: [],
      summary: { due: 2, purged: 0, asideDue: 0 },
      brake: { tripped: true, maxShare: 0.1 },
    });
    expect((r.json.due as Array<Record<string, unknown>>).map((d) => Object.keys(d).sort())).toEqual(
      Array(2).fill([
        'approxBytes',
        'asideSchemas',
        'backupExpiresAt',
        'disconnectCause',
        'disconnectedAt',
        'purgeAfter',
        'region',
        'schema',
        'tables',
        'tenant',
      ]),
    );
    const text = await fleetCli('purge');
    expect(text.stdout).toMatch(/Dry run at .*: 2 tenant\(s\) due for purge/);
    expect(text.stdout).toMatch(/an --execute would be refused/);
    expect(await dumpDatabase(fleet)).toEqual(before);
  });

  test('--execute over the brake: exit 1, REFUSED with the limit and the numbers, nothing purged; --allow-mass: exit 0', async () => {
    const before = await dumpDatabase(fleet);
    const refused = await fleetCli('purge', '--execute', '--json');
    expect(refused.exitCode).toBe(1);
    expect(refused.json).toMatchObject({
      ok: false,
      error: {
        code: 'REFUSED',
        problems: [
          'region local: 2 tenant(s) due of 10 not purged; the limit is 10% (lifecycle.purgeMaxShare), at most 1 at once — exceeded',
        ],
      },
    });
    expect(await dumpDatabase(fleet)).toEqual(before);

    const done = await fleetCli('purge', '--execute', '--allow-mass', '--json');
    expect(done.exitCode, done.stderr).toBe(0);
    expect(done.json).toMatchObject({
      command: 'purge',
      ok: true,
      dryRun: false,
      allowMass: true,
      summary: { due: 2, purged: 2, skipped: 0, failed: 0 },
    });
    expect((done.json.results as Array<{ tenant: string; status: string }>).map((x) => [x.tenant, x.status])).toEqual([
      ['cli-2', 'purged'],
      ['cli-0', 'purged'],
    ]);
    expect((await tenantRow(fleet, 'cli-1'))?.status).toBe('disconnected');
  });

  test('purge report: every purge with its dates and backup expiry, as JSON and as text', async () => {
    const r = await fleetCli('purge', 'report', '--since', '2020-01-01', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      command: 'purge report',
      ok: true,
      since: '2020-01-01T00:00:00.000Z',
      summary: { purges: 2, tenants: 2, backupsStillHolding: 2 },
    });
    expect((r.json.purges as Array<Record<string, unknown>>)[1]).toMatchObject({
      tenant: 'cli-0',
      schema: 't_cli_0',
      disconnectCause: 'uninstalled',
      actor: 'ci:nightly-purge',
      schemaGone: true,
      backupsExpired: false,
    });
    const text = await fleetCli('purge', 'report');
    expect(text.stdout).toMatch(/local\/cli-0 {2}schema t_cli_0: disconnected .* purged .* by ci:nightly-purge; .* last backup expires/);
  });
});

describe('fleet lifecycle receive', () => {
  test('a verified callback applies (exit 0); a forged one changes nothing and says why (exit 2)', async () => {
    const atlassian = await generateKeyPair('RS256');
    const impostor = await generateKeyPair('RS256');
    const pem = path.join(dir, 'atlassian.pem');
    writeFileSync(pem, await exportSPKI(atlassian.publicKey));
    const body = path.join(dir, 'uninstalled.json');
    writeFileSync(
      body,
      JSON.stringify({ key: 'expium-addon', clientKey: 'cli-3', baseUrl: 'https://acme.atlassian.net', eventType: 'uninstalled' }),
    );
    const sign = (key: typeof atlassian.privateKey) =>
      new SignJWT({ qsh: queryStringHash({ method: 'POST', path: '/uninstalled' }) })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer('cli-3')
        .setAudience('https://app.example.com')
        .setIssuedAt()
        .setExpirationTime('3m')
        .sign(key);
    const args = ['lifecycle', 'receive', '--file', body, '--base-url', 'https://app.example.com', '--public-key-file', pem, '--json'];

    const before = await dumpDatabase(fleet);
    const forged = await fleetCli(...args, '--jwt', await sign(impostor.privateKey));
    expect(forged.exitCode).toBe(2);
    expect(forged.json).toMatchObject({ command: 'lifecycle receive', ok: false, accepted: false, code: 'JWT_BAD_SIGNATURE' });
    const missing = await fleetCli(...args);
    expect(missing.exitCode).toBe(2);
    expect(missing.json).toMatchObject({ accepted: false, code: 'JWT_MISSING' });
    expect(await dumpDatabase(fleet)).toEqual(before);

    const good = await fleetCli(...args, '--jwt', await sign(atlassian.privateKey));
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.json).toMatchObject({
      command: 'lifecycle receive',
      ok: true,
      accepted: true,
      event: 'uninstalled',
      tenant: 'cli-3',
      result: { outcome: 'disconnected' },
    });
    expect((await tenantRow(fleet, 'cli-3'))?.status).toBe('disconnected');
  });
});
