import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { acquireEmbeddedServer, stopEmbeddedServerIfUnused, type EmbeddedServer } from '../../../src/db/embedded/index.ts';
import { FleetError } from '../../../src/errors.ts';
import { FAST_SETTINGS, TEMP_DIR_PREFIX } from '../global-setup.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const USER_SCRIPT = path.join(ROOT, 'test', 'integration', 'db', 'embedded-user.ts');

// These tests run servers of their own; on an external server (FLEET_TEST_DATABASE_URL: another
// PostgreSQL version, or a platform without embedded binaries) they would test nothing new.
const describeEmbedded = describe.skipIf(Boolean(process.env.FLEET_TEST_DATABASE_URL));

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) {
    await stopEmbeddedServerIfUnused(dir).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
});

async function freshDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${TEMP_DIR_PREFIX}embedded-`));
  dirs.push(dir);
  return dir;
}

function acquire(dir: string, settings: Record<string, string> = FAST_SETTINGS): Promise<EmbeddedServer> {
  return acquireEmbeddedServer({ dir, settings });
}

function pidFile(dir: string): string {
  return path.join(dir, 'postgres-data', 'postmaster.pid');
}

function postmasterPid(dir: string): number {
  return Number(readFileSync(pidFile(dir), 'utf8').split('\n')[0]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A postmaster we spawned and that died is a zombie until Node reaps it.
  return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function expectStopped(dir: string, port: number): Promise<void> {
  expect(existsSync(pidFile(dir))).toBe(false);
  expect(await portAnswers(port)).toBe(false);
}

async function queryOne(url: string, sql: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as Record<string, unknown>;
  } finally {
    await client.end();
  }
}

function occupy(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function deadPid(): number {
  const pid = spawnSync('true').pid;
  if (!pid) throw new Error('could not get a pid');
  return pid;
}

interface UserProcess {
  readonly child: ChildProcess;
  readonly port: number;
  release(): Promise<void>;
}

/** Another process (as a second `fleet` command would be) acquiring the server of `dir`. */
async function spawnUser(dir: string): Promise<UserProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', USER_SCRIPT, dir], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error('the user process ended early');
    return line.value;
  };
  const { port } = JSON.parse(await next()) as { port: number };
  return {
    child,
    port,
    async release() {
      child.stdin!.write('release\n');
      expect(await next()).toBe('released');
    },
  };
}

describeEmbedded('acquireEmbeddedServer', () => {
  test('first use initialises a password-protected cluster (fsync on by default) and serves queries', async () => {
    const dir = await freshDir();
    const server = await acquireEmbeddedServer({ dir });
    await server.ensureDatabase('region_local');
    await server.ensureDatabase('region_local');

    expect(
      await queryOne(
        server.url('region_local'),
        "SELECT current_database() AS db, current_setting('max_connections') AS max, current_setting('fsync') AS fsync, current_setting('unix_socket_directories') AS sockets",
      ),
    ).toEqual({
      db: 'region_local',
      max: '200',
      fsync: 'on',
      sockets: '',
    });
    expect((await fs.stat(path.join(dir, 'postgres.password'))).mode & 0o777).toBe(0o600);
    const wrong = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', password: 'wrong', database: 'postgres' });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    await expect(server.ensureDatabase('Region-1; DROP')).rejects.toMatchObject({ code: 'INPUT_INVALID' });

    await server.release();
    await expectStopped(dir, server.port);
  });

  test('caller settings apply to a server it starts; the ones acquire owns are refused', async () => {
    const dir = await freshDir();
    const server = await acquire(dir, { ...FAST_SETTINGS, work_mem: '7MB' });
    expect(
      await queryOne(server.url('postgres'), "SELECT current_setting('work_mem') AS work_mem, current_setting('fsync') AS fsync"),
    ).toEqual({ work_mem: '7MB', fsync: 'off' });
    await server.release();

    await expect(acquire(dir, { port: '5432' })).rejects.toThrow(FleetError);
    await expect(acquire(dir, { 'x; y': '1' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  test('a second acquire reuses the running server; only the last release stops it', async () => {
    const dir = await freshDir();
    const first = await acquire(dir);
    const pid = postmasterPid(dir);
    const second = await acquire(dir);
    expect(second.port).toBe(first.port);
    expect(postmasterPid(dir)).toBe(pid);

    await first.release();
    await first.release(); // idempotent: must not count as the second user's release
    expect(await queryOne(second.url('postgres'), 'SELECT 1 AS one')).toEqual({ one: 1 });

    await second.release();
    await expectStopped(dir, first.port);
    expect(isAlive(pid)).toBe(false);
  });

  test('warm acquire + release on an initialised dir takes well under a second', async () => {
    const dir = await freshDir();
    await (await acquire(dir)).release();
    const started = performance.now();
    const server = await acquire(dir);
    await server.release();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  test('ensureDatabase is safe when several users create one database at once', async () => {
    const dir = await freshDir();
    const [a, b] = await Promise.all([acquire(dir), acquire(dir)]);
    await Promise.all([a.ensureDatabase('raced'), b.ensureDatabase('raced'), a.ensureDatabase('raced'), b.ensureDatabase('raced')]);
    expect(await queryOne(a.url('raced'), 'SELECT current_database() AS db')).toEqual({ db: 'raced' });
    await Promise.all([a.release(), b.release()]);
    await expectStopped(dir, a.port);
  });
});

describeEmbedded('recovery after a crash', () => {
  test('a user killed with SIGKILL leaves the server running: the next user adopts it, and its release stops it', async () => {
    const dir = await freshDir();
    const crashed = await spawnUser(dir);
    const pid = postmasterPid(dir);
    crashed.child.kill('SIGKILL');
    await new Promise((resolve) => crashed.child.once('exit', resolve));
    expect(await portAnswers(crashed.port)).toBe(true);

    const server = await acquire(dir);
    expect(server.port).toBe(crashed.port);
    expect(postmasterPid(dir)).toBe(pid);
    await server.release();
    await expectStopped(dir, crashed.port);
    expect(await fs.readdir(path.join(dir, 'postgres.users'))).toEqual([]);
  });

  test('a server that died leaves a stale postmaster.pid and its port taken: the next acquire starts on another port', async () => {
    const dir = await freshDir();
    const before = await acquire(dir);
    const pid = postmasterPid(dir);
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !isAlive(pid), 'the postmaster is gone');
    expect(existsSync(pidFile(dir))).toBe(true);
    const squatter = await occupy(before.port);
    try {
      const after = await acquire(dir);
      expect(after.port).not.toBe(before.port);
      expect(postmasterPid(dir)).not.toBe(pid);
      expect(await queryOne(after.url('postgres'), 'SELECT 1 AS one')).toEqual({ one: 1 });
      await before.release(); // still a live user of ours: the server stays for `after`
      expect(await portAnswers(after.port)).toBe(true);
      await after.release();
      expect(existsSync(pidFile(dir))).toBe(false);
    } finally {
      squatter.close();
    }
  });

  test('a stale postmaster.pid naming a dead pid, or a pid now used by another process, does not block a start', async () => {
    const dir = await freshDir();
    const first = await acquire(dir);
    const recorded = readFileSync(pidFile(dir), 'utf8');
    await first.release();
    const squatter = await occupy(first.port);
    try {
      for (const pid of [deadPid(), process.pid]) {
        await fs.writeFile(pidFile(dir), recorded.replace(/^\d+/, String(pid)));
        const server = await acquire(dir);
        expect(server.port).not.toBe(first.port);
        expect(await queryOne(server.url('postgres'), 'SELECT 1 AS one')).toEqual({ one: 1 });
        await server.release();
        await expectStopped(dir, server.port);
      }
    } finally {
      squatter.close();
    }
  });

  test('an interrupted initdb leaves only debris; a cluster whose password file is gone is refused, never wiped', async () => {
    const dir = await freshDir();
    await fs.mkdir(path.join(dir, 'postgres.initdb-0badc0de'));
    await fs.writeFile(path.join(dir, 'postgres.initdb-0badc0de', 'PG_VERSION'), '18\n');
    await (await acquire(dir)).release();
    expect((await fs.readdir(dir)).filter((name) => name.startsWith('postgres.initdb-'))).toEqual([]);

    await fs.rm(path.join(dir, 'postgres.password'));
    await expect(acquire(dir)).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE', message: expect.stringMatching(/no password file/) });
    expect(existsSync(path.join(dir, 'postgres-data', 'PG_VERSION'))).toBe(true);
  });

  test('a lock left by a dead process, or an ownerless lock dir from a crash, is broken', async () => {
    const dir = await freshDir();
    await (await acquire(dir)).release();
    const lock = path.join(dir, 'postgres.lock');

    await fs.mkdir(lock);
    await fs.writeFile(path.join(lock, 'owner'), `${deadPid()}-0`);
    await (await acquire(dir)).release();

    await fs.mkdir(lock);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lock, old, old);
    await (await acquire(dir)).release();
    expect(existsSync(lock)).toBe(false);
  });
});

describeEmbedded('several processes', () => {
  test('two processes acquiring at the same moment (first use: initdb races too) share one server, stopped after both released', async () => {
    const dir = await freshDir();
    const [a, b] = await Promise.all([spawnUser(dir), spawnUser(dir)]);
    expect(a.port).toBe(b.port);
    const pid = postmasterPid(dir);

    await a.release();
    expect(await portAnswers(b.port)).toBe(true);
    expect(postmasterPid(dir)).toBe(pid);

    await b.release();
    await expectStopped(dir, b.port);
  });
});

// As root the server runs as the OS user `postgres`, which cannot enter a project under a mode-700
// directory (a clone in /root): PGDATA then lives outside, behind the postgres-data symlink.
const describeAsRoot = describe.skipIf(Boolean(process.env.FLEET_TEST_DATABASE_URL) || process.getuid?.() !== 0);

describeAsRoot('a directory the postgres user cannot reach', () => {
  const outside: string[] = [];
  afterEach(async () => {
    for (const dir of outside.splice(0)) await fs.rm(dir, { recursive: true, force: true });
  });

  test('PGDATA moves to a postgres-owned directory outside, keyed by the path; crash recovery works there too', async () => {
    const locked = await freshDir();
    await fs.chmod(locked, 0o700);
    const dir = path.join(locked, 'project', '.fleet');
    const postgresUid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());

    const first = await acquire(dir);
    const link = path.join(dir, 'postgres-data');
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
    const dataDir = await fs.readlink(link);
    outside.push(path.dirname(dataDir));
    expect(dataDir.startsWith(locked)).toBe(false);
    expect((await fs.stat(dataDir)).uid).toBe(postgresUid);
    expect((await fs.stat(path.dirname(dataDir))).mode & 0o022).toBe(0);
    expect(await queryOne(first.url('postgres'), 'SELECT 1 AS one')).toEqual({ one: 1 });
    await first.release();
    await expectStopped(dir, first.port);

    // A user killed with SIGKILL: the next one adopts its server (same port, same postmaster), and stops it on release.
    const crashed = await spawnUser(dir);
    const pid = postmasterPid(dir);
    crashed.child.kill('SIGKILL');
    await waitUntil(() => crashed.child.exitCode !== null || crashed.child.signalCode !== null, 'the user process is gone');
    const adopter = await acquire(dir);
    expect(adopter.port).toBe(crashed.port);
    expect(postmasterPid(dir)).toBe(pid);
    await adopter.release();
    await expectStopped(dir, adopter.port);
    expect(isAlive(pid)).toBe(false);

    // The same path again after the project was removed: a fresh cluster over the old one's debris.
    await fs.rm(path.join(locked, 'project'), { recursive: true, force: true });
    const fresh = await acquire(dir);
    expect(await fs.readlink(link)).toBe(dataDir);
    expect(await queryOne(fresh.url('postgres'), 'SELECT 1 AS one')).toEqual({ one: 1 });
    await fresh.release();
    await expectStopped(dir, fresh.port);
  });
});
