/**
 * `npm run bench -- --cases copy [--copy-sizes 20,200] [--runs 3] [--database-url URL]`: one tenant
 * per size, copied between two databases of one server by `fleet tenants move` (copy, verify,
 * switch, drop the source: the whole command, process start included) and by
 * `pg_dump -n <schema> | psql` (structure and data, no verification), alternating in one run: each
 * run dumps, then moves the tenant the same way (eu → us, then back). The median ratio of the runs
 * is reported; the move's peak RSS at each size shows whether memory stays flat. pg_dump and psql must match the server's major version:
 * /usr/lib/postgresql/<major>/bin (the embedded server ships none: run it on an external server).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadFleetConfig, PACKAGE_ROOT } from '../../src/config/load.ts';
import { openFleet } from '../../src/fleet.ts';
import { addTenants } from '../../src/provisioning/add-tenants.ts';
import { schemaNameFor } from '../../src/tenants/ids.ts';
import { adminQuery, createDatabase, databaseUrl, dropDatabaseAndRoles, median, runCli, type Row } from './lib.ts';

const ID = 'bench-copy';
const SIZES_MB = [20, 200];

function clientBin(version: string, name: string): string {
  const major = /PostgreSQL (\d+)/.exec(version)?.[1] ?? '?';
  const bin = `/usr/lib/postgresql/${major}/bin/${name}`;
  if (!existsSync(bin))
    throw new Error(
      `no ${name} for PostgreSQL ${major} at ${bin}: run the copy case on a server whose client tools are installed (e.g. --database-url postgres://postgres@127.0.0.1:5432/postgres for PostgreSQL 15)`,
    );
  return bin;
}

/** Fill the tenant's audit_log (jsonb) and comments until its schema holds `mb` MB. */
async function fill(url: string, mb: number): Promise<number> {
  const schema = schemaNameFor(ID);
  await adminQuery(
    url,
    `INSERT INTO "${schema}".projects (id, key, name) SELECT i, 'P' || i, 'Project ' || i FROM generate_series(1, 100) i`,
  );
  await adminQuery(
    url,
    `INSERT INTO "${schema}".issues (id, project_id, key, summary, status, created_at, updated_at) SELECT i, 1 + i % 100, 'P-' || i, 'Issue ' || i || ' ' || md5(i::text), 'open', now(), now() FROM generate_series(1, 20000) i`,
  );
  const size = async (): Promise<number> => {
    const found = await adminQuery<{ b: string }>(
      url,
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS b FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema],
    );
    return Number(found[0]?.b ?? 0);
  };
  while ((await size()) < mb * 2 ** 20) {
    await adminQuery(
      url,
      `INSERT INTO "${schema}".audit_log (actor, action, issue_id, details)
      SELECT 'user-' || (i % 977), 'edited', 1 + i % 20000, jsonb_build_object('field', 'summary', 'from', md5(i::text), 'to', md5((i + 1)::text), 'at', now())
        FROM generate_series(1, 50000) i`,
    );
  }
  await adminQuery(url, `VACUUM ANALYZE`);
  return size();
}

/** Run a bash pipeline; wall clock and the CPU of its processes (bash's `times`: the shell's children). */
async function shell(command: string): Promise<{ ms: number; cpuMs: number }> {
  const started = performance.now();
  let err = '';
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', `${command}; code=$?; times >&2; exit $code`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', resolve);
  });
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`failed (${code}): ${command}\n${err}`);
  // `times` prints the shell's user/system time, then its children's: "0m0.123s 0m0.045s".
  const seconds = (m: string, s: string) => Number(m) * 60 + Number(s);
  const children = [...err.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].at(-1);
  const cpuMs = children ? (seconds(children[1] ?? '0', children[2] ?? '0') + seconds(children[3] ?? '0', children[4] ?? '0')) * 1000 : NaN;
  return { ms, cpuMs };
}

/**
 * CPU time of the server's backends on the given databases while fn runs (parallel workers
 * included): pg_stat_activity polled every 20 ms, each listed backend's /proc/<pid>/stat read, the
 * last reading kept (a backend's last 20 ms may be missed). NaN when the server is not on this
 * machine (no /proc entry).
 */
