import type pg from 'pg';
import { FleetError } from '../errors.ts';
import type { MigrationFile } from '../migrate/migration-files.ts';

/** The tenant's applied migrations, oldest first, from the ledger of the database client is on. */
export async function readTenantLedger(client: pg.ClientBase, tenantId: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>('SELECT name FROM fleet.migrations WHERE tenant_id = $1 ORDER BY name', [tenantId]);
  return rows.map((r) => r.name);
}

/**
 * The tenant's version (its last applied migration, null for none), checked against the
 * migration files: the ledger must be the files' first migrations, in order, so that applying
 * the files up to it builds the same structure. A ledger naming a file this code does not have is
 * a source newer than this code: refused, before anything is made.
 */
export function ledgerVersion(tenantId: string, applied: readonly string[], files: readonly MigrationFile[]): string | null {
  const unknown = applied.filter((name) => !files.some((f) => f.name === name));
  if (unknown.length > 0) {
    throw new FleetError(
      'REFUSED',
      `tenant ${JSON.stringify(tenantId)} has migrations this code does not know (${unknown.join(', ')}): its source is newer than these migration files. Run the copy with the release that wrote them (or deploy it first); nothing was copied.`,
    );
  }
  const gap = files.slice(0, applied.length).find((f, i) => f.name !== applied[i]);
  if (gap) {
    throw new FleetError(
      'REFUSED',
      `tenant ${JSON.stringify(tenantId)} skipped migration ${gap.name} (its ledger: ${applied.join(', ')}); migrate it (\`fleet migrate --tenant ${tenantId}\`) before copying it. Nothing was copied.`,
    );
  }
  return applied.at(-1) ?? null;
}
