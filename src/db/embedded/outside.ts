/**
 * Directories outside the project, for a root process whose project the `postgres` user cannot
 * reach (a clone under /root, mode 700): the server's data directory and a copy of the binaries
 * live there instead, owned by root and entered by the server user.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import { FleetError } from '../../errors.ts';

/** /var/tmp survives a reboot (a dev database should too) and is open to every user; else the OS temp dir. */
export function outsideBase(): string {
  return process.platform !== 'win32' && existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();
}

/**
 * Create `dir` (mode 0755) unless it exists, and check that nobody but us could have put anything
 * in it: the base is world-writable, so a directory of the expected name made by another user, or
 * a symlink, would let that user choose what the server runs or stores.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.chmod(dir, 0o755);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = await fs.lstat(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
    throw new FleetError(
      'DATABASE_UNAVAILABLE',
      `${dir} exists but is not a directory owned by this user and writable by it alone (uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}${stat.isSymbolicLink() ? ', a symlink' : ''}), so the embedded PostgreSQL cannot trust it. Remove it and retry.`,
    );
  }
}
