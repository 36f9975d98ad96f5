/**
 * Building blocks of the benchmarks: a server, scratch databases, the measured CLI process (wall
 * clock, peak memory, peak connections), the floor (psql) and the naive loop (Umzug per schema).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Umzug } from 'umzug';
import { PACKAGE_ROOT } from '../../src/config/load.ts';
import { quoteIdent } from '../../src/db/quote.ts';
import type { MigrationFile } from '../../src/migrate/migration-files.ts';

export const FLEET_BIN = path.join(PACKAGE_ROOT, 'bin', 'fleet.js');
const MAXRSS_PRELOAD = path.join(PACKAGE_ROOT, 'scripts', 'bench', 'maxrss.mjs');

export interface BenchServer {
  readonly adminUrl: string;
  readonly version: string;
  readonly description: string;
  release(): Promise<void>;
}

/** The server to measure on: the one at `url`, or an embedded PostgreSQL of our own in a temp dir (fsync on). */
export async function startServer(url: string | undefined, log: (line: string) => void): Promise<BenchServer> {
  if (url) {
    return { adminUrl: url, version: await serverVersion(url), description: `external ${redact(url)}`, release: async () => undefined };
  }
  const { acquireEmbeddedServer } = await import('../../src/db/embedded/index.ts');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tenant-fleet-bench-'));
  // BENCH_MAX_CONNECTIONS: room for a connection pool as large as the tenants (the requests bench's per-tenant sizing).
  const maxConnections = process.env.BENCH_MAX_CONNECTIONS ?? '200';
  log(`starting an embedded PostgreSQL in ${dir} (fsync on, max_connections ${maxConnections})`);
  const server = await acquireEmbeddedServer({ dir, settings: { max_connections: maxConnections } });
  const adminUrl = server.url('postgres');
  return {
    adminUrl,
    version: await serverVersion(adminUrl),
    description: `embedded, fsync on, ${dir}`,
    release: async () => {
      await server.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function serverVersion(url: string): Promise<string> {
  const rows = await adminQuery<{ v: string }>(url, "SELECT current_setting('server_version') AS v");
  return `PostgreSQL ${rows[0]?.v ?? '?'}`;
}

export function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export function databaseUrl(admin: string, name: string): string {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

let counter = 0;
/** A new empty database (or a copy of `template`); returns its name. */
export async function createDatabase(admin: string, label: string, template?: string): Promise<string> {
  counter += 1;
  const name = `fleet_bench_${label}_${process.pid}_${counter}`;
  const from = template ? ` TEMPLATE ${quoteIdent(template)} STRATEGY FILE_COPY` : '';
  await adminQuery(admin, `CREATE DATABASE ${quoteIdent(name)}${from}`);
  return name;
}

export async function dropDatabase(admin: string, name: string): Promise<void> {
  await adminQuery(admin, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/**
 * sync, then wait ms: for a run that follows DROP DATABASE. This machine's ext4 has no journal,
 * and without one ext4 does not reuse an inode freed in the last 60 s (300 s more while its inode
 * table block is dirty, which sync ends): a file created meanwhile in the same block group is
 * given an inode only after a scan past every such inode. Creating 20,000 files took 0.38 s on a
 * quiet block group and 11 s right after 20,000 others were deleted; a run of 1,000 tenants
 * creates about 25,000 relation files and its DROP DATABASE frees as many. Without the pause, the
 * side that runs after the other side's drop pays for it (perf: about a third of the server's CPU
 * in ext4's recently_deleted and find_inode_bit).
 */
export async function settle(ms: number, log: (line: string) => void): Promise<void> {
  spawnSync('sync');
  if (ms <= 0) return;
  log(`settling ${Math.round(ms / 1000)} s after dropping databases (ext4 reuses no inode freed in the last 60 s)`);
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * VACUUM the cluster-wide catalogs that role DDL writes. A pair of provisioning runs creates and
 * drops thousands of roles; their dead rows (and index entries) stay in pg_authid, pg_auth_members
 * and pg_shdepend until autovacuum gets there, and every later role statement walks them: without
 * this, the later runs of a case were up to 1.6x slower than the first, the floor more than the
 * fleet. Each pair starts from the catalogs a fresh server would have.
 */
export async function vacuumRoleCatalogs(admin: string): Promise<void> {
  await adminQuery(admin, 'VACUUM pg_catalog.pg_authid, pg_catalog.pg_auth_members, pg_catalog.pg_shdepend, pg_catalog.pg_database');
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface CliRun {
  readonly wallMs: number;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident set of the CLI process, MB. */
  readonly maxRssMb: number;
  /** Most connections seen at once to the watched databases (pg_stat_activity, polled). */
  readonly peakConnections: number;
  /** application_name of each connection at the peak (fleet-runner, fleet-control, ...). */
  readonly peakApplications: string;
}

/** Environment of a measured CLI: ours, without any FLEET_* of the caller's shell. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLEET_')) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

/**
 * Run `node bin/fleet.js ...args` as a real process; wall clock from spawn to exit (process start
 * included). While it runs, pg_stat_activity is polled for connections to `watch` databases.
 */
export async function runCli(
  args: readonly string[],
  options: { env: Record<string, string>; admin: string; watch: readonly string[] },
): Promise<CliRun> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-rss-'));
  const rssFile = path.join(tmp, 'maxrss');
  const poller = new pg.Client({ connectionString: options.admin });
  await poller.connect();
  let peak = 0;
  let peakApps = '';
  let polling = true;
  const poll = (async () => {
    while (polling) {
      // Client connections only: an autovacuum worker also shows the database's name.
      const { rows } = await poller.query<{ n: number; apps: string }>(
        `SELECT count(*)::int AS n, string_agg(coalesce(nullif(application_name, ''), '?'), ',' ORDER BY application_name) AS apps
           FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        [options.watch],
      );
      if ((rows[0]?.n ?? 0) > peak) {
        peak = rows[0]?.n ?? 0;
        peakApps = rows[0]?.apps ?? '';
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', MAXRSS_PRELOAD, FLEET_BIN, ...args], {
    cwd: PACKAGE_ROOT,
    env: cleanEnv({ ...options.env, BENCH_MAXRSS_FILE: rssFile }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const wallMs = performance.now() - started;
  polling = false;
  await poll;
  await poller.end();
  let maxRssKb = 0;
  try {
    maxRssKb = Number(readFileSync(rssFile, 'utf8'));
  } catch {
    // killed before exit: no figure
  }
  rmSync(tmp, { recursive: true, force: true });
  return { wallMs, exitCode, stdout, stderr, maxRssMb: maxRssKb / 1024, peakConnections: peak, peakApplications: peakApps };
}

/**
 * The floor: the same SQL fed straight to psql in `sessions` parallel sessions, the tenants dealt
 * round-robin. Each tenant's part is `sqlFor(schema)`. Returns the wall clock from the first spawn
 * to the last exit.
 */
export async function runFloor(url: string, schemas: readonly string[], sqlFor: (schema: string) => string, sessions = 8): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-floor-'));
  try {
    const parts: string[][] = Array.from({ length: sessions }, () => []);
    schemas.forEach((schema, i) => parts[i % sessions]?.push(sqlFor(schema)));
    const files = parts.map((p, i) => {
      const file = path.join(dir, `session-${i}.sql`);
      writeFileSync(file, p.join('\n'));
      return file;
    });
    const started = performance.now();
    await Promise.all(
      files.map(
        (file) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', file], {
              stdio: ['ignore', 'ignore', 'pipe'],
            });
            let err = '';
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('error', reject);
            child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited ${String(code)}: ${err.slice(0, 500)}`))));
          }),
      ),
    );
    return performance.now() - started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The floor's SQL for a fresh tenant: the same statements the runner's provisioning sends (the
 * schema, the tenant's role with its grants and default privileges, as src/access/tenant-role.ts
 * writes them), then every migration's SQL with the search_path on the schema.
 */
export function freshTenantSql(files: readonly MigrationFile[], rolePrefix: string): (schema: string) => string {
  const body = files.map((f) => f.sql).join('\n');
  const provision = provisionSql(rolePrefix);
  return (schema) => `${provision(schema)}\nSET search_path TO ${quoteIdent(schema)};\n${body}\n`;
}

/**
 * What provisioning sends before the first migration: the schema, the tenant's role with its
 * grants and default privileges, and the tenant's session (login) role, a member of that role
 * only, as src/access/tenant-role.ts writes them for a schema it creates (no grants on the
 * schema's existing tables and sequences: it has none; the bookkeeping row in
 * fleet.session_roles is the runner's, like its ledger rows, and is left out).
 */
export function provisionSql(rolePrefix: string, me = 'postgres'): (schema: string) => string {
  return (schema) => {
    const s = quoteIdent(schema);
    const role = quoteIdent(`${rolePrefix}_${schema}`);
    const login = quoteIdent(`${rolePrefix}_l_${schema}`);
    return [
      `CREATE SCHEMA ${s};`,
      `CREATE ROLE ${role} NOLOGIN NOINHERIT;`,
      `GRANT USAGE ON SCHEMA ${s} TO ${role};`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(me)} IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role};`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(me)} IN SCHEMA ${s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${role};`,
      `CREATE ROLE ${login} LOGIN NOINHERIT;`,
      `GRANT ${role} TO ${login};`,
    ].join('\n');
  };
}

/** A role prefix for the floor's tenant roles, like the fleet's own: 'f' + 8 hex characters. */
export async function floorRolePrefix(): Promise<string> {
  return `f${Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .padStart(8, '0')}`;
}

/** The fleet's role prefix in a database (fleet.access_settings), when it has one. */
export async function fleetRolePrefix(url: string): Promise<string | undefined> {
  try {
    return (await adminQuery<{ p: string }>(url, 'SELECT role_prefix AS p FROM fleet.access_settings'))[0]?.p;
  } catch {
    return undefined;
  }
}

/**
 * Roles are cluster-wide: once their database is dropped (which drops their grants there), drop
 * every role of a prefix, so runs do not pile up tens of thousands of roles on the server.
 */
export async function dropRoles(admin: string, prefix: string): Promise<void> {
  const literal = quoteLiteralPrefix(prefix);
  // A batch per transaction: every DROP ROLE holds a lock until COMMIT, and 20,000 of them exceed
  // max_locks_per_transaction ("out of shared memory").
  for (;;) {
    const [left] = await adminQuery<{ n: number }>(admin, `SELECT count(*)::int AS n FROM pg_roles WHERE starts_with(rolname, ${literal})`);
    if (!left || left.n === 0) return;
    await adminQuery(
      admin,
      `DO $$ DECLARE r text; BEGIN
         FOR r IN SELECT rolname FROM pg_roles WHERE starts_with(rolname, ${literal})
                   ORDER BY rolname = ${literal} || 'tenants' LIMIT 1000 LOOP
           EXECUTE format('DROP ROLE %I', r);
         END LOOP; END $$`,
    );
  }
}

function quoteLiteralPrefix(prefix: string): string {
  if (!/^f[0-9a-f]{8}$/.test(prefix)) throw new Error(`not a role prefix: ${prefix}`);
  return `'${prefix}_'`;
}

/** Drop a database and the roles its fleet (or floor) created. */
export async function dropDatabaseAndRoles(admin: string, name: string, prefix?: string): Promise<void> {
  const found = prefix ?? (await fleetRolePrefix(databaseUrl(admin, name)));
  await dropDatabase(admin, name);
  if (found) await dropRoles(admin, found);
}

export function releaseTenantSql(file: MigrationFile): (schema: string) => string {
  return (schema) => `SET search_path TO ${quoteIdent(schema)};\n${file.sql}\n`;
}

/**
 * The naive way: one schema at a time, a new connection each, Umzug with its log in a table of
 * the tenant's schema, each migration in autocommit (what a first script usually does).
 */
export async function runNaive(
  url: string,
  schemas: readonly string[],
  files: readonly MigrationFile[],
  rolePrefix: string,
): Promise<number> {
  const provision = provisionSql(rolePrefix);
  const started = performance.now();
  for (const schema of schemas) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const q = quoteIdent(schema);
      await client.query(provision(schema));
      await client.query(`SET search_path TO ${q}`);
      await client.query('CREATE TABLE IF NOT EXISTS umzug_meta (name text PRIMARY KEY)');
      const umzug = new Umzug({
        migrations: files.map((f) => ({
          name: f.name,
          up: async () => {
            await client.query(f.sql);
          },
        })),
        context: client,
        storage: {
          executed: async () => (await client.query<{ name: string }>('SELECT name FROM umzug_meta ORDER BY name')).rows.map((r) => r.name),
          logMigration: async ({ name }) => {
            await client.query('INSERT INTO umzug_meta (name) VALUES ($1)', [name]);
          },
          unlogMigration: async ({ name }) => {
            await client.query('DELETE FROM umzug_meta WHERE name = $1', [name]);
          },
        },
        logger: undefined,
      });
      await umzug.up();
    } finally {
      await client.end();
    }
  }
  return performance.now() - started;
}

