/**
 * Where a guarded request's time goes, counted in CPU rather than wall clock (so that it holds on
 * a busy machine): the CPU of this process and of the PostgreSQL backends serving the scratch
 * database, per unit of work, for
 * - the insecure baseline: the read on a shared superuser pool;
 * - withTenant (gateway logins) on one tenant: no connection ever changes tenant;
 * - withTenant (gateway logins) on `--tenants` tenants with Zipf(s = 1) popularity: the tenants
 *   without an idle connection of their own take another tenant's (a move: a catalog write).
 * Moves and new connections are the session pool's own counts.
 *
 *   node --import tsx scripts/bench/requests-cpu.ts [--tenants 1000] [--units 5000] [--concurrency 20] [--connections 40]
 *
 * Where: --database-url or FLEET_DATABASE_URL (an administrator's URL of a server on this machine:
 * backends' CPU is read from /proc), else an embedded PostgreSQL in a temp dir. A scratch database
 * fleet_bench_cpu_* is created and dropped, roles included.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadFleetConfig } from '../../src/config/load.ts';
import { openFleet } from '../../src/fleet.ts';
import { quoteIdent } from '../../src/db/quote.ts';
import { addTenants } from '../../src/provisioning/add-tenants.ts';
import { schemaNameFor } from '../../src/tenants/ids.ts';
import { openTenantAccess } from '../../src/access/with-tenant.ts';
import { createDatabase, databaseUrl, dropDatabaseAndRoles, startServer } from './lib.ts';
import { zipfSampler } from './requests.ts';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '1000' },
    units: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '20' },
    connections: { type: 'string', default: '40' },
    'database-url': { type: 'string' },
  },
});
const tenants = Number(values.tenants);
const units = Number(values.units);
const concurrency = Number(values.concurrency);
const connections = Number(values.connections);
if (![tenants, units, concurrency, connections].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error('bad options: --tenants, --units, --concurrency and --connections take positive integers');
  process.exit(2);
}

const log = (line: string) => console.error(`[requests-cpu ${new Date().toISOString().slice(11, 19)}] ${line}`);
const server = await startServer(values['database-url'] ?? process.env.FLEET_DATABASE_URL, log);
const db = await createDatabase(server.adminUrl, 'cpu');
const url = databaseUrl(server.adminUrl, db);
const fleet = await openFleet({ config: loadFleetConfig(), env: { FLEET_DATABASE_URL: url, FLEET_REGION: 'local' }, actor: 'bench' });
const admin = new pg.Client({ connectionString: url });
await admin.connect();
const CLOCK_TICKS_PER_SECOND = 100;
const apps = new Map<number, string>();

/** CPU seconds of the backends serving the scratch database, by pid. */
async function backendCpu(): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number; app: string }>(
    'SELECT pid, application_name AS app FROM pg_stat_activity WHERE datname = current_database()',
  );
  const cpu = new Map<number, number>();
  for (const { pid, app } of rows) {
    apps.set(pid, app);
    try {
      const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] as string).split(' ');
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND);
    } catch {
      // The backend ended meanwhile.
    }
  }
  return cpu;
}

interface Figures {
  readonly label: string;
  readonly unitsPerSecond: number;
  readonly nodeMicros: number;
  readonly postgresMicros: number;
  readonly movesPerUnit: number | null;
  readonly opensPerUnit: number | null;
}

type PoolCounts = () => { moved: number; opened: number };

async function measure(
  label: string,
  ids: readonly string[],
  one: (id: string) => Promise<unknown>,
  counts?: PoolCounts,
): Promise<Figures> {
  const pick = zipfSampler(ids.length);
  const loop = async (n: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) await one(ids[pick()] as string);
      }),
    );
  };
  await loop(Math.min(units, 2000)); // warm: connections open, caches filled
  const counts0 = counts?.();
  const pg0 = await backendCpu();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await loop(units);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pg1 = await backendCpu();
  let postgres = 0;
  const byApp = new Map<string, number>();
  for (const [pid, s] of pg1) {
    const used = s - (pg0.get(pid) ?? s);
    postgres += used;
    const app = apps.get(pid) || 'other';
    byApp.set(app, (byApp.get(app) ?? 0) + used);
  }
  log(
    `${label}: PostgreSQL CPU per unit by application_name: ${[...byApp].map(([a, v]) => `${a} ${((v * 1e6) / units) | 0} µs`).join(', ')}`,
  );
  const counts1 = counts?.();
  const figures = {
    label,
    unitsPerSecond: units / seconds,
    nodeMicros: ((cpu.user + cpu.system) / units) | 0,
    postgresMicros: ((postgres * 1e6) / units) | 0,
    movesPerUnit: counts0 && counts1 ? (counts1.moved - counts0.moved) / units : null,
    opensPerUnit: counts0 && counts1 ? (counts1.opened - counts0.opened) / units : null,
  };
  log(JSON.stringify(figures));
  return figures;
}

const results: Figures[] = [];
try {
  const ids = Array.from({ length: tenants }, (_, i) => `cpu-${String(i).padStart(5, '0')}`);
  log(`provisioning ${tenants} tenants`);
  const report = await addTenants(fleet, ids);
  if (!report.migrate.ok) throw new Error('provisioning failed');
  const query = 'SELECT key, summary, status FROM issues ORDER BY id LIMIT 100';

  const pool = new pg.Pool({ connectionString: url, max: connections });
  results.push(
    await measure('baseline (shared superuser pool)', ids, (id) =>
      pool.query(`SELECT key, summary, status FROM ${quoteIdent(schemaNameFor(id))}.issues ORDER BY id LIMIT 100`),
    ),
  );
  await pool.end();

  const access = await openTenantAccess(fleet, { maxConnections: connections, logins: 'gateway' });
  const unit = (id: string) => access.withTenant(id, (c) => c.query(query), { recordContact: false });
  const counts = () => access.stats('local');
  results.push(await measure('withTenant, gateway logins, 1 tenant (no move)', ids.slice(0, 1), unit, counts));
  results.push(await measure(`withTenant, gateway logins, ${tenants} tenants, Zipf s=1`, ids, unit, counts));
  await access.close();

  console.log(
    `Command: node --import tsx scripts/bench/requests-cpu.ts --tenants ${tenants} --units ${units} --concurrency ${concurrency} --connections ${connections}`,
  );
  console.log(
    `Server: ${server.version} (${server.description}); load average ${(await import('node:os'))
      .loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}\n`,
  );
  console.log('| case | units/s | node CPU per unit | PostgreSQL CPU per unit | moves per unit | new connections per unit |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of results)
    console.log(
      `| ${r.label} | ${r.unitsPerSecond.toFixed(0)} | ${r.nodeMicros} µs | ${r.postgresMicros} µs | ${r.movesPerUnit === null ? '' : r.movesPerUnit.toFixed(2)} | ${r.opensPerUnit === null ? '' : r.opensPerUnit.toFixed(3)} |`,
    );
} finally {
  await admin.end();
  await fleet.close();
  await dropDatabaseAndRoles(server.adminUrl, db).catch(() => undefined);
  await server.release();
}
