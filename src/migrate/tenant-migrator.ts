import type pg from 'pg';
import type { Umzug, UmzugStorage } from 'umzug';
import type { Clock } from '../clock.ts';
import { tenantSearchPath } from '../db/search-path.ts';
import { SQLSTATE, sqlStateOf } from '../db/sqlstate.ts';
import { setLocalTimeoutsSql } from '../db/timeouts.ts';
import { statementThenCommit, type NamedStatement } from '../db/then-commit.ts';
import { releaseTenantLock, withTenantLock } from '../tenants/tenant-lock.ts';
import type { MigrationFile, MigrationPhase } from './migration-files.ts';
import { splitStatements } from '../db/split-statements.ts';
import { extensionStatements } from './extension-statements.ts';
import { parseDirectives } from './directives.ts';
import { cutAtPhase, type TenantState } from './plan.ts';

export interface TenantRunSettings {
  readonly clock: Clock;
  readonly actor: string;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** Attempts after a lock timeout. */
  readonly lockRetries: number;
  /** Backoff before retry n (0-based); injectable so tests need not wait. */
  readonly backoffMs?: (attempt: number) => number;
  /**
   * Creates what a tenant still provisioning needs before its first migration (its schema and
   * roles), under the tenant's lock. src/provisioning supplies it; without it such a tenant is
   * skipped, not migrated into a schema that may not exist.
   */
  readonly prepare?: TenantPreparer;
  /**
   * The tenant copy's own path (src/copy): it builds a tenant being moved or restored. Every other
   * caller leaves such a tenant alone (skipped, BEING_COPIED): a migration between a copy's
   * verification and its switch would make the two sides differ.
   */
  readonly copying?: boolean;
}

export type TenantPreparer = (client: pg.ClientBase, tenant: { readonly id: string; readonly schema: string }) => Promise<void>;

export interface TenantFailure {
  readonly migration: string | null;
  readonly message: string;
  /** PostgreSQL SQLSTATE when the database refused. */
  readonly code?: string;
}

export type TenantOutcome =
  | { readonly status: 'applied'; readonly migrations: readonly string[]; readonly activated: boolean }
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'failed'; readonly migrations: readonly string[]; readonly error: TenantFailure };

/** The reason of a tenant skipped because another runner (or a purge) held it: its work is not done. */
export const LOCKED_BY_ANOTHER_RUNNER = 'locked by another runner';

/** The reason of a tenant skipped because it is being moved or restored (status moving or restoring): its work is not done. */
export const BEING_COPIED = 'being moved or restored (fleet tenants move <id> --status)';

const COPY_STATUSES: ReadonlySet<string> = new Set(['moving', 'restoring']);

const defaultBackoff = (attempt: number) => Math.min(5000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);

class RunContext {
  /**
   * The tenant's last migration of this run: its ledger row's statement also gives the lease back
   * and, for a tenant still provisioning, activates it (`activation`), in that migration's own
   * transaction. No round trip nor commit of their own. `lockReleased` and `activated` record that
   * it committed.
   */
  finishWith: string | undefined;
  activation: { readonly migrations: number } | undefined;
  lockReleased = false;
  activated = false;

  constructor(
    readonly client: pg.ClientBase,
    readonly tenant: TenantState,
    readonly settings: TenantRunSettings,
  ) {}
}

/** The ledger's write for a migration, made once its SQL has run (it records the duration). */
type LedgerWrite = () => NamedStatement;

/**
 * BEGIN, the transaction's settings and the migration's SQL go in one round trip (a simple-query
 * string: PostgreSQL parses it whole, then analyses and runs each statement in turn, so the
 * SET LOCALs apply to the SQL after them); then the ledger row and COMMIT in a second one
 * (statementThenCommit). Two round trips per migration instead of five: the runner is round-trip
 * bound on small DDL. Returns the ledger statement's row count.
 */
