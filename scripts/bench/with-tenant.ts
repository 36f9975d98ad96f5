/**
 * What `withTenant` costs per unit of work: the same query with and without it, in the same run,
 * on the same server, one connection each, measured in alternating batches.
 *
 *   node --import tsx scripts/bench/with-tenant.ts [--runs 5] [--iterations 2000] [--tenants 20] [--cold 300] [--logins tenant|gateway]
 *
 * Where: FLEET_DATABASE_URL (an administrator's URL; a scratch database fleet_bench_access_* is
 * created on that server and dropped, roles included), else an embedded PostgreSQL in a temp dir.
 *
 * - baseline: BEGIN; SELECT ... FROM "t_x".issues WHERE key = $1; COMMIT, on a pool of one
 *   connection logged in as a bench role that inherits every tenant role (the application role
 *   itself reads nothing, by design, so it cannot run the query without withTenant);
 * - withTenant (warm): access.withTenant(x, c => c.query(SELECT ... FROM issues WHERE key = $1)),
 *   every tenant's session role already connected (maxConnections = tenants): BEGIN, the status
 *   check + SET LOCAL ROLE + SET LOCAL search_path statement, the query, the role/search_path
 *   check, COMMIT; contact recorded (in-process throttle: one write per tenant per minute);
 * - withTenant without contact recording (recordContact: false), as fleet sql runs it;
 * - cold (measured apart, --cold units): maxConnections 1 and tenants round-robin, so every unit
 *   is a tenant's first: the administrator's check of the tenant and its login, closing the least
 *   recently used connection, a new connection with SCRAM authentication as the tenant's session
 *   role, then the unit. Compared with a new connection + the same query as the bench role.
 * Tenants are taken round-robin. Target: under 0.5 ms added at the median (warm).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadFleetConfig } from '../../src/config/load.ts';
import { openFleet } from '../../src/fleet.ts';
import { quoteIdent } from '../../src/db/quote.ts';
import { addTenants } from '../../src/provisioning/add-tenants.ts';
import { schemaNameFor } from '../../src/tenants/ids.ts';
import { openTenantAccess } from '../../src/access/with-tenant.ts';
import { dropAccessRoles } from '../../src/access/cleanup.ts';
import { tenantRoleName } from '../../src/access/names.ts';
import { generatePassword, scramVerifier } from '../../src/access/scram.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    iterations: { type: 'string', default: '2000' },
    tenants: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '500' },
    cold: { type: 'string', default: '300' },
    logins: { type: 'string', default: 'tenant' },
  },
});
const RUNS = Number(values.runs);
const ITERATIONS = Number(values.iterations);
const TENANTS = Number(values.tenants);
const WARMUP = Number(values.warmup);
const COLD = Number(values.cold);
// --logins gateway: the units on gateway logins; "cold" is then a move of the one connection.
const LOGINS = values.logins === 'gateway' ? 'gateway' : 'tenant';
const log = (line: string) => process.stderr.write(`${line}\n`);

const scratch = mkdtempSync(path.join(os.tmpdir(), 'tenant-fleet-bench-access-'));
let admin = process.env.FLEET_DATABASE_URL;
let release: () => Promise<void> = async () => {};
if (!admin) {
  const { acquireEmbeddedServer } = await import('../../src/db/embedded/index.ts');
  log('starting an embedded PostgreSQL in a temp dir');
  const pgDir = mkdtempSync(path.join(os.tmpdir(), 'tenant-fleet-bench-access-pg-'));
  const server = await acquireEmbeddedServer({ dir: pgDir });
  admin = server.url('postgres');
  release = async () => {
    await server.release();
    rmSync(pgDir, { recursive: true, force: true });
  };
}
const database = `fleet_bench_access_${process.pid}`;
const adminClient = new pg.Client({ connectionString: admin });
await adminClient.connect();
await adminClient.query(`CREATE DATABASE ${quoteIdent(database)}`);
const url = new URL(admin);
url.pathname = `/${database}`;

const fleet = await openFleet({
  config: loadFleetConfig(),
  env: { FLEET_DATABASE_URL: url.toString(), FLEET_REGION: 'local' },
  actor: 'bench',
  concurrency: 4,
});
const region = fleet.regions[0]!;
let baselinePool: pg.Pool | undefined;
const access = await (async () => {
  const ids = Array.from({ length: TENANTS }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
  log(`provisioning ${TENANTS} tenants`);
  const report = await addTenants(fleet, ids);
  if (!report.migrate.ok) throw new Error('provisioning failed');
  for (const id of ids) {
    const s = quoteIdent(schemaNameFor(id));
    await region.query(`INSERT INTO ${s}.projects (id, key, name) SELECT g, 'P' || g, 'project ' || g FROM generate_series(1, 10) g`);
    await region.query(
      `INSERT INTO ${s}.issues (id, project_id, key, summary, status, created_at, updated_at)
       SELECT g, 1 + g % 10, 'P1-' || g, 'issue ' || g, 'open', now(), now() FROM generate_series(1, 1000) g`,
    );
  }
  await region.query('ANALYZE');
  return {
    ids,
    access: await openTenantAccess(fleet, { maxConnections: TENANTS, credentialsDir: path.join(scratch, 'credentials'), logins: LOGINS }),
  };
})();

try {
  const { ids } = access;
  const prefix = access.access.info('local').prefix;
  // The bench role: LOGIN, INHERIT, granted every tenant role directly, so it reads every schema as is.
  const benchRole = `${prefix}_bench`;
  const password = generatePassword();
  const created = await region.query<{ sql: string }>(
    `SELECT format('CREATE ROLE %I LOGIN INHERIT PASSWORD %L', $1::text, $2::text) AS sql`,
    [benchRole, scramVerifier(password)],
  );
  await region.query(created.rows[0]!.sql);
  await region.query(
    `GRANT ${ids.map((id) => quoteIdent(tenantRoleName(prefix, schemaNameFor(id)))).join(', ')} TO ${quoteIdent(benchRole)}`,
  );
  // PUBLIC has no CONNECT on a fleet database (control migration 0006).
  await region.query(
    `GRANT CONNECT ON DATABASE ${quoteIdent((await region.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db)} TO ${quoteIdent(benchRole)}`,
  );
  const benchUrl = new URL(url.toString());
  benchUrl.username = benchRole;
  benchUrl.password = password;
  baselinePool = new pg.Pool({ connectionString: benchUrl.toString(), max: 1 });

  const SQL = 'SELECT id, summary, status FROM issues WHERE key = $1';
  const qualified = (id: string) => `SELECT id, summary, status FROM ${quoteIdent(schemaNameFor(id))}.issues WHERE key = $1`;
  let n = 0;
  const next = () => {
    n += 1;
    return { id: ids[n % ids.length] as string, key: `P1-${1 + (n % 1000)}` };
  };

  const cases: Record<string, () => Promise<void>> = {
    baseline: async () => {
      const { id, key } = next();
      const client = await baselinePool!.connect();
      try {
        await client.query('BEGIN');
        const { rowCount } = await client.query(qualified(id), [key]);
        if (rowCount !== 1) throw new Error('baseline found no row');
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
    withTenant: async () => {
      const { id, key } = next();
      const rows = await access.access.withTenant(id, async (c) => (await c.query(SQL, [key])).rowCount);
      if (rows !== 1) throw new Error('withTenant found no row');
    },
    'withTenant, no contact': async () => {
      const { id, key } = next();
      const rows = await access.access.withTenant(id, async (c) => (await c.query(SQL, [key])).rowCount, { recordContact: false });
      if (rows !== 1) throw new Error('withTenant found no row');
    },
  };

  const measure = async (fn: () => Promise<void>, count: number): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const start = process.hrtime.bigint();
      await fn();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return times;
  };
  for (const fn of Object.values(cases)) await measure(fn, WARMUP);

  const perRun: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const p95: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let run = 0; run < RUNS; run += 1) {
    // Alternate the order so neither side always runs on a warmer cache.
    const order = run % 2 === 0 ? Object.keys(cases) : Object.keys(cases).reverse();
    for (const name of order) {
      const times = await measure(cases[name]!, ITERATIONS);
      perRun[name]!.push(median(times));
      p95[name]!.push(percentile(times, 0.95));
    }
    log(
      `run ${run + 1}/${RUNS}: ${Object.keys(cases)
        .map((k) => `${k} ${perRun[k]!.at(-1)!.toFixed(3)} ms`)
        .join(', ')}`,
    );
  }

  // Cold: a tenant's first unit of work. One slot, tenants round-robin: every unit opens a connection.
  const coldAccess = await openTenantAccess(fleet, {
    maxConnections: 1,
    credentialsDir: path.join(scratch, 'credentials'),
    logins: LOGINS,
  });
  const coldCases: Record<string, () => Promise<void>> = {
    'baseline, new connection': async () => {
      const { id, key } = next();
      const client = new pg.Client({ connectionString: benchUrl.toString() });
      await client.connect();
      try {
        await client.query('BEGIN');
        const { rowCount } = await client.query(qualified(id), [key]);
        if (rowCount !== 1) throw new Error('baseline found no row');
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
    },
    'withTenant, cold tenant': async () => {
      const { id, key } = next();
      const rows = await coldAccess.withTenant(id, async (c) => (await c.query(SQL, [key])).rowCount, { recordContact: false });
      if (rows !== 1) throw new Error('withTenant found no row');
    },
  };
  const cold: Record<string, number[]> = {};
  try {
    for (const fn of Object.values(coldCases)) await measure(fn, Math.min(50, COLD));
    for (const [name, fn] of Object.entries(coldCases)) cold[name] = await measure(fn, COLD);
  } finally {
    await coldAccess.close();
  }
  log(
    `cold: ${Object.entries(cold)
      .map(([k, t]) => `${k} ${median(t).toFixed(3)} ms`)
      .join(', ')}`,
  );

  const version = (await region.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
  const base = median(perRun.baseline!);
  const lines = [
    `withTenant overhead: ${RUNS} runs x ${ITERATIONS} units per case, ${TENANTS} tenants round-robin; baseline 1 connection, withTenant 1 connection per tenant (warm)`,
    `machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, PostgreSQL ${version} (${process.env.FLEET_DATABASE_URL ? 'FLEET_DATABASE_URL' : 'embedded'}), ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| case | median per unit (median of run medians) | p95 (median of runs) | added vs baseline | per-run medians (ms) |',
    '| --- | --- | --- | --- | --- |',
    ...Object.keys(cases).map((k) => {
      const m = median(perRun[k]!);
      return `| ${k} | ${m.toFixed(3)} ms | ${median(p95[k]!).toFixed(3)} ms | ${k === 'baseline' ? '-' : `${m - base >= 0 ? '+' : ''}${(m - base).toFixed(3)} ms`} | ${perRun[k]!.map((x) => x.toFixed(3)).join(', ')} |`;
    }),
    '',
    `added at the median (warm): ${(median(perRun.withTenant!) - base).toFixed(3)} ms (target < 0.5 ms): ${median(perRun.withTenant!) - base < 0.5 ? 'met' : 'NOT met'}`,
    '',
    `cold (${COLD} units each, every unit a tenant's first connection):`,
    '',
    '| case | median | p95 |',
    '| --- | --- | --- |',
    ...Object.entries(cold).map(([k, t]) => `| ${k} | ${median(t).toFixed(3)} ms | ${percentile(t, 0.95).toFixed(3)} ms |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await baselinePool?.end();
  await access.access.close();
  const cleanup = new pg.Client({ connectionString: url.toString() });
  await cleanup.connect();
  await dropAccessRoles(cleanup).finally(() => cleanup.end());
  await fleet.close();
  await adminClient.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  await adminClient.end();
  await release();
  rmSync(scratch, { recursive: true, force: true });
}

function median(xs: readonly number[]): number {
  return percentile(xs, 0.5);
}

function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const i = (sorted.length - 1) * p;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}
