import pg from 'pg';
import type { RegionTarget } from './targets.ts';
import { describeTarget } from './targets.ts';

/**
 * One regional database as the runner sees it: a pool for tenant work, sized to the run's
 * concurrency, and a single connection for control work (registry, ledger, audit). So a run never
 * holds more than concurrency + 1 connections to one database.
 */
export class RegionDatabase {
  readonly name: string;
  readonly target: RegionTarget;
  readonly tenantPool: pg.Pool;
  readonly controlPool: pg.Pool;
  private readonly connection: pg.ClientConfig;

  constructor(target: RegionTarget, connection: pg.ClientConfig, concurrency: number) {
    this.name = target.region;
    this.target = target;
    this.connection = connection;
    this.tenantPool = new pg.Pool({ ...connection, max: concurrency, idleTimeoutMillis: 10_000, application_name: 'fleet-runner' });
    this.controlPool = new pg.Pool({ ...connection, max: 1, idleTimeoutMillis: 10_000, application_name: 'fleet-control' });
    // An idle connection dropped by a server restart must not crash the process; the next
    // checkout reconnects and the affected tenant is reported, not lost.
    // A connection cut while checked out (between two queries) emits 'error' on the client, which
    // pg leaves unhandled: every client gets a listener, and the next query on it fails instead.
    for (const pool of [this.tenantPool, this.controlPool]) {
      pool.on('error', () => undefined);
      pool.on('connect', (client) => client.on('error', () => undefined));
    }
  }

  get description(): string {
    return describeTarget(this.target);
  }

  /** The connection settings, for callers that need a pool of their own (e.g. another role). */
  get connectionConfig(): pg.ClientConfig {
    return this.connection;
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.controlPool.query<R>(sql, params);
  }

  async close(): Promise<void> {
    await Promise.all([this.tenantPool.end(), this.controlPool.end()]);
  }
}
