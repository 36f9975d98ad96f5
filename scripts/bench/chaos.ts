/**
 * The full-size kill -9 drill (the test suite runs a small one): `fleet tenants add` of 500
 * tenants and then `fleet migrate` of a two-migration release, each killed with SIGKILL at random
 * instants (20 in all by default), then a rerun of each; at the end every tenant must be at the
 * latest migration, `fleet verify` must find every ledger row matched by the schema's real
 * objects, and no ledger row may be duplicated.
 *
 *   node --import tsx scripts/bench/chaos.ts [--tenants 500] [--kills 20] [--database-url URL]
 *
 * Exit 0 when the fleet is whole after the drill, 1 otherwise.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadFleetConfig, PACKAGE_ROOT } from '../../src/config/load.ts';
import { DEFAULT_MIGRATIONS_DIR, openFleet } from '../../src/fleet.ts';
import { readMigrationFiles } from '../../src/migrate/migration-files.ts';
import { verifyFleet } from '../../src/verify/verify-fleet.ts';
import { adminQuery, createDatabase, databaseUrl, dropDatabase, startServer, tenantIds, writeIdFile } from './lib.ts';

const { values: args } = parseArgs({
  options: {
    tenants: { type: 'string', default: '500' },
    kills: { type: 'string', default: '20' },
    'database-url': { type: 'string' },
  },
});
const TENANTS = Number(args.tenants);
const KILLS = Number(args.kills);
const log = (line: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

const server = await startServer(args['database-url'], log);
const db = await createDatabase(server.adminUrl, 'chaos');
const url = databaseUrl(server.adminUrl, db);
const ids = writeIdFile(tenantIds(TENANTS, 'chaos'));
const migrations = mkdtempSync(path.join(os.tmpdir(), 'fleet-chaos-migrations-'));
cpSync(DEFAULT_MIGRATIONS_DIR, migrations, { recursive: true });
writeFileSync(
  path.join(migrations, '0007_chaos_release.sql'),
  'CREATE TABLE release_marks (n int PRIMARY KEY);\nINSERT INTO release_marks VALUES (7);\nALTER TABLE comments ADD COLUMN edited_by text;\n',
);
writeFileSync(
  path.join(migrations, '0008_chaos_release.sql'),
  '-- fleet:allow require-concurrent-index-creation: bench data, a few rows per tenant\nCREATE INDEX comments_author ON comments (author);\nINSERT INTO release_marks VALUES (8);\n',
);
writeFileSync(
  path.join(migrations, '0007_chaos_release.down.sql'),
  'ALTER TABLE comments DROP COLUMN edited_by;\nDROP TABLE release_marks;\n',
);
writeFileSync(
  path.join(migrations, '0008_chaos_release.down.sql'),
  'DROP INDEX comments_author;\nDELETE FROM release_marks WHERE n = 8;\n',
);

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Run the CLI; with `killWhen`, SIGKILL it once that promise resolves (unless it ended first). */
function run(argv: readonly string[], killWhen?: (finished: () => boolean) => Promise<void>): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLEET_')) env[k] = v;
  const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'fleet.js'), ...argv], {
    cwd: PACKAGE_ROOT,
    env: { ...env, FLEET_DATABASE_URL: url, FLEET_MIGRATIONS_DIR: migrations, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let ended = false;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Outcome>((resolve) => {
    child.on('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stderr });
    });
  });
  if (killWhen) void killWhen(() => ended).then(() => (ended ? undefined : child.kill('SIGKILL')));
  return done;
}

const ledger = async () =>
  (await adminQuery<{ n: number }>(url, 'SELECT count(*)::int AS n FROM fleet.migrations').catch(() => [{ n: 0 }]))[0]?.n ?? 0;

let ok = false;
try {
  const add = ['tenants', 'add', '--file', ids.file, '--json'];
  const migrate = ['migrate', '--json'];
  let landed = 0;
  let maxDelayMs = 1500;
  for (let k = 0; k < KILLS; k += 1) {
    // First half: kill provisioning; second half: kill the release (the first add must finish first).
    const argv = k < KILLS / 2 ? add : migrate;
    if (k === Math.ceil(KILLS / 2)) {
      const finish = await run(add);
      if (finish.code !== 0) throw new Error(`tenants add rerun exited ${String(finish.code)}: ${finish.stderr}`);
    }
    const before = await ledger();
    const delay = Math.random() * maxDelayMs;
    // A random instant once the run is under way (its first ledger row is written).
    const outcome = await run(argv, async (finished) => {
      while (!finished() && (await ledger()) === before) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, delay));
    });
    const after = await ledger();
    if (outcome.signal === 'SIGKILL') landed += 1;
    else maxDelayMs = Math.max(20, maxDelayMs / 2);
    log(
      `kill ${k + 1}/${KILLS} of ${argv[0]} ${delay.toFixed(0)} ms into the work: ${outcome.signal === 'SIGKILL' ? 'killed' : `finished first (exit ${String(outcome.code)})`}; ledger ${before} → ${after}`,
    );
    if (argv === migrate && outcome.signal !== 'SIGKILL') {
      // The release finished: roll it back (not killed) so the next kill has work to interrupt.
      const back = await run(['rollback', '--to', '0006_issue_labels_and_priority', '--json']);
      if (back.code !== 0) throw new Error(`rollback exited ${String(back.code)}: ${back.stderr}`);
    }
  }
  const finishAdd = await run(add);
  const finishMigrate = await run(migrate);
  if (finishAdd.code !== 0 || finishMigrate.code !== 0)
    throw new Error(`reruns exited ${String(finishAdd.code)} / ${String(finishMigrate.code)}: ${finishAdd.stderr}${finishMigrate.stderr}`);

  const fleet = await openFleet({ config: loadFleetConfig(), env: { FLEET_DATABASE_URL: url }, migrationsDir: migrations, concurrency: 1 });
  try {
    const report = await verifyFleet(fleet);
    const latest = readMigrationFiles(migrations)
      .map((f) => f.name)
      .join(',');
    const behind = await adminQuery<{ id: string }>(
      url,
      `SELECT t.id FROM fleet.tenants t LEFT JOIN fleet.migrations m ON m.tenant_id = t.id GROUP BY t.id, t.status HAVING t.status <> 'active' OR coalesce(string_agg(m.name, ',' ORDER BY m.name), '') <> $1`,
      [latest],
    );
    const dups = await adminQuery<{ n: number }>(
      url,
      'SELECT count(*)::int AS n FROM (SELECT 1 FROM fleet.migrations GROUP BY tenant_id, name HAVING count(*) > 1) d',
    );
    log(
      `${landed} of ${KILLS} kills landed mid-run; ${report.tenants} tenants; verify drifted ${report.drifted.length}; not at latest ${behind.length}; duplicate ledger rows ${dups[0]?.n ?? 0}`,
    );
    for (const d of report.drifted.slice(0, 5)) log(`  drifted: ${d.tenant} ${JSON.stringify(d.difference)}`);
    ok = report.ok && report.tenants === TENANTS && behind.length === 0 && (dups[0]?.n ?? 0) === 0;
  } finally {
    await fleet.close();
  }
} finally {
  ids.cleanup();
  rmSync(migrations, { recursive: true, force: true });
  await dropDatabase(server.adminUrl, db).catch(() => undefined);
  await server.release();
}
log(ok ? 'PASS: the fleet is whole' : 'FAIL');
process.exitCode = ok ? 0 : 1;
