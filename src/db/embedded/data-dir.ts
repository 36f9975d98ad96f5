/**
 * The directory an embedded server belongs to, and its cluster (PGDATA).
 *
 * Layout under `dir` (the caller's `.fleet/` or FLEET_HOME):
 *   postgres-data        PGDATA, owned by the OS user the server runs as; or, when that user
 *                        cannot reach `dir` (root in a clone under /root), a symlink to PGDATA in
 *                        /var/tmp/tenant-fleet-data-<name>-<hash of dir>/
 *   postgres.password    the superuser's password (0600)
 *   postgres.log         server log (appended)
 *   postgres.users/      one empty file per live user (lock.ts)
 *   postgres.lock/       mutex around every start/stop decision (lock.ts)
 *   postgres.initdb-*    scratch of an initdb in progress (beside PGDATA), renamed to PGDATA when complete
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { FleetError } from '../../errors.ts';
import { findBinaries } from './binaries.ts';
import { OS_USER, serverOsUser, unreachableAncestor, type OsUser } from './os-user.ts';
import { ensurePrivateDir, outsideBase } from './outside.ts';
import { tail } from './util.ts';
import { isProcessAlive } from './processes.ts';

export const SUPERUSER = 'postgres';

export interface Layout {
  /** The caller's directory (canonical path). */
  readonly dir: string;
  /** PGDATA itself (canonical: the postmaster's command line carries it, and we match on it). */
  readonly dataDir: string;
  /** `dir/postgres-data`: PGDATA, or the symlink to it. */
  readonly dataLink: string;
  readonly passwordFile: string;
  readonly logFile: string;
  readonly usersDir: string;
  readonly lockDir: string;
}

/** What every step of acquire and release needs. */
export interface Context {
  readonly layout: Layout;
  readonly settings: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
  readonly timeoutMs: number;
}

/** Create `dir` when missing and say where everything of its server lives. */
export async function prepareLayout(dir: string): Promise<Layout> {
  await fs.mkdir(dir, { recursive: true });
  const root = await fs.realpath(dir);
  await fs.mkdir(path.join(root, 'postgres.users'), { recursive: true });
  const dataLink = path.join(root, 'postgres-data');
  return {
    dir: root,
    dataDir: await placeDataDir(root, dataLink),
    dataLink,
    passwordFile: path.join(root, 'postgres.password'),
    logFile: path.join(root, 'postgres.log'),
    usersDir: path.join(root, 'postgres.users'),
    lockDir: path.join(root, 'postgres.lock'),
  };
}

/**
 * Where PGDATA is: wherever the pointer says once a cluster exists; for a new cluster, in `dir`
 * unless the server user cannot reach it, else outside, keyed by `dir`'s path (deterministic,
 * so processes racing to initialise agree).
 */
async function placeDataDir(dir: string, dataLink: string): Promise<string> {
  const link = await fs.lstat(dataLink).catch(() => undefined);
  if (link?.isSymbolicLink()) return path.resolve(dir, await fs.readlink(dataLink));
  if (existsSync(path.join(dataLink, 'PG_VERSION'))) return dataLink;
  // `dir` itself is made traversable (ensureReachable); its ancestors are not ours to change.
  const user = await serverOsUser();
  if (!user || !(await unreachableAncestor(dir, user))) return dataLink;
  return path.join(outsideDataRoot(dir), 'postgres-data');
}

/** `/var/tmp/tenant-fleet-data-<name>-<hash>`: the name for whoever lists /var/tmp, the hash of the full path for uniqueness. */
export function outsideDataRoot(dir: string): string {
  const name = path
    .basename(path.dirname(dir))
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 40);
  const hash = createHash('sha256').update(dir).digest('hex').slice(0, 16);
  return path.join(outsideBase(), `tenant-fleet-data-${name}-${hash}`);
}

/** In each data root outside: the directory it belongs to, so that a root whose directory is gone can be found and removed. */
const OWNER_FILE = 'owner';
const OUTSIDE_ROOT_PATTERN = /^tenant-fleet-data-[A-Za-z0-9._-]*-[0-9a-f]{16}$/;

/**
 * Remove the data roots outside whose directory is gone (a deleted clone, a CI run's temporary
 * FLEET_HOME): nothing can reach their cluster any more, and each holds a whole PostgreSQL data
 * directory. Kept: roots of this user's that still have their directory and its postgres-data
 * link to them, roots without an owner file (not ours to judge), any being initialised or whose
 * directory's lock is held, and any whose postmaster runs.
 * Run before a new root is made, so that at most the last one of a removed directory lingers.
 */