export function tenantIds(n: number, prefix = 'bench'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(6, '0')}`);
}

export function schemaOf(id: string): string {
  return `t_${id.replaceAll('-', '_')}`;
}

export function writeIdFile(ids: readonly string[]): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-ids-'));
  const file = path.join(dir, 'ids.txt');
  writeFileSync(file, `${ids.join('\n')}\n`);
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run one SQL script through psql (one session); returns the wall clock. */
export async function runPsql(url: string, sql: string): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-psql-'));
  try {
    const file = path.join(dir, 'script.sql');
    writeFileSync(file, sql);
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited ${String(code)}: ${err.slice(0, 500)}`))));
    });
    return performance.now() - started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Session logins per transaction in the provisioning floor, as createSessionLogins (src/access/tenant-role.ts). */
const FLOOR_LOGIN_CHUNK = 500;
const floorLedger = (schema: string, name: string) =>
  `INSERT INTO floor.ledger (tenant_id, name, applied_at) VALUES ('${schema}', '${name}', now());`;

/**
 * The provisioning floor's first part, one session: the bookkeeping tables (a registry, a ledger,
 * the session-role registrations), PUBLIC's CONNECT revoked (control migration 0006), every
 * tenant registered in one INSERT, then the session logins created, granted CONNECT and
 * registered a chunk per transaction, as `fleet tenants add` does before the tenants are
 * provisioned in parallel.
 */
