/**
 * The postmaster: finding the one running on a data directory, starting it detached (so it
 * outlives whichever process started it), and stopping it. A server that died leaves a stale
 * postmaster.pid that PostgreSQL itself (or we, when its pid was reused) clears; a port taken
 * meanwhile is never reused: every start picks a free one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { FleetError } from '../../errors.ts';
import { findBinaries } from './binaries.ts';
import { ensureReachable, type Context, type Layout } from './data-dir.ts';
import { serverOsUser, type OsUser } from './os-user.ts';
import { isPostmasterOf, isProcessAlive, signal } from './processes.ts';
import { fileSize, readFrom, sleep, tail } from './util.ts';

const POLL_MS = 10;
const MAX_LOG_BYTES = 10 * 1024 * 1024;
const START_ATTEMPTS = 5;

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
export async function findRunningServer(ctx: Context): Promise<{ pid: number; port: number } | undefined> {
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
      throw new FleetError(
        'DATABASE_UNAVAILABLE',
        `the embedded PostgreSQL in ${ctx.layout.dataDir} (pid ${state.pid}) stays in state ${JSON.stringify(state.status)}. See ${ctx.layout.logFile}; stop it (kill -INT ${state.pid}) and retry.`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** Start the server on a free port, retrying when the port or the old server's shared memory is still taken; returns the port. */
export async function startServer(ctx: Context): Promise<number> {
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
    const retryable =
      /could not bind|Address already in use|could not create any TCP\/IP sockets|shared memory block is still in use|lock file .* already exists/i.test(
        outcome.log,
      );
    if (!retryable) break;
    await sleep(200 * attempt);
  }
  throw new FleetError(
    'DATABASE_UNAVAILABLE',
    `the embedded PostgreSQL in ${ctx.layout.dataDir} did not start: ${tail(lastFailure)}. See ${ctx.layout.logFile}; fix the cause and retry, or set FLEET_DATABASE_URL to a server of your own.`,
  );
}

type SpawnOutcome = { kind: 'ready' } | { kind: 'failed'; log: string };

/**
 * Spawn the postmaster detached (own session, log file as stdio) so it outlives us, then poll
 * postmaster.pid for "ready": faster than pg_ctl -w, which polls ten times a second.
 */
async function spawnPostmaster(ctx: Context, port: number, user: OsUser | undefined): Promise<SpawnOutcome> {
  const { postgres } = await findBinaries(user);
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
    // The working directory too must be one the server user can enter.
    child = spawn(postgres, args, {
      ...user,
      cwd: path.dirname(layout.dataDir),
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: { ...process.env, LC_ALL: 'C' },
    });
  } finally {
    await log.close();
  }
  child.unref();
  let exited: string | undefined;
  child.once('exit', (code, signalName) => (exited = `exited with ${signalName ?? `code ${String(code)}`}`));
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
export async function stopServer(ctx: Context, pid: number): Promise<void> {
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
      if (!gone())
        throw new FleetError(
          'DATABASE_UNAVAILABLE',
          `the embedded PostgreSQL in ${ctx.layout.dataDir} (pid ${pid}) does not stop. See ${ctx.layout.logFile}; kill it (kill -QUIT ${pid}).`,
        );
      return;
    }
    await sleep(POLL_MS);
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