async function runSqlInTransaction(ctx: RunContext, sql: string, ledger: LedgerWrite): Promise<number | null> {
  const { client, tenant, settings } = ctx;
  try {
    await client.query(`BEGIN; SET LOCAL search_path TO ${tenantSearchPath(tenant.schema)}; ${setLocalTimeoutsSql(settings)};\n${sql}`);
    return await statementThenCommit(client, ledger());
  } catch (error) {
    // Also right when the string did not even parse, or COMMIT itself failed: ROLLBACK outside a
    // transaction only warns.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Files marked `-- fleet:no-transaction` run statement by statement in autocommit, then the ledger
 * row. A crash in between leaves the file applied but unrecorded, so such files must be idempotent
 * (CREATE INDEX CONCURRENTLY IF NOT EXISTS ...): the rerun applies them again.
 */
async function runSqlWithoutTransaction(ctx: RunContext, sql: string, ledger: LedgerWrite): Promise<number | null> {
  const { client, tenant, settings } = ctx;
  await client.query(
    `SELECT set_config('search_path', $1, false), set_config('lock_timeout', $2, false), set_config('statement_timeout', $3, false)`,
    [tenantSearchPath(tenant.schema), `${settings.lockTimeoutMs}ms`, `${settings.statementTimeoutMs}ms`],
  );
  try {
    for (const statement of splitStatements(sql)) await client.query(statement);
    // Unnamed: the name is statementThenCommit's, whose prepared statements pg does not know of.
    const { text, values } = ledger();
    return (await client.query(text, [...values])).rowCount;
  } finally {
    await client.query('RESET search_path; RESET lock_timeout; RESET statement_timeout').catch(() => undefined);
  }
}

async function withLockRetries<T>(ctx: RunContext, attempt: () => Promise<T>): Promise<T> {
  const backoff = ctx.settings.backoffMs ?? defaultBackoff;
  for (let n = 0; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (sqlStateOf(error) !== SQLSTATE.LOCK_NOT_AVAILABLE || n >= ctx.settings.lockRetries) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoff(n)));
    }
  }
}

const LEDGER_INSERT_SQL =
  'INSERT INTO fleet.migrations (tenant_id, name, checksum, applied_at, duration_ms, sql, down_sql) VALUES ($1, $2, $3, $4, $5, $6, $7)';

/**
 * The last migration's ledger row, the lease given back (by tenant id: one lease row is read, not
 * the table) and, when $8, the activation of a tenant still provisioning with its audit event: one
 * statement, in the migration's own transaction. Its row count is the number of tenants activated.
 */
const LEDGER_FINISH_SQL = `WITH ledger AS (${LEDGER_INSERT_SQL}),
  released AS (
    UPDATE fleet.tenant_leases SET holder_pid = NULL, holder_start = NULL
     WHERE tenant_id = $1 AND holder_pid = pg_catalog.pg_backend_pid()
  ),
  activated AS (
    UPDATE fleet.tenants SET status = 'active', updated_at = $4, last_contact_at = coalesce(last_contact_at, $4)
     WHERE $8 AND id = $1 AND status = 'provisioning' RETURNING id
  )
  INSERT INTO fleet.audit_events (at, tenant_id, action, from_state, to_state, actor, details)
  SELECT $4, id, 'provisioned', 'provisioning', 'active', $9, $10 FROM activated`;

