import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { assertTenantId } from '../tenants/ids.ts';
import type { TenantStatus } from '../tenants/tenant-row.ts';

/** A tenant's registry row and copy row in one region, as a move reads them. */
export interface RegionSide {
  readonly region: RegionDatabase;
  readonly status: TenantStatus;
  readonly schema: string;
  readonly movedFrom: string | null;
  readonly createdAt: Date;
  readonly copy: {
    readonly direction: 'out' | 'in';
    readonly kind: string;
    readonly peer: string;
    readonly phase: 'copying' | 'verified' | 'failed';
    readonly details: Record<string, unknown>;
  } | null;
}

interface SideRow {
  status: TenantStatus;
  schema_name: string;
  moved_from: string | null;
  created_at: Date;
  direction: 'out' | 'in' | null;
  kind: string | null;
  peer: string | null;
  phase: 'copying' | 'verified' | 'failed' | null;
  details: Record<string, unknown> | null;
}

/** Every region's registry row of the tenant (and its copy row), in parallel. */
export async function readSides(fleet: Fleet, id: string): Promise<RegionSide[]> {
  assertTenantId(id);
  const found = await Promise.all(
    fleet.regions.map(async (region): Promise<RegionSide | undefined> => {
      const { rows } = await region.query<SideRow>(
        `SELECT t.status, t.schema_name, t.moved_from, t.created_at, c.direction, c.kind, c.peer, c.phase, c.details
           FROM fleet.tenants t LEFT JOIN fleet.tenant_copies c ON c.tenant_id = t.id WHERE t.id = $1`,
        [id],
      );
      const row = rows[0];
      if (!row) return undefined;
      return {
        region,
        status: row.status,
        schema: row.schema_name,
        movedFrom: row.moved_from,
        createdAt: row.created_at,
        copy:
          row.direction && row.kind && row.peer && row.phase
            ? { direction: row.direction, kind: row.kind, peer: row.peer, phase: row.phase, details: row.details ?? {} }
            : null,
      };
    }),
  );
  return found.filter((s): s is RegionSide => s !== undefined);
}

/**
 * Where a move stands, from both registries. The source region's registry is the truth until the
 * target's row turns 'active' (one commit in the target database): from then on the target's is,
 * and the source's row (status 'moving', never served) only waits to be dropped.
 * - not-started: no copy row anywhere;
 * - copying: started, not verified (or killed while copying: start again, or roll back);
 * - ready-to-commit: the target copy is verified; commit switches;
 * - failed: the copy did not verify; the target copy was dropped and the source serves again;
 * - committed: the target serves; the source's data may still be being dropped (commit finishes it).
 */
export type MoveStatus = 'not-started' | 'copying' | 'ready-to-commit' | 'failed' | 'committed';

export interface MoveSituation {
  readonly status: MoveStatus;
  readonly source?: RegionSide;
  readonly target?: RegionSide;
}

export function moveSituation(sides: readonly RegionSide[]): MoveSituation {
  const source = sides.find((s) => s.copy?.direction === 'out' && s.copy.kind === 'move');
  const movedIn = sides.find(
    (s) =>
      s.status === 'active' && s.movedFrom !== null && s.copy === null && (source === undefined || source.copy?.peer === s.region.name),
  );
  if (source && movedIn) return { status: 'committed', source, target: movedIn };
  if (!source) {
    const active = sides.find((s) => s.status === 'active');
    return active ? { status: 'not-started', source: active } : { status: 'not-started', ...(sides[0] ? { source: sides[0] } : {}) };
  }
  const target = sides.find((s) => s.region.name === source.copy?.peer);
  if (source.copy?.phase === 'failed') return { status: 'failed', source, ...(target ? { target } : {}) };
  if (source.copy?.phase === 'verified' && target?.copy?.phase === 'verified') return { status: 'ready-to-commit', source, target };
  return { status: 'copying', source, ...(target ? { target } : {}) };
}
