import type { Fleet } from '../fleet.ts';
import { assertTenantIds } from '../tenants/ids.ts';

/**
 * The ids of the list that no region has registered, in the order given. Commands acting on
 * several tenants check this first, so a typo in a list is refused before any tenant changes.
 */
export async function unknownTenants(fleet: Fleet, ids: readonly string[]): Promise<string[]> {
  assertTenantIds(ids);
  const known = new Set<string>();
  await Promise.all(
    fleet.regions.map(async (region) => {
      const { rows } = await region.query<{ id: string }>('SELECT id FROM fleet.tenants WHERE id = ANY($1::text[])', [[...ids]]);
      for (const r of rows) known.add(r.id);
    }),
  );
  return ids.filter((id) => !known.has(id));
}