export function provisionFloorSetupSql(schemas: readonly string[], rolePrefix: string, database: string): string {
  const out = [
    // The prefix registered as a fleet's is: a test run's sweep of orphaned access roles on a shared
    // server (src/access/cleanup.ts) would otherwise take the floor's roles for orphans and drop them.
    'CREATE SCHEMA fleet;',
    'CREATE TABLE fleet.access_settings (role_prefix text NOT NULL);',
    `INSERT INTO fleet.access_settings VALUES ('${rolePrefix}');`,
    'CREATE SCHEMA floor;',
    'CREATE TABLE floor.tenants (id text PRIMARY KEY, status text NOT NULL, updated_at timestamptz NOT NULL);',
    'CREATE TABLE floor.ledger (tenant_id text NOT NULL REFERENCES floor.tenants (id), name text NOT NULL, applied_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, name));',
    'CREATE TABLE floor.session_roles (role_name text PRIMARY KEY, tenant_id text NOT NULL UNIQUE, schema_name text NOT NULL);',
    `REVOKE CONNECT ON DATABASE ${quoteIdent(database)} FROM PUBLIC;`,
    `INSERT INTO floor.tenants (id, status, updated_at) SELECT unnest(ARRAY[${schemas.map((s) => `'${s}'`).join(',')}]::text[]), 'provisioning', now();`,
  ];
  for (let i = 0; i < schemas.length; i += FLOOR_LOGIN_CHUNK) {
    const chunk = schemas.slice(i, i + FLOOR_LOGIN_CHUNK);
    const logins = chunk.map((s) => quoteIdent(`${rolePrefix}_l_${s}`));
    out.push(
      'BEGIN;',
      ...logins.map((l) => `CREATE ROLE ${l} LOGIN NOINHERIT;`),
      `GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${logins.join(', ')};`,
      `INSERT INTO floor.session_roles (role_name, tenant_id, schema_name) VALUES ${chunk.map((s) => `('${rolePrefix}_l_${s}', '${s}', '${s}')`).join(', ')};`,
      'COMMIT;',
    );
  }
  return `${out.join('\n')}\n`;
}

