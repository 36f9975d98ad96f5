import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { readMigrationFiles, type MigrationFile } from '../migrate/migration-files.ts';
import { withClient, withTransaction } from '../db/scoped.ts';
import { checkLedgerAgainstFiles, readRegionState, type RegionState, type TenantState } from '../migrate/plan.ts';
import { catalogItems, diffItems, fingerprintSchemas, type CatalogDifference } from './catalog.ts';
import { withReferenceSchema } from './reference.ts';

/**
 * `fleet verify`: every tenant's schema is what its ledger says it is.
 *
 * Per region: the registry and ledger (one query) and a fingerprint of every tenant schema's
 * catalog (one query, grouped by schema), read in one snapshot. The fingerprint is a fast,
 * strict form of the catalog (raw catalog rows, no deparsing): a tenant it sets apart is then
 * compared item by item on the deparsed catalog, which decides and explains. Then, for each distinct set of
 * applied migrations, a reference: those migrations applied to a scratch schema inside a
 * transaction that is rolled back, fingerprinted by the same query. A tenant whose fingerprint
 * differs from its reference is explained item by item (missing, extra, changed).
 */
export interface TenantDrift {
  readonly tenant: string;
  readonly region: string;
  readonly schema: string;
  readonly status: string;
  /** The last migration the ledger records (null for none). */
  readonly ledgerAt: string | null;
  readonly appliedCount: number;
  /** `schema-missing`: the ledger records migrations but the schema does not exist. */
  readonly problem: 'schema-missing' | 'differs';
  readonly difference: CatalogDifference;
}

export interface RegionVerification {
  readonly region: string;
  readonly database: string;
  readonly tenants: number;
  /** Distinct applied-migration sets, each one reference schema built. */
  readonly references: number;
  readonly drifted: number;
  /** Time of the one catalog query over every tenant schema. */
  readonly catalogQueryMs: number;
  readonly durationMs: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly tenants: number;
  readonly drifted: readonly TenantDrift[];
  readonly regions: readonly RegionVerification[];
  readonly durationMs: number;
}

export interface VerifyOptions {
  /** Only these tenants (all of the selected regions by default). */
  readonly tenants?: readonly string[];
}

/** Tenants explained per catalog query when their fingerprint differs. */
const DETAIL_BATCH = 500;

interface Snapshot {
  readonly state: RegionState;
  readonly fingerprints: Map<string, { fingerprint: string; items: number }>;
  readonly catalogQueryMs: number;
}

/** Registry, ledger and every tenant's catalog fingerprint in one repeatable-read snapshot. */
async function readSnapshot(region: RegionDatabase, wanted?: ReadonlySet<string>): Promise<Snapshot> {
  return withClient(region.controlPool, (client) =>
    withTransaction(
      client,
      async () => {
        const all = await readRegionState(region, client);
        const state = wanted ? { ...all, tenants: all.tenants.filter((t) => wanted.has(t.id)) } : all;
        const started = performance.now();
        const fingerprints = await fingerprintSchemas(
          client,
          state.tenants.map((t) => t.schema),
        );
        return { state, fingerprints, catalogQueryMs: Math.round(performance.now() - started) };
      },
      { repeatableRead: true, readOnly: true, rollback: true },
    ),
  );
}

async function verifyRegion(
  fleet: Fleet,
  region: RegionDatabase,
  files: readonly MigrationFile[],
  snapshot: Snapshot,
): Promise<{ drifted: TenantDrift[]; references: number }> {
  const byName = new Map(files.map((f) => [f.name, f]));
  const groups = new Map<string, TenantState[]>();
  const drifted: TenantDrift[] = [];
  const base = (t: TenantState) => ({
    tenant: t.id,
    region: region.name,
    schema: t.schema,
    status: t.status,
    ledgerAt: t.applied.at(-1) ?? null,
    appliedCount: t.applied.length,
  });
  for (const tenant of snapshot.state.tenants) {
    if (!snapshot.fingerprints.has(tenant.schema)) {
      // No schema: right for a tenant registered but not yet provisioned, drift otherwise.
      if (tenant.applied.length > 0) {
        drifted.push({
          ...base(tenant),
          problem: 'schema-missing',
          difference: {
            missing: [`schema ${tenant.schema} (the ledger records ${tenant.applied.length} migration(s))`],
            extra: [],
            changed: [],
          },
        });
      }
      continue;
    }
    const key = tenant.applied.join(',');
    const group = groups.get(key);
    if (group) group.push(tenant);
    else groups.set(key, [tenant]);
  }

  await withClient(region.tenantPool, async (client) => {
    for (const tenants of groups.values()) {
      const first = tenants[0] as TenantState;
      // Applied migrations in file order (the ledger check guarantees every one has a file).
      const applied = files.filter((f) => first.applied.includes(f.name));
      if (applied.length !== first.applied.length) {
        const unknown = first.applied.filter((n) => !byName.has(n));
        throw new Error(`ledger names migrations with no file: ${unknown.join(', ')}`);
      }
      await withReferenceSchema(client, applied, { statementTimeoutMs: fleet.config.runner.statementTimeoutMs }, async (scratch) => {
        const reference = (await fingerprintSchemas(client, [scratch])).get(scratch);
        const differing = tenants.filter((t) => snapshot.fingerprints.get(t.schema)?.fingerprint !== reference?.fingerprint);
        if (differing.length === 0) return;
        // The fast fingerprint is stricter than the deparsed catalog: the item-by-item comparison decides.
        const expected = (await catalogItems(client, [scratch])).get(scratch) ?? new Map<string, string>();
        for (let i = 0; i < differing.length; i += DETAIL_BATCH) {
          const batch = differing.slice(i, i + DETAIL_BATCH);
          const items = await catalogItems(
            client,
            batch.map((t) => t.schema),
          );
          for (const tenant of batch) {
            const difference = diffItems(expected, items.get(tenant.schema) ?? new Map());
            if (difference.missing.length + difference.extra.length + difference.changed.length > 0) {
              drifted.push({ ...base(tenant), problem: 'differs', difference });
            }
          }
        }
      });
    }
  });
  drifted.sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
  return { drifted, references: groups.size };
}

export async function verifyFleet(fleet: Fleet, options: VerifyOptions = {}): Promise<VerifyReport> {
  const started = performance.now();
  const files = readMigrationFiles(fleet.migrationsDir);
  const wanted = options.tenants && options.tenants.length > 0 ? new Set(options.tenants) : undefined;
  const snapshots = await Promise.all(
    fleet.regions.map(async (region) => ({ region, started: performance.now(), snapshot: await readSnapshot(region, wanted) })),
  );
  checkLedgerAgainstFiles(
    snapshots.map((s) => s.snapshot.state),
    files,
    fleet.migrationsDir,
  );
  const regions = await Promise.all(
    snapshots.map(async ({ region, started: regionStarted, snapshot }) => {
      const { drifted, references } = await verifyRegion(fleet, region, files, snapshot);
      const summary: RegionVerification = {
        region: region.name,
        database: region.description,
        tenants: snapshot.state.tenants.length,
        references,
        drifted: drifted.length,
        catalogQueryMs: snapshot.catalogQueryMs,
        durationMs: Math.round(performance.now() - regionStarted),
      };
      return { summary, drifted };
    }),
  );
  const drifted = regions.flatMap((r) => r.drifted);
  return {
    ok: drifted.length === 0,
    tenants: regions.reduce((n, r) => n + r.summary.tenants, 0),
    drifted,
    regions: regions.map((r) => r.summary),
    durationMs: Math.round(performance.now() - started),
  };
}
