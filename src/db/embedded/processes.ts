/** Process liveness that survives pid reuse: what the users registry, the lock and the server checks rely on. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Alive and not a zombie (a server we spawned and that exited stays a zombie until reaped). */
export function isProcessAlive(pid: number): boolean {
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
export function isPostmasterOf(pid: number, dataDir: string): boolean {
  if (process.platform !== 'linux') return true;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000');
    return path.basename(argv[0] ?? '') === 'postgres' && argv.includes(dataDir);
  } catch {
    return false;
  }
}

/** "<pid>-<start time>": the start time tells a live process from a later one that got the same pid. */
export function processIdentity(pid = process.pid): string {
  return `${pid}-${procStat(pid)?.startTime ?? '0'}`;
}

/** Whether the process a processIdentity() names is still that process and alive. */
export function isIdentityAlive(identity: string): boolean {
  const [pidText, startTime] = identity.split('-');
  const pid = Number(pidText);
  if (!isProcessAlive(pid)) return false;
  return startTime === undefined || startTime === '0' || procStat(pid)?.startTime === startTime || process.platform !== 'linux';
}

/** Send a signal, ignoring a process that is already gone. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