function applyUp(ctx: RunContext, file: MigrationFile): () => Promise<void> {
  return async () => {
    const started = performance.now();
    const finishing = ctx.finishWith === file.name;
    const ledger = (): NamedStatement => {
      // The text as written (up and down): what a rollback of this tenant reverts with if the
      // file is edited later (control migration 0008).
      const values = [
        ctx.tenant.id,
        file.name,
        file.checksum,
        ctx.settings.clock.now(),
        Math.round(performance.now() - started),
        file.source,
        file.down?.source ?? null,
      ];
      if (!finishing) return { name: 'fleet-ledger-insert', text: LEDGER_INSERT_SQL, values };
      const { activation } = ctx;
      return {
        name: 'fleet-ledger-finish',
        text: LEDGER_FINISH_SQL,
        values: [
          ...values,
          activation !== undefined,
          ctx.settings.actor,
          JSON.stringify({ schema: ctx.tenant.schema, migrations: activation?.migrations ?? 0 }),
        ],
      };
    };
    const rowCount = await withLockRetries(ctx, () =>
      file.noTransaction ? runSqlWithoutTransaction(ctx, file.sql, ledger) : runSqlInTransaction(ctx, file.sql, ledger),
    );
    // Committed: the lease is back, and the tenant active if it was provisioning.
    if (finishing) {
      ctx.lockReleased = true;
      ctx.activated = (rowCount ?? 0) > 0;
    }
  };
}

function applyDown(ctx: RunContext, file: MigrationFile, recorded: ReadonlyMap<string, RecordedMigration>): () => Promise<void> {
  return async () => {
    const down = downFor(file, recorded.get(file.name));
    if (!down) throw new Error(`${file.name} has no down file`);
    const ledger = (): NamedStatement => ({
      name: 'fleet-ledger-delete',
      text: 'DELETE FROM fleet.migrations WHERE tenant_id = $1 AND name = $2',
      values: [ctx.tenant.id, file.name],
    });
    await withLockRetries(ctx, () =>
      down.noTransaction ? runSqlWithoutTransaction(ctx, down.sql, ledger) : runSqlInTransaction(ctx, down.sql, ledger),
    );
  };
}

// Loaded on first use, once: a run with nothing pending never pays for Umzug's module graph, and
// a dynamic import() per tenant would cost a round trip through the module loader's hooks.
let umzugModule: Promise<typeof import('umzug')> | undefined;
const loadUmzug = () => (umzugModule ??= import('umzug'));

/**
 * Start loading Umzug's module graph now (about a quarter second of CPU), for a caller that will
 * migrate after waiting on the database or doing I/O of its own (bulk registration, the plan, the
 * lint; a copy reading the source before it builds the target's structure): the load overlaps
 * that wait instead of delaying the first tenant's first migration. A failure to load surfaces
 * where Umzug is used.
 */
export function preloadMigrator(): void {
  loadUmzug().catch(() => undefined);
}

/**
 * Umzug over one tenant. Its storage is the ledger as read under the tenant's lock; the ledger
 * row itself is written inside each migration's transaction (Umzug would log it in a separate call
 * after the migration, leaving a window where a crash applies a migration without recording it),
 * so the storage only keeps Umzug's view in step.
 */
async function tenantUmzug(
  ctx: RunContext,
  files: readonly MigrationFile[],
  executed: string[],
  recorded: ReadonlyMap<string, RecordedMigration> = new Map(),
): Promise<Umzug<RunContext>> {
  const { Umzug } = await loadUmzug();
  const storage: UmzugStorage<RunContext> = {
    executed: async () => [...executed],
    logMigration: async ({ name }) => {
      executed.push(name);
    },
    unlogMigration: async ({ name }) => {
      executed.splice(executed.indexOf(name), 1);
    },
  };
  return new Umzug<RunContext>({
    migrations: files.map((file) => ({ name: file.name, up: applyUp(ctx, file), down: applyDown(ctx, file, recorded) })),
    context: ctx,
    storage,
    logger: undefined,
  });
}

