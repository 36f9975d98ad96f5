/**
 * `npm run bench -- [options]`: the runner against its baselines, each case the median of several
 * runs, the baseline measured in the same run on the same server, printed as a ratio.
 *
 *   --tenants 1000,10000     fresh-fleet sizes (ours vs psql floor vs naive Umzug loop)
 *   --large 10000            size of the release, nothing-pending, memory and verify cases (default: largest --tenants)
 *   --scaling 100,1000,10000 sizes of the scaling case (ms per tenant) and its chart
 *   --runs 3                 runs per case (the median is reported)
 *   --large-runs N           runs of the fresh and provision cases at --large-from tenants and more (default --runs): each takes minutes
 *   --large-from 10000       the size from which --large-runs applies
 *   --settle 65              provision cases: seconds to wait (after a sync) once a pair's databases are
 *                            dropped, before the next pair (0: no wait; see settle() in lib.ts)
 *   --cases fresh,release,noop,memory,regions,scaling,verify   (also: requests, see requests.ts;
 *                            provision, provision-release: against the provisioning floor, below)
 *   --provision 1000,5000,10000  sizes of the provision case (`fleet tenants add` vs the provisioning
 *                            floor: roles, CONNECT, each migration in its own transaction with a
 *                            ledger row); its chart (tenants added per second) goes to --svg
 *   --copy-sizes 20,200     tenant sizes (MB) of the copy case (`fleet tenants move` vs `pg_dump -n | psql`, see copy.ts;
 *                            --runs alternating runs each, the median ratio reported)
 *   --concurrency 8          the runner's --concurrency (the floor always uses 8 psql sessions)
 *   --naive-max 1000         the naive loop runs at most this many tenants; larger sizes are extrapolated linearly
 *   --regions-tenants 1000   tenants per region in the two-region case
 *   --regions-concurrency N  the runner's --concurrency in the two-region case (default --concurrency)
 *   --database-url URL       a server's superuser URL (scratch databases fleet_bench_* are created on it);
 *                            default: an embedded PostgreSQL of its own in a temp dir, fsync on
 *   --svg docs/bench-scaling.svg   where the scaling chart goes ("" for none)
 *   --json FILE              also write every figure as JSON
 *
 * Never part of npm test or CI: it takes minutes and wants a quiet machine.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../../src/config/load.ts';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/fleet.ts';
import { readMigrationFiles, type MigrationFile } from '../../src/migrate/migration-files.ts';
import {
  adminQuery,
  createDatabase,
  databaseUrl,
  dropDatabase,
  dropDatabaseAndRoles,
  floorRolePrefix,
  freshTenantSql,
  median,
  provisionFloorSetupSql,
  provisionFloorTenantSql,
  releaseFloorTenantSql,
  runPsql,
  releaseTenantSql,
  runCli,
  runFloor,
  runNaive,
  schemaOf,
  settle,
  startServer,
  tenantIds,
  vacuumRoleCatalogs,
  writeIdFile,
  type BenchServer,
  type CliRun,
  type Row,
} from './lib.ts';
import { scalingChart } from './svg.ts';

const { values: args } = parseArgs({
  options: {
    tenants: { type: 'string', default: '1000,10000' },
    large: { type: 'string' },
    scaling: { type: 'string', default: '100,1000,10000' },
    provision: { type: 'string', default: '1000,5000,10000' },
    'copy-sizes': { type: 'string', default: '20,200' },
    runs: { type: 'string', default: '3' },
    'large-runs': { type: 'string' },
    'large-from': { type: 'string', default: '10000' },
    settle: { type: 'string', default: '65' },
    cases: { type: 'string', default: 'fresh,release,noop,memory,regions,scaling,verify' },
    concurrency: { type: 'string', default: '8' },
    'naive-max': { type: 'string', default: '1000' },
    'regions-tenants': { type: 'string', default: '1000' },
    'regions-concurrency': { type: 'string' },
    'database-url': { type: 'string' },
    svg: { type: 'string', default: path.join('docs', 'bench-scaling.svg') },
    json: { type: 'string' },
  },
  strict: true,
});

const sizesOf = (text: string) =>
  text
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
const FRESH_SIZES = sizesOf(args.tenants);
const SCALING_SIZES = sizesOf(args.scaling);
const PROVISION_SIZES = sizesOf(args.provision);
const LARGE = Number(args.large ?? Math.max(...FRESH_SIZES));
const RUNS = Number(args.runs);
const LARGE_RUNS = Number(args['large-runs'] ?? args.runs);
const runsFor = (size: number) => (size >= Number(args['large-from']) ? LARGE_RUNS : RUNS);
const CASES = new Set(args.cases.split(',').map((c) => c.trim()));
const CONCURRENCY = Number(args.concurrency);
const NAIVE_MAX = Number(args['naive-max']);
const REGIONS_TENANTS = Number(args['regions-tenants']);
const REGIONS_CONCURRENCY = Number(args['regions-concurrency'] ?? CONCURRENCY);
const FLOOR_SESSIONS = 8;
const SETTLE_MS = Number(args.settle) * 1000;
const known = new Set([
  'fresh',
  'release',
  'noop',
  'memory',
  'regions',
  'scaling',
  'verify',
  'requests',
  'copy',
  'provision',
  'provision-release',
]);
const unknownCases = [...CASES].filter((c) => !known.has(c));
if (unknownCases.length > 0 || FRESH_SIZES.length === 0 || !(RUNS >= 1) || !(CONCURRENCY >= 1)) {
  console.error(`bad options: cases must be among ${[...known].join(',')}; --tenants a list of sizes; --runs and --concurrency >= 1`);
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const files = readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
const RELEASE_SQL = `-- A release: edits of comments are tracked, comments are found by author.
-- fleet:allow require-concurrent-index-creation: the floor builds the same index the same way, so both sides do the same work
ALTER TABLE comments ADD COLUMN edited_by text;
CREATE INDEX comments_author ON comments (author);
`;

const rows: Row[] = [];
const figures: Record<string, unknown> = {};
const cliRuns: { label: string; size: number; run: CliRun }[] = [];

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

function checkCli(label: string, run: CliRun, expectExit = 0): CliRun {
  if (run.exitCode !== expectExit) {
    throw new Error(
      `${label}: fleet exited ${String(run.exitCode)} (expected ${expectExit})\n${run.stderr.slice(0, 2000)}\n${run.stdout.slice(0, 2000)}`,
    );
  }
  return run;
}

// ---------------------------------------------------------------------------------------------

const bases = new Map<number, string>();
const freshResults = new Map<number, { ours: number[]; floor: number[]; naive: number[]; naiveSample: number }>();

async function oursFresh(size: number, keep: boolean, into?: string): Promise<{ ms: number; db: string }> {
  const db = into ?? (await createDatabase(server.adminUrl, `fresh${size}`));
  const ids = writeIdFile(tenantIds(size));
  try {
    const run = checkCli(
      `tenants add ${size}`,
      await runCli(['tenants', 'add', '--file', ids.file, '--concurrency', String(CONCURRENCY), '--json'], {
        env: { FLEET_DATABASE_URL: databaseUrl(server.adminUrl, db) },
        admin: server.adminUrl,
        watch: [db],
      }),
    );
    cliRuns.push({ label: 'tenants add (fresh)', size, run });
    if (!keep) await dropDatabaseAndRoles(server.adminUrl, db);
    return { ms: run.wallMs, db };
  } finally {
    ids.cleanup();
  }
}

/** A fleet of `size` tenants migrated to latest by the runner, kept as a template for other cases. */
async function ensureBase(size: number): Promise<string> {
  const existing = bases.get(size);
  if (existing) return existing;
  log(`building a migrated fleet of ${size} tenants (template for later cases)`);
  const { db } = await oursFresh(size, true);
  bases.set(size, db);
  return db;
}

