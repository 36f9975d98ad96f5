import pg from 'pg';
import type { RegionDatabase } from '../db/region-database.ts';

/**
 * A small pool of the copy's own on a region's database: in the source the copy holds a lease
 * connection, the snapshot it streams from and, for tables with generated columns, a second
 * reader of that snapshot, and writes its audit events meanwhile; more than the region's control
 * pool (one) allows, and it must not take the tenant pool's connections from a run.
 */
export function copyPool(region: RegionDatabase): pg.Pool {
  const pool = new pg.Pool({ ...region.connectionConfig, max: 4, idleTimeoutMillis: 5_000, application_name: 'fleet-copy' });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Run fn with a copy pool per region named, and close them after. */
export async function withCopyPools<T>(regions: readonly RegionDatabase[], fn: (pools: Map<string, pg.Pool>) => Promise<T>): Promise<T> {
  const pools = new Map(regions.map((r) => [r.name, copyPool(r)]));
  try {
    return await fn(pools);
  } finally {
    await Promise.all([...pools.values()].map((p) => p.end()));
  }
}
