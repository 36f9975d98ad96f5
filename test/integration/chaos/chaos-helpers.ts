/**
 * Fault injection helpers: the real CLI as a child process (so it can be killed with SIGKILL),
 * fleets of N tenants, and the checks every chaos test ends with (verify, ledger, latest).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PACKAGE_ROOT } from '../../../src/config/load.ts';
import { DEFAULT_MIGRATIONS_DIR } from '../../../src/fleet.ts';
import { readMigrationFiles } from '../../../src/migrate/migration-files.ts';
import { verifyFleet, type VerifyReport } from '../../../src/verify/verify-fleet.ts';
import { openTestFleet } from '../helpers/fleet.ts';
import { FLEET_BIN } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

export interface CliOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly done: Promise<CliOutcome>;
}

export function startCli(args: readonly string[], env: Record<string, string>): RunningCli {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLEET_')) base[k] = v;
  const started = performance.now();
  const child = spawn(process.execPath, [FLEET_BIN, ...args], {
    cwd: PACKAGE_ROOT,
    env: { ...base, NO_COLOR: '1', FLEET_ACTOR: 'chaos', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliOutcome>((resolve) => {
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr, ms: performance.now() - started }));
  });
  return { child, done };
}

export function runCli(args: readonly string[], env: Record<string, string>): Promise<CliOutcome> {
  return startCli(args, env).done;
}

export { tempDir };

export function ids(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(4, '0')}`);
}

export function idFile(list: readonly string[]): string {
  const file = path.join(tempDir('ids'), 'ids.txt');
  writeFileSync(file, `${list.join('\n')}\n`);
  return file;
}

/** A copy of the starter migrations plus extra files. */
export function migrationsWith(extra: Record<string, string>): string {
  const dir = tempDir('migrations');
  cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  for (const [file, sql] of Object.entries(extra)) writeFileSync(path.join(dir, file), sql);
  return dir;
}

/** A fleet description file: the package's, with runner settings overridden. */
export function configWith(runner: Record<string, number>): string {
  const config = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'fleet.config.json'), 'utf8')) as { runner: Record<string, number> };
  config.runner = { ...config.runner, ...runner };
  const file = path.join(tempDir('config'), 'fleet.config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export interface FleetHealth {
  readonly verify: VerifyReport;
  /** Tenants not at the latest migration, or not active. */
  readonly behind: readonly string[];
  readonly duplicateLedgerRows: number;
  readonly tenants: number;
}

/**
 * What every chaos test ends with: `fleet verify` (each ledger row matched by the schema's real
 * objects), every tenant active at the latest migration, no duplicate ledger rows.
 */
export async function fleetHealth(url: string, migrationsDir = DEFAULT_MIGRATIONS_DIR): Promise<FleetHealth> {
  const fleet = await openTestFleet(url, { migrationsDir, concurrency: 1 });
  try {
    const verify = await verifyFleet(fleet);
    const latest = readMigrationFiles(migrationsDir).map((f) => f.name);
    const tenants = await query<{ id: string; status: string; applied: string[] }>(
      url,
      `SELECT t.id, t.status, coalesce(array_agg(m.name ORDER BY m.name) FILTER (WHERE m.name IS NOT NULL), '{}') AS applied
         FROM fleet.tenants t LEFT JOIN fleet.migrations m ON m.tenant_id = t.id GROUP BY t.id`,
    );
    const behind = tenants.filter((t) => t.status !== 'active' || t.applied.join(',') !== latest.join(',')).map((t) => t.id);
    const dup = await query<{ n: number }>(
      url,
      'SELECT count(*)::int AS n FROM (SELECT tenant_id, name FROM fleet.migrations GROUP BY 1, 2 HAVING count(*) > 1) d',
    );
    return { verify, behind, duplicateLedgerRows: dup[0]?.n ?? 0, tenants: tenants.length };
  } finally {
    await fleet.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