async function untilLeased<T extends { locked: boolean }>(
  attempt: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
    const state = await attempt();
    if (state?.locked || performance.now() + pause > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

function failureOf(error: unknown): TenantFailure {
  // Umzug wraps what a migration threw (the database error) in a MigrationError that names the
  // migration and keeps the original as its cause: the cause is what the operator needs.
  const isMigrationError = error instanceof Error && error.name === 'MigrationError';
  const migrationName = isMigrationError ? ((error as { migration?: { name?: string } }).migration?.name ?? null) : null;
  const cause = isMigrationError ? ((error as { cause?: unknown }).cause ?? error) : error;
  const root = cause as { message?: string; detail?: string };
  const message = [root.message ?? String(root), root.detail].filter(Boolean).join(' ');
  const code = sqlStateOf(cause);
  return { migration: migrationName, message, ...(code !== undefined ? { code } : {}) };
}

/** A tenant's ledger row as a rollback needs it: what was applied, and the down recorded with it. */
interface RecordedMigration {
  readonly name: string;
  readonly checksum: string;
  readonly downSql: string | null;
}

async function readLedger(client: pg.ClientBase, tenantId: string): Promise<RecordedMigration[]> {
  const { rows } = await client.query<RecordedMigration>(
    'SELECT name, checksum, down_sql AS "downSql" FROM fleet.migrations WHERE tenant_id = $1 ORDER BY name',
    [tenantId],
  );
  return rows;
}

/**
 * The down to revert a tenant's migration with: the down file, unless the up file changed since
 * this tenant applied it; then the down file as it was at apply time, which the ledger recorded
 * (the edited down may undo the edited up, not what this tenant ran).
 */
export function downFor(file: MigrationFile, recorded: RecordedMigration | undefined): MigrationFile['down'] {
  if (!recorded || recorded.checksum === file.checksum || recorded.downSql === null) return file.down;
  const ext = extensionStatements(recorded.downSql);
  return {
    file: `${file.name}.down.sql as recorded in the ledger`,
    sql: ext.sql,
    source: recorded.downSql,
    noTransaction: parseDirectives(recorded.downSql).noTransaction,
  };
}

/**
 * Migrate one tenant up to `to` (or latest) under its advisory lock. A tenant another runner holds
 * is skipped; a failure leaves the tenant at its last good migration and is returned, not thrown.
 */
export async function migrateTenantUp(
  client: pg.ClientBase,
  tenant: TenantState,
  files: readonly MigrationFile[],
  settings: TenantRunSettings,
  to?: string,
  phase?: MigrationPhase,
): Promise<TenantOutcome> {
  const ctx = new RunContext(client, tenant, settings);
  const done: string[] = [];
  let holding = false;
  // Planned as being copied: not even its lease is tried, which the copy takes and gives back
  // between its steps (a runner holding it for a moment would fail the copy's next step).
  if (COPY_STATUSES.has(tenant.status) && !settings.copying) return { status: 'skipped', reason: BEING_COPIED };
  try {
    // The lock and, under it, the tenant's status and ledger in one round trip (another runner may
    // have finished this tenant since the plan). Named: prepared once per connection.
    const lockState = async () =>
      (
        await client.query<{ locked: boolean; status: string | null; applied: string[] | null }>({
          name: 'fleet-lock-tenant-state',
          text: 'SELECT locked, status, applied FROM fleet.lock_tenant_state($1)',
          values: [tenant.id],
        })
      ).rows[0];
    // Held by another runner: wait for it (at most lockTimeoutMs), then this runner finds the
    // tenant done (up to date) or does what is left. Still held: skipped, and the run is not ok.
    const state = await untilLeased(lockState, settings.lockTimeoutMs);
    if (!state?.locked) return { status: 'skipped', reason: LOCKED_BY_ANOTHER_RUNNER };
    holding = true;
    const status = state.status ?? undefined;
    if (status === undefined || status === 'purged') return { status: 'skipped', reason: `tenant is ${status ?? 'no longer registered'}` };
    if (COPY_STATUSES.has(status) && !settings.copying) return { status: 'skipped', reason: BEING_COPIED };
    const executed = state.applied ?? [];
    if (status === 'provisioning') {
      if (!settings.prepare)
        return {
          status: 'skipped',
          reason: 'still provisioning: its schema and roles are created by provisioning (`fleet tenants add` completes it)',
        };
      await settings.prepare(client, tenant);
    }
    // Umzug decides what is pending from the storage (the ledger rows read under the lock); the
    // runner only cuts that list at `to`.
    const umzug = await tenantUmzug(ctx, files, executed);
    const upTo = new Set(files.slice(0, to === undefined ? files.length : files.findIndex((f) => f.name === to) + 1).map((f) => f.name));
    const byName = new Map(files.map((f) => [f.name, f]));
    const pending = cutAtPhase(
      (await umzug.pending()).map((m) => byName.get(m.name) as MigrationFile).filter((f) => upTo.has(f.name)),
      phase,
    ).map((f) => f.name);
    // The last migration's transaction gives the lease back and activates a provisioning tenant.
    ctx.finishWith = pending.at(-1);
    if (status === 'provisioning') ctx.activation = { migrations: executed.length + pending.length };
    if (pending.length > 0) {
      umzug.on('migrated', ({ name }) => {
        done.push(name);
      });
      await umzug.up({ migrations: pending });
    }
    let activated = ctx.activated;
    if (status === 'provisioning' && pending.length === 0) {
      // The status change and its audit event in one statement (one round trip, one commit).
      const now = settings.clock.now();
      const updated = await client.query({
        name: 'fleet-tenant-activate',
        text: `WITH activated AS (
           UPDATE fleet.tenants SET status = 'active', updated_at = $2, last_contact_at = coalesce(last_contact_at, $2)
            WHERE id = $1 AND status = 'provisioning' RETURNING id
         )
         INSERT INTO fleet.audit_events (at, tenant_id, action, from_state, to_state, actor, details)
         SELECT $2, id, 'provisioned', 'provisioning', 'active', $3, $4 FROM activated`,
        values: [tenant.id, now, settings.actor, JSON.stringify({ schema: tenant.schema, migrations: executed.length })],
      });
      activated = (updated.rowCount ?? 0) > 0;
    }
    if (pending.length === 0 && !activated) return { status: 'skipped', reason: 'up to date' };
    return { status: 'applied', migrations: done, activated };
  } catch (error) {
    return { status: 'failed', migrations: done, error: failureOf(error) };
  } finally {
    if (holding && !ctx.lockReleased) await releaseTenantLock(client, tenant.id).catch(() => undefined);
  }
}

/** Revert one tenant's migrations after `keep` (all of them when keep is null), newest first. */
export async function migrateTenantDown(
  client: pg.ClientBase,
  tenant: TenantState,
  files: readonly MigrationFile[],
  settings: TenantRunSettings,
  keep: string | null,
): Promise<TenantOutcome> {
  const ctx = new RunContext(client, tenant, settings);
  const done: string[] = [];
  if (COPY_STATUSES.has(tenant.status) && !settings.copying) return { status: 'skipped', reason: BEING_COPIED };
  try {
    const locked = await withTenantLock(client, tenant.id, async (): Promise<TenantOutcome> => {
      const { rows } = await client.query<{ status: string }>('SELECT status FROM fleet.tenants WHERE id = $1', [tenant.id]);
      if (COPY_STATUSES.has(rows[0]?.status ?? '') && !settings.copying) return { status: 'skipped', reason: BEING_COPIED };
      const ledger = await readLedger(client, tenant.id);
      const umzug = await tenantUmzug(
        ctx,
        files,
        ledger.map((r) => r.name),
        new Map(ledger.map((r) => [r.name, r])),
      );
      const kept = new Set(keep === null ? [] : files.slice(0, files.findIndex((f) => f.name === keep) + 1).map((f) => f.name));
      const revert = (await umzug.executed()).map((m) => m.name).filter((name) => !kept.has(name));
      if (revert.length === 0) return { status: 'skipped', reason: 'nothing to roll back' };
      umzug.on('reverted', ({ name }) => {
        done.push(name);
      });
      await umzug.down({ to: revert[0] as string });
      return { status: 'applied', migrations: done, activated: false };
    });
    return locked.locked ? locked.value : { status: 'skipped', reason: LOCKED_BY_ANOTHER_RUNNER };
  } catch (error) {
    return { status: 'failed', migrations: done, error: failureOf(error) };
  }
}
