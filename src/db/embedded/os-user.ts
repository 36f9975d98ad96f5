/**
 * The OS user the server runs as. PostgreSQL refuses to run as root, so as root it runs as the
 * `postgres` user (created when missing); anyone else runs it as themselves.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { FleetError } from '../../errors.ts';

export interface OsUser {
  readonly uid: number;
  readonly gid: number;
}

export const OS_USER = 'postgres';

/** The user to run initdb and the server as: undefined (this process's own user) unless we are root. */
export async function serverOsUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookupOsUser();
  if (existing) return existing;
  await execa('groupadd', ['--system', OS_USER], { reject: false });
  const created = await execa('useradd', ['--system', '--no-create-home', '--gid', OS_USER, '--shell', '/usr/sbin/nologin', OS_USER], {
    reject: false,
  });
  const user = await lookupOsUser();
  if (!user) {
    throw new FleetError(
      'DATABASE_UNAVAILABLE',
      `cannot create the OS user ${JSON.stringify(OS_USER)} the embedded PostgreSQL runs as (PostgreSQL refuses to run as root): ${created.stderr || created.message}. Create it (useradd --system ${OS_USER}), run as a non-root user, or set FLEET_DATABASE_URL to a server of your own.`,
    );
  }
  return user;
}

async function lookupOsUser(): Promise<OsUser | undefined> {
  const [uid, gid] = await Promise.all([execa('id', ['-u', OS_USER], { reject: false }), execa('id', ['-g', OS_USER], { reject: false })]);
  if (uid.exitCode !== 0 || gid.exitCode !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * The first ancestor of `target` (itself excluded) that `user` cannot enter, if any: a server
 * user that cannot reach a path can neither run a binary nor open a data directory below it.
 * Supplementary groups are not consulted, so this may call a reachable path unreachable, never
 * the reverse.
 */
export async function unreachableAncestor(target: string, user: OsUser): Promise<{ dir: string; mode: number } | undefined> {
  for (let current = path.dirname(target); ; current = path.dirname(current)) {
    const s = await fs.stat(current);
    const traversable =
      (s.uid === user.uid && (s.mode & 0o100) !== 0) || (s.gid === user.gid && (s.mode & 0o010) !== 0) || (s.mode & 0o001) !== 0;
    if (!traversable) return { dir: current, mode: s.mode & 0o777 };
    if (current === path.dirname(current)) return undefined;
  }
}
