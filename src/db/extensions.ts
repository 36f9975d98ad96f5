import type pg from 'pg';
import { FleetError } from '../errors.ts';
import { quoteIdent } from './quote.ts';
import { withTransaction } from './scoped.ts';
import { EXTENSIONS_SCHEMA } from './search-path.ts';

// Arbitrary but fixed, next to the control schema's: serializes extension installs across runners.
const EXTENSIONS_LOCK_KEY = 7_345_120_002;

const INSTALLED_SQL = `SELECT e.extname AS name, n.nspname AS schema
  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = ANY($1::text[])`;

/**
 * Install the fleet's extensions in the shared schema when the runner connects, like the control
 * schema: one query when all are there. Tenant roles get USAGE on the schema through PUBLIC and
 * nothing else there (no CREATE): a role created after this needs no grant of its own, and USAGE
 * only lets a role look names up; what it may call is governed by the objects' own privileges.
 * An extension already installed in another schema is refused, naming it, not moved silently:
 * objects elsewhere may depend on where it is.
 */
export async function ensureExtensions(client: pg.ClientBase, extensions: readonly string[]): Promise<void> {
  if (extensions.length === 0) return;
  const check = async () => (await client.query<{ name: string; schema: string }>(INSTALLED_SQL, [extensions])).rows;
  const installed = await check();
  const elsewhere = installed.filter((e) => e.schema !== EXTENSIONS_SCHEMA);
  if (elsewhere.length > 0) {
    throw new FleetError(
      'CONFIG_INVALID',
      `extensions of the fleet description are installed outside the shared schema ${EXTENSIONS_SCHEMA}, where tenants would not find them (or a purge could drop them); move each (a database owner: ALTER EXTENSION name SET SCHEMA ${EXTENSIONS_SCHEMA}) and run again:`,
      elsewhere.map((e) => `${e.name} is in schema ${e.schema}`),
    );
  }
  if (installed.length === extensions.length) return;
  await withTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [EXTENSIONS_LOCK_KEY]);
    const s = quoteIdent(EXTENSIONS_SCHEMA);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}; REVOKE ALL ON SCHEMA ${s} FROM PUBLIC; GRANT USAGE ON SCHEMA ${s} TO PUBLIC`);
    for (const name of extensions) {
      try {
        // CASCADE: an extension another one requires lands in the shared schema too.
        await client.query(`SAVEPOINT ext; CREATE EXTENSION IF NOT EXISTS ${quoteIdent(name)} SCHEMA ${s} CASCADE; RELEASE SAVEPOINT ext`);
      } catch (error) {
        throw new FleetError(
          'CONFIG_INVALID',
          `cannot install extension ${name} (fleet description "extensions") in schema ${EXTENSIONS_SCHEMA}: ${(error as Error).message}. Check that the database offers it (SELECT name FROM pg_available_extensions) and that the migrator may create it.`,
        );
      }
    }
  });
}
