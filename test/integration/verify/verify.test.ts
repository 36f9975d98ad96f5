import { expect, test } from 'vitest';
import { addTenants } from '../../../src/provisioning/add-tenants.ts';
import { migrateFleet } from '../../../src/migrate/migrate-fleet.ts';
import { prepareTenantSchema } from '../../../src/provisioning/prepare-schema.ts';
import { verifyFleet } from '../../../src/verify/verify-fleet.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { query, runCli } from '../chaos/chaos-helpers.ts';

const db = useTestDatabase('verify');

test('verify: clean fleet at two versions, then each kind of hand-made change is reported; exit codes 0, 1, 2', async () => {
  const url = db().url;
  const fleet = await openTestFleet(url);
  try {
    await addTenants(fleet, ['v-clean', 'v-extra', 'v-index', 'v-default', 'v-check', 'v-gone']);
    // Two tenants at an older version: a second reference (built from 0001..0004).
    await query(
      url,
      `INSERT INTO fleet.tenants (id, schema_name, region, status, created_at, updated_at) VALUES ('v-old', 't_v_old', 'local', 'provisioning', now(), now()), ('v-old2', 't_v_old2', 'local', 'provisioning', now(), now())`,
    );
    await migrateFleet(fleet, { tenants: ['v-old', 'v-old2'], to: '0004_comments', prepare: prepareTenantSchema });
    // Registered, never provisioned: no schema and an empty ledger is not drift.
    await query(
      url,
      `INSERT INTO fleet.tenants (id, schema_name, region, status, created_at, updated_at) VALUES ('v-new', 't_v_new', 'local', 'provisioning', now(), now())`,
    );

    const clean = await verifyFleet(fleet);
    expect(clean.ok).toBe(true);
    expect(clean.tenants).toBe(9);
    expect(clean.regions[0]?.references).toBe(2);
    expect((await runCli(['verify'], { FLEET_DATABASE_URL: url })).exitCode).toBe(0);

    await query(url, `ALTER TABLE t_v_extra.issues ADD COLUMN sneaky text`);
    await query(url, `DROP INDEX t_v_index.issues_labels`);
    await query(url, `ALTER TABLE t_v_default.projects ALTER COLUMN project_type SET DEFAULT 'business'`);
    await query(url, `ALTER TABLE t_v_check.issue_links DROP CONSTRAINT issue_links_check`);
    await query(url, `DROP SCHEMA t_v_gone CASCADE`);
    await query(url, `CREATE INDEX oops ON t_v_old2.comments (author)`);

    const report = await verifyFleet(fleet);
    expect(report.ok).toBe(false);
    const by = new Map(report.drifted.map((d) => [d.tenant, d]));
    expect([...by.keys()].sort()).toEqual(['v-check', 'v-default', 'v-extra', 'v-gone', 'v-index', 'v-old2']);
    expect(by.get('v-extra')?.difference).toEqual({ missing: [], extra: ['column issues.sneaky = text'], changed: [] });
    expect(by.get('v-index')?.difference.missing).toEqual([
      'index issues_labels = CREATE INDEX issues_labels ON issues USING gin (labels)',
    ]);
    expect(by.get('v-default')?.difference.changed).toEqual([
      {
        item: 'column projects.project_type',
        expected: "text not null default 'software'::text",
        actual: "text not null default 'business'::text",
      },
    ]);
    expect(by.get('v-check')?.difference.missing).toEqual([
      'constraint issue_links.issue_links_check = CHECK ((source_issue_id <> target_issue_id))',
    ]);
    expect(by.get('v-gone')?.problem).toBe('schema-missing');
    expect(by.get('v-old2')?.ledgerAt).toBe('0004_comments');
    expect(by.get('v-old2')?.difference.extra).toEqual(['index oops = CREATE INDEX oops ON comments USING btree (author)']);

    const cli = await runCli(['verify', '--json'], { FLEET_DATABASE_URL: url });
    expect(cli.exitCode).toBe(1);
    expect((JSON.parse(cli.stdout) as { drifted: unknown[] }).drifted).toHaveLength(6);
    const text = await runCli(['verify', '--tenant', 'v-extra'], { FLEET_DATABASE_URL: url });
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain('extra    column issues.sneaky = text');
    expect((await runCli(['verify', '--region', 'nowhere'], { FLEET_DATABASE_URL: url })).exitCode).toBe(2);
    // Nothing left behind by the references.
    expect(await query(url, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'fleet_verify_%'`)).toEqual([]);
  } finally {
    await fleet.close();
  }
}, 120_000);