export async function sweepOrphanedDataRoots(log: (line: string) => void): Promise<string[]> {
  const base = outsideBase();
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of await fs.readdir(base).catch(() => [] as string[])) {
    if (!OUTSIDE_ROOT_PATTERN.test(name)) continue;
    const root = path.join(base, name);
    const stat = await fs.lstat(root).catch(() => undefined);
    if (!stat?.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
    const owner = (await fs.readFile(path.join(root, OWNER_FILE), 'utf8').catch(() => '')).trim();
    if (!owner || outsideDataRoot(owner) !== root) continue;
    const link = await fs.readlink(path.join(owner, 'postgres-data')).catch(() => undefined);
    if (link !== undefined && path.resolve(owner, link) === path.join(root, 'postgres-data')) continue;
    // Being set up right now (the link comes last), or its directory's lock is held.
    if ((await fs.readdir(root).catch(() => [] as string[])).some((entry) => entry.startsWith('postgres.initdb-'))) continue;
    if (existsSync(path.join(owner, 'postgres.lock'))) continue;
    const pid = Number((await fs.readFile(path.join(root, 'postgres-data', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (pid > 0 && isProcessAlive(pid)) continue;
    log(`removing ${root}: the embedded PostgreSQL data of ${owner}, which no longer exists`);
    await fs.rm(root, { recursive: true, force: true });
    removed.push(root);
  }
  return removed;
}

/** Whether PGDATA lives outside `dir` (behind the postgres-data symlink). */
function isOutside(layout: Layout): boolean {
  return layout.dataDir !== layout.dataLink;
}

/**
 * Make the server user able to reach PGDATA: our own directory traversable when PGDATA is in it,
 * and an error naming any ancestor that is not.
 */
export async function ensureReachable(layout: Layout, user: OsUser): Promise<void> {
  const parent = path.dirname(layout.dataDir);
  if (!isOutside(layout)) {
    const stat = await fs.stat(parent);
    if ((stat.mode & 0o001) === 0) await fs.chmod(parent, (stat.mode & 0o7777) | 0o711);
  }
  const blocked = await unreachableAncestor(layout.dataDir, user);
  if (blocked) {
    throw new FleetError(
      'DATABASE_UNAVAILABLE',
      `the embedded PostgreSQL runs as OS user ${JSON.stringify(OS_USER)}, which cannot enter ${blocked.dir} (mode ${blocked.mode.toString(8)}) on the way to ${layout.dataDir}. Allow it (chmod o+x ${blocked.dir}), keep the project elsewhere, or set FLEET_DATABASE_URL.`,
    );
  }
}

/**
 * Initialise the cluster unless it exists. initdb works in a scratch dir renamed into place when
 * complete, so an interrupted one leaves only debris to clear, and an existing data dir is never
 * wiped for want of a password file.
 */
export async function ensureInitialised(ctx: Context): Promise<void> {
  const { layout } = ctx;
  // A cluster outside counts only while our symlink points to it: without one, it is what a removed project directory at this path left.
  const pointedTo = !isOutside(layout) || (await fs.lstat(layout.dataLink).catch(() => undefined))?.isSymbolicLink() === true;
  if (pointedTo && existsSync(path.join(layout.dataDir, 'PG_VERSION'))) {
    if (existsSync(layout.passwordFile)) return;
    throw new FleetError(
      'DATABASE_UNAVAILABLE',
      `the embedded PostgreSQL in ${layout.dataDir} has no password file ${layout.passwordFile}, so nothing can log in to it. Restore that file, or remove ${layout.dir} to start afresh (its data is lost).`,
    );
  }
  ctx.log(`initialising an embedded PostgreSQL cluster in ${layout.dataDir}`);
  const user = await serverOsUser();
  const parent = path.dirname(layout.dataDir);
  if (isOutside(layout)) {
    await sweepOrphanedDataRoots(ctx.log);
    await ensurePrivateDir(parent);
    await fs.writeFile(path.join(parent, OWNER_FILE), `${layout.dir}\n`, { mode: 0o644 });
  }
  if (user) await ensureReachable(layout, user);
  for (const name of await fs.readdir(parent)) {
    if (name.startsWith('postgres.initdb-')) await fs.rm(path.join(parent, name), { recursive: true, force: true });
  }
  const scratch = path.join(parent, `postgres.initdb-${randomBytes(4).toString('hex')}`);
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
  // A data dir without PG_VERSION holds nothing: debris of an earlier try, or of a removed project directory at this path.
  await fs.rm(layout.dataDir, { recursive: true, force: true });
  await fs.rename(scratch, layout.dataDir);
  if (isOutside(layout)) {
    const pointer = `${layout.dataLink}.tmp-${randomBytes(4).toString('hex')}`;
    await fs.symlink(layout.dataDir, pointer);
    await fs.rm(layout.dataLink, { recursive: true, force: true });
    await fs.rename(pointer, layout.dataLink);
  }
}

async function runInitdb(ctx: Context, dataDir: string, pwfile: string, user: OsUser | undefined): Promise<void> {
  const { initdb } = await findBinaries(user);
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
  // The working directory too must be one the server user can enter.
  const result = await execa(initdb, args, { ...user, cwd: path.dirname(dataDir), reject: false, all: true, env: { LC_ALL: 'C' } });
  if (result.exitCode !== 0) {
    throw new FleetError(
      'DATABASE_UNAVAILABLE',
      `initdb failed for the embedded PostgreSQL in ${ctx.layout.dir} (exit ${String(result.exitCode)}): ${tail(result.all ?? result.message)}. Fix the cause above and retry; removing ${ctx.layout.dir} starts afresh.`,
    );
  }
}