async function fresh(size: number, withNaive: boolean): Promise<{ ours: number[]; floor: number[]; naive: number[]; naiveSample: number }> {
  const cached = freshResults.get(size);
  if (cached && (!withNaive || cached.naive.length > 0)) return cached;
  const result = cached ?? { ours: [], floor: [], naive: [], naiveSample: Math.min(size, NAIVE_MAX) };
  const schemas = tenantIds(size).map(schemaOf);
  const runs = runsFor(size);
  for (let r = 0; r < runs; r += 1) {
    if (result.ours.length < runs) {
      const keep = !bases.has(size);
      const { ms, db } = await oursFresh(size, keep);
      if (keep) bases.set(size, db);
      result.ours.push(ms);
      log(`fresh ${size}: ours ${s(ms)}`);
    }
    if (result.floor.length < runs) {
      const db = await createDatabase(server.adminUrl, `floor${size}`);
      const prefix = await floorRolePrefix();
      const ms = await runFloor(databaseUrl(server.adminUrl, db), schemas, freshTenantSql(files, prefix), FLOOR_SESSIONS);
      await dropDatabaseAndRoles(server.adminUrl, db, prefix);
      result.floor.push(ms);
      log(`fresh ${size}: floor (psql x${FLOOR_SESSIONS}) ${s(ms)}`);
    }
    if (withNaive && result.naive.length < runs) {
      const db = await createDatabase(server.adminUrl, `naive${size}`);
      const prefix = await floorRolePrefix();
      const sample = schemas.slice(0, result.naiveSample);
      const ms = (await runNaive(databaseUrl(server.adminUrl, db), sample, files, prefix)) * (size / sample.length);
      await dropDatabaseAndRoles(server.adminUrl, db, prefix);
      result.naive.push(ms);
      log(`fresh ${size}: naive ${s(ms)}${sample.length < size ? ` (extrapolated from ${sample.length})` : ''}`);
    }
  }
  freshResults.set(size, result);
  return result;
}

function releaseDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-migrations-'));
  cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  const next = String(files.length + 1).padStart(4, '0');
  writeFileSync(path.join(dir, `${next}_bench_release.sql`), RELEASE_SQL);
  return dir;
}

// ---------------------------------------------------------------------------------------------

async function caseFresh(): Promise<void> {
  for (const size of FRESH_SIZES) {
    const r = await fresh(size, true);
    const ours = median(r.ours);
    const floor = median(r.floor);
    const naive = median(r.naive);
    figures[`fresh_${size}`] = r;
    rows.push({
      case: `fresh fleet vs floor (psql, 8 sessions)${r.ours.length === 1 ? ', 1 run' : ''}`,
      size: size.toLocaleString('en-US'),
      ours: s(ours),
      baseline: s(floor),
      ratio: ratio(ours, floor),
      target: '≤ 1.3x',
      met: ours / floor <= 1.3,
    });
    rows.push({
      case: `fresh fleet vs naive Umzug loop${r.naiveSample < size ? ` (naive extrapolated from ${r.naiveSample.toLocaleString('en-US')})` : ''}`,
      size: size.toLocaleString('en-US'),
      ours: s(ours),
      baseline: s(naive),
      ratio: `${(naive / ours).toFixed(1)}x faster`,
      target: '≥ 3x faster',
      met: naive / ours >= 3,
    });
  }
}

/** `fleet migrate` of the release in dir over a fresh copy of base (dropped afterwards): the measured side of both release cases. */
async function migrateRelease(base: string, dir: string, label: string): Promise<CliRun> {
  const a = await createDatabase(server.adminUrl, label, base);
  const run = await migrateReleaseIn(a, dir);
  await dropDatabase(server.adminUrl, a);
  return run;
}

/** `fleet migrate` of the release in dir over database db. */
async function migrateReleaseIn(db: string, dir: string): Promise<CliRun> {
  return checkCli(
    'migrate (release)',
    await runCli(['migrate', '--concurrency', String(CONCURRENCY), '--json'], {
      env: { FLEET_DATABASE_URL: databaseUrl(server.adminUrl, db), FLEET_MIGRATIONS_DIR: dir },
      admin: server.adminUrl,
      watch: [db],
    }),
  );
}