async function backendCpu<T>(adminUrl: string, databases: readonly string[], fn: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const tick = 1000 / 100; // USER_HZ: /proc reports clock ticks of 10 ms
  const seen = new Map<number, number>();
  const read = (pid: number): number | undefined => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      return undefined;
    }
  };
  const poller = new pg.Client({ connectionString: adminUrl });
  await poller.connect();
  const own = await poller.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const local = read(own.rows[0]?.pid ?? 0) !== undefined;
  let polling = local;
  const poll = (async () => {
    while (polling) {
      const { rows } = await poller.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()',
        [databases],
      );
      // Only backends listed now: a pid read after its backend ended could be another process's.
      for (const { pid } of rows) {
        const cpu = read(pid);
        if (cpu !== undefined) seen.set(pid, Math.max(seen.get(pid) ?? 0, cpu));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    const value = await fn();
    return { value, cpuMs: local ? [...seen.values()].reduce((a, b) => a + b, 0) : NaN };
  } finally {
    polling = false;
    await poll;
    await poller.end();
  }
}

export async function caseCopy(options: {
  adminUrl: string;
  version: string;
  /** Tenant sizes, MB. */
  sizes?: readonly number[];
  /** Runs per size; the tenant moves back and forth, each run's baseline dumps in the same direction just before. */
  runs?: number;
  log: (line: string) => void;
}): Promise<{ rows: Row[]; figures: Record<string, unknown> }> {
  const { adminUrl, version, log } = options;
  const sizes = options.sizes ?? SIZES_MB;
  const runs = options.runs ?? 1;
  const pgDump = clientBin(version, 'pg_dump');
  const psql = clientBin(version, 'psql');
  const base = loadFleetConfig(path.join(PACKAGE_ROOT, 'fleet.config.json'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-copy-'));
  const configFile = path.join(tmp, 'fleet.config.json');
  writeFileSync(configFile, JSON.stringify({ ...base, regions: base.regions.filter((r) => r.name === 'eu' || r.name === 'us') }));
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  try {
    for (const mb of sizes) {
      const [src, dst] = [await createDatabase(adminUrl, `copysrc${mb}`), await createDatabase(adminUrl, `copydst${mb}`)];
      try {
        const env = { FLEET_DATABASE_URL_EU: databaseUrl(adminUrl, src), FLEET_DATABASE_URL_US: databaseUrl(adminUrl, dst) };
        const fleet = await openFleet({
          config: { ...base, regions: base.regions.filter((r) => r.name === 'eu' || r.name === 'us') },
          env,
          regions: ['eu', 'us'],
          actor: 'bench',
        });
        await addTenants(fleet, [ID], { region: 'eu' });
        await fleet.close();
        const bytes = await fill(databaseUrl(adminUrl, src), mb);
        const schema = schemaNameFor(ID);
        const measured: { moveMs: number; dumpMs: number; maxRssMb: number; moveCpuMs: number; dumpCpuMs: number }[] = [];
        for (let r = 0; r < runs; r += 1) {
          // The tenant moves eu → us, then back: each run's baseline copies in the same direction.
          const [from, to, region] = r % 2 === 0 ? [src, dst, 'us'] : [dst, src, 'eu'];
          log(`copy ${mb} MB, run ${r + 1}/${runs}: tenant of ${(bytes / 2 ** 20).toFixed(0)} MB; pg_dump -n | psql first`);
          // Each side starts from a checkpoint: neither pays for writing out the other's dirty
          // buffers (the fill's, the previous copy's) or for the checkpoint its WAL would trigger.
          await adminQuery(adminUrl, 'CHECKPOINT');
          const dump = await backendCpu(adminUrl, [src, dst], () =>
            shell(
              `${pgDump} -n ${schema} '${databaseUrl(adminUrl, from)}' | ${psql} -q -v ON_ERROR_STOP=1 '${databaseUrl(adminUrl, to)}' >/dev/null`,
            ),
          );
          const dumpMs = dump.value.ms;
          const dumpCpuMs = dump.value.cpuMs + dump.cpuMs;
          await adminQuery(databaseUrl(adminUrl, to), `DROP SCHEMA "${schema}" CASCADE`);
          log(`copy: pg_dump | psql ${(dumpMs / 1000).toFixed(2)} s (CPU ${(dumpCpuMs / 1000).toFixed(2)} s); now fleet tenants move`);
          await adminQuery(adminUrl, 'CHECKPOINT');
          const cpuFile = path.join(tmp, `cpu-${mb}-${r}`);
          const move = await backendCpu(adminUrl, [src, dst], () =>
            runCli(['--config', configFile, 'tenants', 'move', ID, '--to-region', region, '--json'], {
              env: { ...env, BENCH_CPU_FILE: cpuFile },
              admin: adminUrl,
              watch: [src, dst],
            }),
          );
          const run = move.value;
          if (run.exitCode !== 0) throw new Error(`fleet tenants move failed: ${run.stderr}`);
          const moveCpuMs = Number(readFileSync(cpuFile, 'utf8')) + move.cpuMs;
          log(
            `copy: move ${(run.wallMs / 1000).toFixed(2)} s (ratio ${(run.wallMs / dumpMs).toFixed(2)}x; CPU ${(moveCpuMs / 1000).toFixed(2)} s), peak RSS ${run.maxRssMb.toFixed(0)} MB`,
          );
          measured.push({ moveMs: run.wallMs, dumpMs, maxRssMb: run.maxRssMb, moveCpuMs, dumpCpuMs });
        }
        const moveMs = median(measured.map((m) => m.moveMs));
        const dumpMs = median(measured.map((m) => m.dumpMs));
        const ratio = median(measured.map((m) => m.moveMs / m.dumpMs));
        const moveCpuMs = median(measured.map((m) => m.moveCpuMs));
        const dumpCpuMs = median(measured.map((m) => m.dumpCpuMs));
        const maxRssMb = Math.max(...measured.map((m) => m.maxRssMb));
        rows.push({
          case: '`fleet tenants move` (copy + verify + switch + drop) vs `pg_dump -n | psql`',
          size: `${(bytes / 2 ** 20).toFixed(0)} MB`,
          ours: `${(moveMs / 1000).toFixed(2)} s`,
          baseline: `${(dumpMs / 1000).toFixed(2)} s`,
          ratio: `${ratio.toFixed(2)}x`,
          target: '≤ 1.3x',
          met: ratio <= 1.3,
        });
        rows.push({
          case: 'CPU time, the process and its backends (load-independent)',
          size: `${(bytes / 2 ** 20).toFixed(0)} MB`,
          ours: `${(moveCpuMs / 1000).toFixed(2)} s`,
          baseline: `${(dumpCpuMs / 1000).toFixed(2)} s`,
          ratio: `${(moveCpuMs / dumpCpuMs).toFixed(2)}x`,
          target: '',
          met: null,
        });
        rows.push({
          case: '`fleet tenants move` peak RSS',
          size: `${(bytes / 2 ** 20).toFixed(0)} MB`,
          ours: `${maxRssMb.toFixed(0)} MB`,
          baseline: '',
          ratio: '',
          target: 'flat',
          met: null,
        });
        figures[`copy${mb}`] = {
          bytes,
          moveMs: Math.round(moveMs),
          dumpMs: Math.round(dumpMs),
          ratio: Number(ratio.toFixed(3)),
          maxRssMb: Math.round(maxRssMb),
          moveCpuMs: Math.round(moveCpuMs),
          dumpCpuMs: Math.round(dumpCpuMs),
          runs: measured.map((m) => ({
            moveMs: Math.round(m.moveMs),
            dumpMs: Math.round(m.dumpMs),
            moveCpuMs: Math.round(m.moveCpuMs),
            dumpCpuMs: Math.round(m.dumpCpuMs),
            maxRssMb: Math.round(m.maxRssMb),
          })),
        };
      } finally {
        await dropDatabaseAndRoles(adminUrl, src).catch(() => undefined);
        await dropDatabaseAndRoles(adminUrl, dst).catch(() => undefined);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { rows, figures };
}
