import type pg from 'pg';
import { FleetError } from '../errors.ts';

/** The newest migration any active tenant of the database has applied; null for a region without tenants. */
export async function regionVersion(client: pg.ClientBase): Promise<string | null> {
  const { rows } = await client.query<{ version: string | null }>(
    `SELECT max(m.name) AS version FROM fleet.migrations m JOIN fleet.tenants t ON t.id = m.tenant_id WHERE t.status = 'active'`,
  );
  return rows[0]?.version ?? null;
}

/**
 * A tenant moves only to a region at its own migration version: its copy is built to the
 * source's version, and a region behind or ahead would hold it at a version its runner did not
 * choose. Refused before anything is copied, with the command that fixes it.
 */
export function assertSameVersion(
  tenantId: string,
  source: { region: string; version: string | null },
  target: { region: string; version: string | null },
): void {
  if (target.version === null || target.version === source.version) return;
  const sourceAt = source.version ?? 'no migration';
  if (source.version === null || target.version > source.version) {
    throw new FleetError(
      'REFUSED',
      `region ${target.region} is at migration ${target.version}, ahead of tenant ${tenantId} (${sourceAt} in region ${source.region}): migrate the tenant first (\`fleet migrate --tenant ${tenantId}\`), then move it. Nothing was copied.`,
    );
  }
  throw new FleetError(
    'REFUSED',
    `region ${target.region} is at migration ${target.version}, behind tenant ${tenantId} (${sourceAt} in region ${source.region}): migrate the target region first (\`fleet migrate --region ${target.region}\`), then move the tenant. Nothing was copied.`,
  );
}
