/**
 * The cross-process side of a server directory: a mutex around every start/stop decision, and the
 * registry of live users (the last one to release stops the server). Both survive crashes: a
 * holder or user that died is recognised by its process identity and cleared.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FleetError } from '../../errors.ts';
import type { Context, Layout } from './data-dir.ts';
import { isIdentityAlive, processIdentity } from './processes.ts';
import { ageMs, sleep } from './util.ts';

/** A lock dir with no owner file yet is only stale once its creator clearly died between mkdir and write. */
const OWNERLESS_LOCK_STALE_MS = 5_000;
/** Breaking a stale lock takes milliseconds; a break marker older than this was left by a crash. */
const BREAK_MARKER_STALE_MS = 10_000;

/** Record this process as a user of the server; returns the file to remove on release. */
export async function registerUser(layout: Layout): Promise<string> {
  const file = path.join(layout.usersDir, `${processIdentity()}-${randomBytes(4).toString('hex')}`);
  await fs.writeFile(file, '');
  return file;
}

/** The live users' files, deleting those of processes that died without releasing. */
export async function liveUsers(layout: Layout): Promise<string[]> {
  const live: string[] = [];
  for (const name of await fs.readdir(layout.usersDir)) {
    const [pid, startTime] = name.split('-');
    if (isIdentityAlive(`${pid ?? ''}-${startTime ?? ''}`)) live.push(name);
    else await fs.rm(path.join(layout.usersDir, name), { force: true });
  }
  return live;
}

/** Run `fn` holding the directory's lock (mkdir is atomic), waiting up to ctx.timeoutMs for it. */
export async function withDirLock<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
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
      throw new FleetError(
        'DATABASE_UNAVAILABLE',
        `another process has held ${dir} for over ${ctx.timeoutMs} ms (owner ${(await readOwner(dir)) ?? 'unknown'}). If no fleet process is running, remove that directory and retry.`,
      );
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