async function caseRelease(): Promise<void> {
  const base = await ensureBase(LARGE);
  const dir = releaseDir();
  const release = readMigrationFiles(dir).at(-1) as MigrationFile;
  const schemas = tenantIds(LARGE).map(schemaOf);
  const ours: number[] = [];
  const floor: number[] = [];
  try {
    for (let r = 0; r < RUNS; r += 1) {
      const run = await migrateRelease(base, dir, 'release');
      cliRuns.push({ label: 'migrate (release)', size: LARGE, run });
      ours.push(run.wallMs);
      const b = await createDatabase(server.adminUrl, 'relfloor', base);
      floor.push(await runFloor(databaseUrl(server.adminUrl, b), schemas, releaseTenantSql(release), FLOOR_SESSIONS));
      await dropDatabase(server.adminUrl, b);
      log(`release ${LARGE}: ours ${s(ours.at(-1) as number)}, floor ${s(floor.at(-1) as number)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  figures.release = { size: LARGE, ours, floor };
  rows.push({
    case: 'release: one new migration vs floor (psql, 8 sessions)',
    size: LARGE.toLocaleString('en-US'),
    ours: s(median(ours)),
    baseline: s(median(floor)),
    ratio: ratio(median(ours), median(floor)),
    target: '≤ 1.3x',
    met: median(ours) / median(floor) <= 1.3,
  });
}

async function caseNoop(): Promise<void> {
  const base = await ensureBase(LARGE);
  const url = databaseUrl(server.adminUrl, base);
  const runs: number[] = [];
  const starts: number[] = [];
  checkCli(
    'migrate (warm-up)',
    await runCli(['migrate', '--json'], { env: { FLEET_DATABASE_URL: url }, admin: server.adminUrl, watch: [base] }),
  );
  for (let r = 0; r < Math.max(RUNS, 5); r += 1) {
    const run = checkCli(
      'migrate (nothing pending)',
      await runCli(['migrate', '--json'], { env: { FLEET_DATABASE_URL: url }, admin: server.adminUrl, watch: [base] }),
    );
    const report = JSON.parse(run.stdout) as { planned: unknown[]; summary: { upToDate: number } };
    if (report.planned.length !== 0 || report.summary.upToDate !== LARGE)
      throw new Error(`nothing-pending run planned work: ${run.stdout.slice(0, 300)}`);
    cliRuns.push({ label: 'migrate (nothing pending)', size: LARGE, run });
    runs.push(run.wallMs);
    starts.push((await runCli(['--help'], { env: {}, admin: server.adminUrl, watch: [] })).wallMs);
  }
  figures.noop = { size: LARGE, runs, processStartOnly: starts };
  log(`nothing pending ${LARGE}: ${s(median(runs))} (process start alone ${s(median(starts))})`);
  rows.push({
    case: 'nothing pending: `fleet migrate`, process start included (baseline: `fleet --help`, process start alone)',
    size: LARGE.toLocaleString('en-US'),
    ours: s(median(runs)),
    baseline: s(median(starts)),
    ratio: ratio(median(runs), median(starts)),
    target: '< 1.5 s',
    met: median(runs) < 1500,
  });
}

function caseMemory(): void {
  const at = cliRuns.filter((c) => c.size === LARGE);
  if (at.length === 0) {
    log('memory: no CLI run at the large size was measured; run it with fresh, release, noop or verify');
    return;
  }
  const byLabel = new Map<string, CliRun[]>();
  for (const c of at) byLabel.set(c.label, [...(byLabel.get(c.label) ?? []), c.run]);
  const detail = [...byLabel].map(([label, runs]) => {
    const top = runs.reduce((a, b) => (b.peakConnections > a.peakConnections ? b : a));
    return {
      label,
      maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)),
      peakConnections: top.peakConnections,
      atPeak: top.peakApplications,
    };
  });
  for (const d of detail)
    log(`memory/connections: ${d.label}: ${d.maxRssMb.toFixed(0)} MB, peak ${d.peakConnections} connections (${d.atPeak})`);
  figures.memory = { size: LARGE, concurrency: CONCURRENCY, detail };
  const rss = Math.max(...detail.map((d) => d.maxRssMb));
  const conns = Math.max(...detail.filter((d) => d.label !== 'verify').map((d) => d.peakConnections));
  rows.push({
    case: `peak memory of the CLI (max over: ${detail.map((d) => `${d.label} ${d.maxRssMb.toFixed(0)} MB`).join(', ')})`,
    size: LARGE.toLocaleString('en-US'),
    ours: `${rss.toFixed(0)} MB`,
    baseline: '250 MB',
    ratio: ratio(rss, 250),
    target: '< 250 MB',
    met: rss < 250,
  });
  rows.push({
    case: `peak connections to the database (max over: ${detail.map((d) => `${d.label} ${d.peakConnections}`).join(', ')})`,
    size: LARGE.toLocaleString('en-US'),
    ours: String(conns),
    baseline: `--concurrency ${CONCURRENCY} + 1 = ${CONCURRENCY + 1}`,
    ratio: '',
    target: `≤ ${CONCURRENCY + 1}`,
    met: conns <= CONCURRENCY + 1,
  });
}

async function caseRegions(): Promise<void> {
  const base = await ensureBase(REGIONS_TENANTS);
  const dir = releaseDir();
  const cfgDir = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-config-'));
  const config = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'fleet.config.json'), 'utf8')) as { regions: { name: string }[] };
  config.regions = config.regions.slice(0, 2);
  const [eu, us] = config.regions.map((r) => r.name) as [string, string];
  const cfg = path.join(cfgDir, 'fleet.config.json');
  writeFileSync(cfg, JSON.stringify(config));
  const copy = async (region: string) => {
    const db = await createDatabase(server.adminUrl, `region_${region}`, base);
    await adminQuery(databaseUrl(server.adminUrl, db), 'UPDATE fleet.tenants SET region = $1', [region]);
    return db;
  };
  const env = (a: string, b: string) => ({
    FLEET_CONFIG: cfg,
    FLEET_MIGRATIONS_DIR: dir,
    [`FLEET_DATABASE_URL_${eu.toUpperCase()}`]: databaseUrl(server.adminUrl, a),
    [`FLEET_DATABASE_URL_${us.toUpperCase()}`]: databaseUrl(server.adminUrl, b),
  });
  const migrate = async (dbs: [string, string], region?: string) => {
    const run = checkCli(
      `migrate ${region ?? 'both regions'}`,
      await runCli(['migrate', '--json', '--concurrency', String(REGIONS_CONCURRENCY), ...(region ? ['--region', region] : [])], {
        env: env(...dbs),
        admin: server.adminUrl,
        watch: dbs,
      }),
    );
    const report = JSON.parse(run.stdout) as { durationMs: number; summary: { applied: number } };
    return { wall: run.wallMs, inRun: report.durationMs, applied: report.summary.applied };
  };
  const alone: { eu: number[]; us: number[]; both: number[]; euWall: number[]; usWall: number[]; bothWall: number[] } = {
    eu: [],
    us: [],
    both: [],
    euWall: [],
    usWall: [],
    bothWall: [],
  };
  try {
    for (let r = 0; r < RUNS; r += 1) {
      const dbs = [await copy(eu), await copy(us), await copy(eu), await copy(us)] as [string, string, string, string];
      const a = await migrate([dbs[0], dbs[1]], eu);
      const b = await migrate([dbs[0], dbs[1]], us);
      const both = await migrate([dbs[2], dbs[3]]);
      if (a.applied !== REGIONS_TENANTS || b.applied !== REGIONS_TENANTS || both.applied !== 2 * REGIONS_TENANTS)
        throw new Error('regions: not every tenant was migrated');
      alone.eu.push(a.inRun);
      alone.us.push(b.inRun);
      alone.both.push(both.inRun);
      alone.euWall.push(a.wall);
      alone.usWall.push(b.wall);
      alone.bothWall.push(both.wall);
      for (const db of dbs) await dropDatabase(server.adminUrl, db);
      log(
        `regions ${REGIONS_TENANTS}+${REGIONS_TENANTS}: ${eu} alone ${s(a.inRun)}, ${us} alone ${s(b.inRun)}, both ${s(both.inRun)} (in-run times)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(cfgDir, { recursive: true, force: true });
  }
  figures.regions = { tenantsPerRegion: REGIONS_TENANTS, concurrency: REGIONS_CONCURRENCY, ...alone };
  const maxAlone = Math.max(median(alone.eu), median(alone.us));
  const sumAlone = median(alone.eu) + median(alone.us);
  rows.push({
    case: `two regions at once (release, ${REGIONS_TENANTS.toLocaleString('en-US')} tenants each, --concurrency ${REGIONS_CONCURRENCY}) vs the larger alone (sum alone: ${s(sumAlone)}; in-run time, process start excluded)`,
    size: `2 × ${REGIONS_TENANTS.toLocaleString('en-US')}`,
    ours: s(median(alone.both)),
    baseline: s(maxAlone),
    ratio: ratio(median(alone.both), maxAlone),
    target: '≈ max, well under the sum',
    met: median(alone.both) < 0.8 * sumAlone,
  });
}

async function caseScaling(): Promise<void> {
  const points: { tenants: number; ours: number; floor: number }[] = [];
  for (const size of SCALING_SIZES) {
    const r = await fresh(size, false);
    points.push({ tenants: size, ours: median(r.ours) / size, floor: median(r.floor) / size });
  }
  figures.scaling = points;
  for (const p of points) {
    rows.push({
      case: 'scaling: fresh fleet, ms per tenant (ours vs floor)',
      size: p.tenants.toLocaleString('en-US'),
      ours: `${p.ours.toFixed(2)} ms`,
      baseline: `${p.floor.toFixed(2)} ms`,
      ratio: ratio(p.ours, p.floor),
      target: 'flat',
      met: null,
    });
  }
  const large = points.filter((p) => p.tenants >= 1000);
  if (large.length >= 2) {
    const spread = Math.max(...large.map((p) => p.ours)) / Math.min(...large.map((p) => p.ours));
    rows.push({
      case: 'scaling: ms per tenant, largest / smallest from 1,000 up',
      size: large.map((p) => p.tenants.toLocaleString('en-US')).join(' → '),
      ours: `${spread.toFixed(2)}x`,
      baseline: '1.00x',
      ratio: '',
      target: '≤ 1.3x (flat)',
      met: spread <= 1.3,
    });
  }
  if (args.svg && !CASES.has('provision')) {
    const svg = scalingChart(
      'Fresh fleet: ms per tenant (6 starter migrations)',
      [
        { label: 'fleet tenants add', colour: '#1f77b4', points: points.map((p) => ({ tenants: p.tenants, value: p.ours })) },
        { label: 'floor: psql x8', colour: '#999999', points: points.map((p) => ({ tenants: p.tenants, value: p.floor })) },
      ],
      `median of ${RUNS} runs\n${server.version}\n${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}\nours includes process start`,
      'ms per tenant',
    );
    writeFileSync(path.resolve(PACKAGE_ROOT, args.svg), svg);
    log(`chart written to ${args.svg}`);
  }
}

async function caseVerify(): Promise<void> {
  const base = await ensureBase(LARGE);
  const clean = checkCli(
    'verify (clean)',
    await runCli(['verify', '--json'], {
      env: { FLEET_DATABASE_URL: databaseUrl(server.adminUrl, base) },
      admin: server.adminUrl,
      watch: [base],
    }),
  );
  cliRuns.push({ label: 'verify', size: LARGE, run: clean });
  const copy = await createDatabase(server.adminUrl, 'drift', base);
  const victim = tenantIds(LARGE)[Math.floor(LARGE / 2)] as string;
  await adminQuery(databaseUrl(server.adminUrl, copy), `ALTER TABLE ${schemaOf(victim)}.comments ALTER COLUMN body DROP NOT NULL`);
  const walls: number[] = [];
  const inRun: number[] = [];
  const catalog: number[] = [];
  try {
    for (let r = 0; r < RUNS; r += 1) {
      const run = checkCli(
        'verify (one drifted)',
        await runCli(['verify', '--json'], {
          env: { FLEET_DATABASE_URL: databaseUrl(server.adminUrl, copy) },
          admin: server.adminUrl,
          watch: [copy],
        }),
        1,
      );
      const report = JSON.parse(run.stdout) as { durationMs: number; drifted: { tenant: string }[]; regions: { catalogQueryMs: number }[] };
      if (report.drifted.length !== 1 || report.drifted[0]?.tenant !== victim)
        throw new Error(`verify did not find exactly ${victim}: ${run.stdout.slice(0, 500)}`);
      cliRuns.push({ label: 'verify', size: LARGE, run });
      walls.push(run.wallMs);
      inRun.push(report.durationMs);
      catalog.push(report.regions[0]?.catalogQueryMs ?? 0);
    }
  } finally {
    await dropDatabase(server.adminUrl, copy);
  }
  figures.verify = { size: LARGE, walls, inRun, catalog, clean: clean.wallMs };
  log(`verify ${LARGE}: ${s(median(walls))} wall, catalog query ${median(catalog)} ms`);
  rows.push({
    case: `verify: one hand-made change among all tenants found (exit 1), process start included; in-run ${s(median(inRun))}, catalog query ${(median(catalog) / 1000).toFixed(2)} s`,
    size: LARGE.toLocaleString('en-US'),
    ours: s(median(walls)),
    baseline: '',
    ratio: '',
    target: 'a few seconds',
    met: median(walls) < 5000,
  });
}

// ---------------------------------------------------------------------------------------------
// Against the provisioning floor (issue 13): psql does what `fleet tenants add` does, in 8 sessions.

const provisionResults = new Map<number, { ours: number[]; floor: number[] }>();

/** The provisioning floor over `size` fresh tenants in database db: setup and logins in one session, then 8 sessions. */
async function provisionFloor(size: number, db: string, prefix: string): Promise<number> {
  const schemas = tenantIds(size).map(schemaOf);
  const url = databaseUrl(server.adminUrl, db);
  const setup = await runPsql(url, provisionFloorSetupSql(schemas, prefix, db));
  return setup + (await runFloor(url, schemas, provisionFloorTenantSql(files, prefix), FLOOR_SESSIONS));
}

/**
 * Run the floor and the fleet back to back, floor first in even runs and fleet first in odd ones;
 * a pair's databases are made before and dropped after both, then settle(): so neither side runs
 * right after a DROP DATABASE.
 */
async function pair<T>(run: number, floorSide: () => Promise<T>, fleetSide: () => Promise<T>): Promise<[T, T]> {
  if (run % 2 === 0) {
    const floor = await floorSide();
    return [floor, await fleetSide()];
  }
  const ours = await fleetSide();
  return [await floorSide(), ours];
}

async function caseProvision(): Promise<void> {
  await vacuumRoleCatalogs(server.adminUrl);
  for (const size of PROVISION_SIZES) {
    const result = { ours: [] as number[], floor: [] as number[] };
    for (let r = 0; r < runsFor(size); r += 1) {
      const floorDb = await createDatabase(server.adminUrl, `pfloor${size}`);
      const floorPrefix = await floorRolePrefix();
      const fleetDb = await createDatabase(server.adminUrl, `fresh${size}`);
      const [floor, ms] = await pair(
        r,
        () => provisionFloor(size, floorDb, floorPrefix),
        async () => (await oursFresh(size, true, fleetDb)).ms,
      );
      await dropDatabaseAndRoles(server.adminUrl, floorDb, floorPrefix);
      if (size === LARGE && !bases.has(size)) bases.set(size, fleetDb);
      else await dropDatabaseAndRoles(server.adminUrl, fleetDb);
      await vacuumRoleCatalogs(server.adminUrl);
      result.floor.push(floor);
      result.ours.push(ms);
      log(
        `provision ${size}: ours ${s(ms)}, floor ${s(floor)} (${ratio(ms, floor)}; ${r % 2 === 0 ? 'floor' : 'fleet'} first); load ${os.loadavg()[0]?.toFixed(2)}`,
      );
      await settle(SETTLE_MS, log);
    }
    provisionResults.set(size, result);
    const ours = median(result.ours);
    const floor = median(result.floor);
    rows.push({
      case: `provision: \`fleet tenants add --file\` vs the provisioning floor (psql x${FLOOR_SESSIONS})${result.ours.length === 1 ? ', 1 run' : ''}`,
      size: size.toLocaleString('en-US'),
      ours: s(ours),
      baseline: s(floor),
      ratio: ratio(ours, floor),
      target: '≤ 1.3x',
      met: ours / floor <= 1.3,
    });
  }
  const sizes = [...provisionResults.keys()].sort((a, b) => a - b);
  const points = sizes.map((size) => {
    const r = provisionResults.get(size) as { ours: number[]; floor: number[] };
    return {
      tenants: size,
      ours: (size / median(r.ours)) * 1000,
      floor: (size / median(r.floor)) * 1000,
      oursRuns: r.ours,
      floorRuns: r.floor,
    };
  });
  figures.provision = points;
  const first = points[0];
  const last = points.at(-1);
  if (first && last && last.tenants > first.tenants) {
    // ms per tenant grows by (first rate / last rate); beyond the floor's own growth:
    const growth = first.ours / last.ours / (first.floor / last.floor);
    rows.push({
      case: `provision: ms per tenant at ${last.tenants.toLocaleString('en-US')} over ${first.tenants.toLocaleString('en-US')}, beyond the floor's own growth (ours ${(first.ours / last.ours).toFixed(2)}x, floor ${(first.floor / last.floor).toFixed(2)}x)`,
      size: `${first.tenants.toLocaleString('en-US')} → ${last.tenants.toLocaleString('en-US')}`,
      ours: `${growth.toFixed(2)}x`,
      baseline: '1.00x',
      ratio: '',
      target: '≤ 1.2x',
      met: growth <= 1.2,
    });
  }
  if (args.svg && points.length > 0) {
    const svg = scalingChart(
      'Fresh tenants added per second (6 starter migrations)',
      [
        { label: 'fleet tenants add', colour: '#1f77b4', points: points.map((p) => ({ tenants: p.tenants, value: p.ours })) },
        { label: 'floor: psql x8', colour: '#999999', points: points.map((p) => ({ tenants: p.tenants, value: p.floor })) },
      ],
      `median of ${RUNS} runs (${LARGE_RUNS} from ${Number(args['large-from']).toLocaleString('en-US')})\n${server.version}\n${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}\nfleet includes process start`,
      'tenants added per second',
    );
    writeFileSync(path.resolve(PACKAGE_ROOT, args.svg), svg);
    log(`chart written to ${args.svg}`);
  }
}

/** A one-migration release over LARGE migrated tenants vs the floor (each in its own transaction with a ledger row). */
async function caseProvisionRelease(): Promise<void> {
  const base = await ensureBase(LARGE);
  const dir = releaseDir();
  const release = readMigrationFiles(dir).at(-1) as MigrationFile;
  const schemas = tenantIds(LARGE).map(schemaOf);
  const ours: number[] = [];
  const floor: number[] = [];
  try {
    for (let r = 0; r < runsFor(LARGE); r += 1) {
      // Two copies of the same fleet; copying writes every file of the base, so sync before measuring.
      const b = await createDatabase(server.adminUrl, 'prelfloor', base);
      const a = await createDatabase(server.adminUrl, 'prelease', base);
      const url = databaseUrl(server.adminUrl, b);
      await adminQuery(
        url,
        'CREATE SCHEMA floor; CREATE TABLE floor.ledger (tenant_id text NOT NULL, name text NOT NULL, applied_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, name))',
      );
      await settle(0, log);
      const [floorMs, oursMs] = await pair(
        r,
        () => runFloor(url, schemas, releaseFloorTenantSql(release), FLOOR_SESSIONS),
        async () => (await migrateReleaseIn(a, dir)).wallMs,
      );
      await dropDatabase(server.adminUrl, b);
      await dropDatabase(server.adminUrl, a);
      await vacuumRoleCatalogs(server.adminUrl);
      floor.push(floorMs);
      ours.push(oursMs);
      log(
        `provision-release ${LARGE}: ours ${s(oursMs)}, floor ${s(floorMs)} (${ratio(oursMs, floorMs)}; ${r % 2 === 0 ? 'floor' : 'fleet'} first); load ${os.loadavg()[0]?.toFixed(2)}`,
      );
      await settle(SETTLE_MS, log);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  figures.provisionRelease = { size: LARGE, ours, floor };
  rows.push({
    case: `release over existing tenants: \`fleet migrate\` vs the floor (each migration in its own transaction with a ledger row, psql x${FLOOR_SESSIONS})`,
    size: LARGE.toLocaleString('en-US'),
    ours: s(median(ours)),
    baseline: s(median(floor)),
    ratio: ratio(median(ours), median(floor)),
    target: '≤ 1.3x',
    met: median(ours) / median(floor) <= 1.3,
  });
}

// ---------------------------------------------------------------------------------------------

function markdown(): string {
  const lines = ['| case | tenants | ours | baseline | ratio | target | met |', '|---|---:|---:|---:|---:|---|---|'];
  for (const r of rows)
    lines.push(
      `| ${r.case} | ${r.size} | ${r.ours} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met === null ? '' : r.met ? 'yes' : '**no**'} |`,
    );
  return lines.join('\n');
}

const loadBefore = os.loadavg();
const server: BenchServer = await startServer(args['database-url'], log);
try {
  log(
    `server: ${server.version} (${server.description}); ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  if (CASES.has('fresh')) await caseFresh();
  if (CASES.has('scaling')) await caseScaling();
  if (CASES.has('provision')) await caseProvision();
  if (CASES.has('provision-release')) await caseProvisionRelease();
  if (CASES.has('noop')) await caseNoop();
  if (CASES.has('release')) await caseRelease();
  if (CASES.has('verify')) await caseVerify();
  if (CASES.has('memory')) caseMemory();
  if (CASES.has('regions')) await caseRegions();
  if (CASES.has('requests')) {
    const requests = await (await import('./requests.ts')).caseRequests({ adminUrl: server.adminUrl, log });
    rows.push(...requests.rows);
    figures.requests = requests.figures;
  }
  if (CASES.has('copy')) {
    const copy = await (
      await import('./copy.ts')
    ).caseCopy({
      adminUrl: server.adminUrl,
      version: server.version,
      sizes: sizesOf(args['copy-sizes']),
      runs: RUNS,
      log,
    });
    rows.push(...copy.rows);
    figures.copy = copy.figures;
  }
} finally {
  for (const db of bases.values()) await dropDatabaseAndRoles(server.adminUrl, db).catch(() => undefined);
  await server.release();
}
const loadAfter = os.loadavg();
const header = [
  `Command: npm run bench -- ${process.argv.slice(2).join(' ')}`.trimEnd(),
  `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; ${server.version} (${server.description.startsWith('embedded') ? 'embedded, fsync on' : 'external'}); Node ${process.version}`,
  `Date: ${new Date().toISOString()}; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
  `Runs per case: ${RUNS} (median); runner --concurrency ${CONCURRENCY}; floor: psql in ${FLOOR_SESSIONS} parallel sessions`,
];
console.log(`${header.join('\n')}\n\n${markdown()}`);
if (args.json) writeFileSync(args.json, JSON.stringify({ header, rows, figures }, null, 2));
