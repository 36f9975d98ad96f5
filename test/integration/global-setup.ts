/**
 * One PostgreSQL for the whole integration run: FLEET_TEST_DATABASE_URL when set, else an
 * embedded server in a fresh temp dir, tuned for speed (a test database is disposable). Tests
 * reach it through `inject('fleetTestAdminUrl')`, in practice through helpers/database.ts.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { acquireEmbeddedServer, stopEmbeddedServerIfUnused } from '../../src/db/embedded/index.ts';
import { sweepOrphanedAccessRoles } from '../../src/access/cleanup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's server; createTestDatabase() makes a database per test file on it. */
    fleetTestAdminUrl: string;
  }
}

/** Every temp dir the integration tests create starts so, which lets a later run sweep what a killed run left. */
export const TEMP_DIR_PREFIX = 'tenant-fleet-test-';

/** Durability buys nothing for data thrown away at the end of the run. */
export const FAST_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } as const;

/** Leftovers younger than this may belong to a run still starting up in another terminal. */
const LEFTOVER_AGE_MS = 5 * 60_000;

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.FLEET_TEST_DATABASE_URL;
  if (external) {
    project.provide('fleetTestAdminUrl', external);
    console.log(`integration tests on ${await serverVersion(external)} at FLEET_TEST_DATABASE_URL (${redact(external)})`);
    await sweepOrphanedRoles(external);
    return undefined;
  }

  await sweepLeftovers();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${TEMP_DIR_PREFIX}run-`));
  const server = await acquireEmbeddedServer({ dir, settings: FAST_SETTINGS });
  const url = server.url('postgres');
  project.provide('fleetTestAdminUrl', url);
  console.log(`integration tests on ${await serverVersion(url)} (embedded, port ${server.port}, ${dir})`);
  return async () => {
    await server.release();
    await fs.rm(dir, { recursive: true, force: true });
  };
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return `PostgreSQL ${result.rows[0]?.server_version ?? '?'}`;
  } finally {
    await client.end();
  }
}

/**
 * Roles are cluster-wide: access roles of test databases that a killed run left behind would pile up
 * on a shared server. Drop those whose prefix no existing database claims (never a live database's,
 * so a concurrent run is safe); only the fleet's role shapes are considered. Best effort.
 */
async function sweepOrphanedRoles(url: string): Promise<void> {
  const connect = async (database: string) => {
    const u = new URL(url);
    u.pathname = `/${encodeURIComponent(database)}`;
    const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 10_000 });
    await client.connect();
    return client;
  };
  try {
    const dropped = await sweepOrphanedAccessRoles(connect, { drop: true });
    if (dropped.length > 0) console.log(`dropped ${dropped.length} access roles of test databases that no longer exist`);
  } catch (error) {
    console.warn(`could not sweep orphaned access roles: ${(error as Error).message}`);
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** A run killed before its teardown leaves a server running in its temp dir: stop it, remove the dir. */
async function sweepLeftovers(): Promise<void> {
  const tmp = os.tmpdir();
  for (const name of await fs.readdir(tmp)) {
    if (!name.startsWith(TEMP_DIR_PREFIX)) continue;
    const dir = path.join(tmp, name);
    try {
      const stat = await fs.stat(dir);
      if (!stat.isDirectory() || Date.now() - stat.mtimeMs < LEFTOVER_AGE_MS) continue;
      if ((await stopEmbeddedServerIfUnused(dir, { timeoutMs: 5_000 })) === 'in-use') continue;
      await fs.rm(dir, { recursive: true, force: true });
    } catch {
      // Someone else's dir, or one being swept by a parallel run: not ours to worry about.
    }
  }
}
