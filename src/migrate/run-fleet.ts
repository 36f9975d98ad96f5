import type pg from 'pg';
import { pickCanaries } from './canaries.ts';
import pLimit from 'p-limit';
import type { Fleet } from '../fleet.ts';
import type { RegionDatabase } from '../db/region-database.ts';
import { isConnectionError, withClient } from '../db/scoped.ts';
import type { TenantFailure, TenantOutcome, TenantRunSettings } from './tenant-migrator.ts';
import type { TenantState } from './plan.ts';

/** One tenant's result: the runner returns these, it does not throw for a tenant's failure. */
export interface TenantResult {
  readonly tenant: string;
  readonly region: string;
  readonly schema: string;
  readonly status: 'applied' | 'skipped' | 'failed';
  /** Migrations applied (or reverted, for a rollback) in this run. */
  readonly migrations: readonly string[];
  readonly reason?: string;
  readonly error?: TenantFailure;
  readonly durationMs: number;
}

export type RunEvent =
  | { readonly type: 'start'; readonly phase: 'canary' | 'rollout'; readonly tenants: number }
  | { readonly type: 'tenant'; readonly result: TenantResult }
  | { readonly type: 'stopped'; readonly reason: string };

export interface WorkItem {
  readonly region: RegionDatabase;
  readonly tenant: TenantState;
}

export interface ExecuteOptions {
  readonly concurrency: number;
  readonly canary?: number;
  readonly failFast?: boolean;
  readonly onEvent?: (event: RunEvent) => void;
  /** Aborted (Ctrl-C, a cancelled pipeline): tenants in flight finish, no new one starts. */
  readonly signal?: AbortSignal;
}

export interface ExecuteOutcome {
  readonly results: TenantResult[];
  readonly stopped?: string;
}

export function runSettings(fleet: Fleet, overrides: Partial<TenantRunSettings> = {}): TenantRunSettings {
  const { runner } = fleet.config;
  return {
    clock: fleet.clock,
    actor: fleet.actor,
    lockTimeoutMs: runner.lockTimeoutMs,
    statementTimeoutMs: runner.statementTimeoutMs,
    lockRetries: runner.lockRetries,
    ...overrides,
  };
}

type TenantTask = (client: pg.ClientBase, item: WorkItem) => Promise<TenantOutcome>;

/** A tenant's failure that left its connection unusable: thrown through withClient so the connection is destroyed, not pooled. */
class ConnectionLost extends Error {
  readonly code: string | undefined;
  constructor(readonly outcome: TenantOutcome & { status: 'failed' }) {
    super(outcome.error.message);
    this.code = outcome.error.code;
  }
}

async function runOne(item: WorkItem, task: TenantTask): Promise<TenantResult> {
  const started = performance.now();
  const base = { tenant: item.tenant.id, region: item.region.name, schema: item.tenant.schema };
  let outcome: TenantOutcome;
  try {
    outcome = await withClient(item.region.tenantPool, async (client) => {
      const result = await task(client, item);
      if (result.status === 'failed' && isConnectionError({ message: result.error.message, code: result.error.code }))
        throw new ConnectionLost(result);
      return result;
    });
  } catch (error) {
    outcome =
      error instanceof ConnectionLost
        ? error.outcome
        : { status: 'failed', migrations: [], error: { migration: null, message: (error as Error).message } };
  }
  const durationMs = Math.round(performance.now() - started);
  switch (outcome.status) {
    case 'applied':
      return { ...base, status: 'applied', migrations: outcome.migrations, durationMs };
    case 'skipped':
      return { ...base, status: 'skipped', migrations: [], reason: outcome.reason, durationMs };
    case 'failed':
      return { ...base, status: 'failed', migrations: outcome.migrations, error: outcome.error, durationMs };
  }
}

function skippedResult(item: WorkItem, reason: string): TenantResult {
  return {
    tenant: item.tenant.id,
    region: item.region.name,
    schema: item.tenant.schema,
    status: 'skipped',
    migrations: [],
    reason,
    durationMs: 0,
  };
}

/**
 * Run a task over tenants: regions in parallel, tenants within a region bounded by the pool
 * (concurrency connections). Canary tenants go first and stop the rollout if any fails;
 * `failFast` stops starting new tenants after the first failure.
 */
export async function executeAcrossFleet(items: readonly WorkItem[], task: TenantTask, options: ExecuteOptions): Promise<ExecuteOutcome> {
  const results: TenantResult[] = [];
  const emit = options.onEvent ?? (() => undefined);
  let stopped: string | undefined;

  const runBatch = async (batch: readonly WorkItem[], phase: 'canary' | 'rollout') => {
    emit({ type: 'start', phase, tenants: batch.length });
    const limiters = new Map<RegionDatabase, ReturnType<typeof pLimit>>();
    const limiterFor = (region: RegionDatabase) => {
      let limiter = limiters.get(region);
      if (!limiter) limiters.set(region, (limiter = pLimit(options.concurrency)));
      return limiter;
    };
    await Promise.all(
      batch.map((item) =>
        limiterFor(item.region)(async () => {
          if (options.signal?.aborted && !stopped) {
            stopped = 'interrupted';
            emit({ type: 'stopped', reason: stopped });
          }
          const result = stopped ? skippedResult(item, `not started: ${stopped}`) : await runOne(item, task);
          results.push(result);
          emit({ type: 'tenant', result });
          if (result.status === 'failed' && options.failFast && !stopped) {
            stopped = `stopped after ${result.tenant} failed (failFast)`;
            emit({ type: 'stopped', reason: stopped });
          }
        }),
      ),
    );
  };

  const canaryCount = Math.min(options.canary ?? 0, items.length);
  const canaries = pickCanaries(items, canaryCount);
  const rest = items.filter((item) => !canaries.includes(item));
  if (canaries.length > 0) {
    await runBatch(canaries, 'canary');
    const failed = results.filter((r) => r.status === 'failed');
    if (failed.length > 0 && !stopped) {
      // What to do next: the failed migration rolled back on the canaries where it failed; if the
      // file is edited, canaries that did apply it hold the old text (the ledger says which).
      stopped = `canary failed (${failed.map((r) => r.tenant).join(', ')}); the other ${rest.length} tenant(s) were not touched. Fix the migration and run again; a canary that already applied the file before the edit is reverted first with the down SQL the ledger recorded: fleet rollback --tenant ID --to <the migration before it>, then fleet migrate`;
      emit({ type: 'stopped', reason: stopped });
    }
  }
  if (stopped) {
    for (const item of rest) results.push(skippedResult(item, `not started: ${stopped}`));
  } else if (rest.length > 0) {
    await runBatch(rest, 'rollout');
  }
  return { results, ...(stopped ? { stopped } : {}) };
}
