/**
 * A database of its own for each test file, on the run's server (embedded, or
 * FLEET_TEST_DATABASE_URL): test files run in parallel and never see each other's tenants.
 *
 *   const db = useTestDatabase('migrate');          // at the top of a test file
 *   test('...', async () => { const url = db().url; ... });
 *
 * or, by hand: `const db = await createTestDatabase('migrate'); ... await db.drop();`
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { quoteIdent } from '../../../src/db/quote.ts';
import { dropAccessRoles } from '../../../src/access/cleanup.ts';

export interface TestDatabase {
  /** Superuser URL of the new database. */
  readonly url: string;
  readonly name: string;
  /**
   * Drops the access roles the database's fleet made (roles are cluster-wide and would outlive it),
   * then DROP DATABASE ... WITH (FORCE): connections still open are closed by the server.
   */
  drop(): Promise<void>;
}

/** Superuser URL of the run's server (its maintenance database). */
export function adminUrl(): string {
  return inject('fleetTestAdminUrl');
}

/** The URL of another database on the same server, same credentials and options. */
export function databaseUrl(name: string, base = adminUrl()): string {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const admin = adminUrl();
  // fleet_test_ marks leftovers of crashed runs on a shared external server.
  const name = `fleet_test_${sanitize(prefix)}_${randomBytes(5).toString('hex')}`;
  await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));
  let dropped = false;
  return {
    name,
    url: databaseUrl(name, admin),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin(databaseUrl(name, admin), (client) => dropAccessRoles(client)).catch((error: unknown) => {
        // The database is dropped all the same; global-setup sweeps orphaned roles on an external server.
        if ((error as { code?: string }).code !== '3D000')
          console.warn(`could not drop the access roles of test database ${name}: ${(error as Error).message}`);
      });
      await withAdmin(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
}

/** createTestDatabase in beforeAll, drop in afterAll; the getter is valid inside tests and hooks. */
export function useTestDatabase(prefix?: string): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(prefix);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return () => {
    if (!database) throw new Error('useTestDatabase(): the database exists only inside tests and hooks, after beforeAll');
    return database;
  };
}

function sanitize(prefix: string): string {
  const cleaned = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 30);
  return cleaned.length > 0 ? cleaned : 'test';
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