/**
 * The provisioning floor's per-tenant part (8 sessions): what createTenantRole sends, in one
 * transaction (the schema, the privilege role, its grants and default privileges, the login's
 * membership), then each migration in its own transaction with its ledger row, the last one with
 * the activation.
 */
export function provisionFloorTenantSql(files: readonly MigrationFile[], rolePrefix: string): (schema: string) => string {
  const provision = provisionSql(rolePrefix);
  return (schema) => {
    const q = quoteIdent(schema);
    const activate = `UPDATE floor.tenants SET status = 'active', updated_at = now() WHERE id = '${schema}';\n`;
    const roleDdl = provision(schema)
      .split('\n')
      .filter((line) => !line.startsWith(`CREATE ROLE ${quoteIdent(`${rolePrefix}_l_${schema}`)}`));
    return [
      'BEGIN;',
      ...roleDdl,
      'COMMIT;',
      ...files.map(
        (f, i) =>
          `BEGIN;\nSET LOCAL search_path TO ${q};\n${f.sql}\n${floorLedger(schema, f.name)}\n${i === files.length - 1 ? activate : ''}COMMIT;`,
      ),
      '',
    ].join('\n');
  };
}

/** A release on the floor: the migration in its own transaction with its ledger row. */
export function releaseFloorTenantSql(file: MigrationFile): (schema: string) => string {
  return (schema) => `BEGIN;\nSET LOCAL search_path TO ${quoteIdent(schema)};\n${file.sql}\n${floorLedger(schema, file.name)}\nCOMMIT;\n`;
}

/** One line of a bench's results table: our figure against its baseline and target. */
export interface Row {
  readonly case: string;
  readonly size: string;
  readonly ours: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  readonly met: boolean | null;
}
