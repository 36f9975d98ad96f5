/** Helpers of the lifecycle and purge tests: rows in tenant schemas, and a SQL-level dump of a database. */
import type { Fleet } from '../../../src/fleet.ts';
import { quoteIdent, quoteQualified } from '../../../src/db/quote.ts';
import { schemaNameFor } from '../../../src/tenants/ids.ts';

/** Insert `n` projects with one issue each into the tenant's schema. */
export async function seedRows(fleet: Fleet, id: string, n = 3, offset = 0): Promise<void> {
  const schema = quoteIdent(schemaNameFor(id));
  const ids = Array.from({ length: n }, (_, i) => offset + i + 1);
  const region = fleet.regions[0]!;
  await region.query(`INSERT INTO ${schema}.projects (id, key, name) SELECT i, 'P' || i, 'Project ' || i FROM unnest($1::bigint[]) AS i`, [
    ids,
  ]);
  await region.query(
    `INSERT INTO ${schema}.issues (id, project_id, key, summary, status, created_at, updated_at)
     SELECT i, i, 'P' || i || '-1', 'Issue ' || i, 'open', now(), now() FROM unnest($1::bigint[]) AS i`,
    [ids],
  );
}

/** Rows in the tenant's projects and issues, or null when its schema is gone. */
export async function countRows(fleet: Fleet, id: string): Promise<number | null> {
  const schema = schemaNameFor(id);
  const region = fleet.regions[0]!;
  const exists = await region.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [schema]);
  if (exists.rows[0]?.n === 0) return null;
  const { rows } = await region.query<{ n: number }>(
    `SELECT ((SELECT count(*) FROM ${quoteIdent(schema)}.projects) + (SELECT count(*) FROM ${quoteIdent(schema)}.issues))::int AS n`,
  );
  return rows[0]?.n ?? 0;
}

export async function tenantRow(fleet: Fleet, id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await fleet.regions[0]!.query('SELECT * FROM fleet.tenants WHERE id = $1', [id]);
  return rows[0];
}

export async function auditOf(
  fleet: Fleet,
  id: string,
): Promise<Array<{ action: string; from_state: string | null; to_state: string | null; reason: string | null; actor: string }>> {
  const { rows } = await fleet.regions[0]!.query(
    'SELECT action, from_state, to_state, reason, actor FROM fleet.audit_events WHERE tenant_id = $1 ORDER BY id',
    [id],
  );
  return rows as Array<{ action: string; from_state: string | null; to_state: string | null; reason: string | null; actor: string }>;
}

/**
 * Every row of every table in every non-system schema (the control schema and each tenant's),
 * every sequence's position, every schema and every role: a dump to compare before and after.
 * (pg_dump 15 cannot dump a newer server, so this is SQL.)
 */
export async function dumpDatabase(fleet: Fleet): Promise<Record<string, unknown>> {
  const region = fleet.regions[0]!;
  const dump: Record<string, unknown> = {};
  const schemas = await region.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%' ORDER BY 1`,
  );
  dump['schemas'] = schemas.rows.map((r) => r.nspname);
  // Roles are server-wide and other test files make their own: only this database's (its prefix).
  const hasAccess = await region.query<{ t: string | null }>(`SELECT to_regclass('fleet.access_settings')::text AS t`);
  if (hasAccess.rows[0]?.t) {
    const roles = await region.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles WHERE starts_with(rolname, (SELECT role_prefix FROM fleet.access_settings) || '_') ORDER BY 1`,
    );
    dump['roles'] = roles.rows.map((r) => r.rolname);
  }
  const relations = await region.query<{ nspname: string; relname: string; relkind: string }>(
    `SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'S') AND n.nspname = ANY($1) ORDER BY 1, 2`,
    [dump['schemas']],
  );
  for (const rel of relations.rows) {
    const name = quoteQualified(rel.nspname, rel.relname);
    if (rel.relkind === 'S') {
      const { rows } = await region.query(`SELECT last_value::text, is_called FROM ${name}`);
      dump[`${rel.nspname}.${rel.relname}`] = rows;
    } else {
      const { rows } = await region.query<{ rows: string[] }>(
        `SELECT coalesce(array_agg(x ORDER BY x), '{}') AS rows FROM (SELECT to_jsonb(t)::text AS x FROM ${name} t) s`,
      );
      dump[`${rel.nspname}.${rel.relname}`] = rows[0]?.rows;
    }
  }
  return dump;
}

/**
 * After a purge was killed anywhere, each tenant must be wholly purged (no schema, no ledger rows,
 * one tombstone, one purge audit event) or wholly intact (schema with its rows, full ledger, no
 * tombstone): never in between. Returns which is which.
 */
export async function checkAllOrNothing(
  fleet: Fleet,
  ids: readonly string[],
  rowsEach: number,
  migrations: number,
): Promise<{ purged: string[]; intact: string[] }> {
  const { rows } = await fleet.regions[0]!.query<{
    id: string;
    status: string;
    schema_exists: boolean;
    ledger: number;
    tombstones: number;
    audits: number;
  }>(
    `SELECT t.id, t.status,
            EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = t.schema_name) AS schema_exists,
            (SELECT count(*)::int FROM fleet.migrations m WHERE m.tenant_id = t.id) AS ledger,
            (SELECT count(*)::int FROM fleet.tombstones b WHERE b.tenant_id = t.id) AS tombstones,
            (SELECT count(*)::int FROM fleet.audit_events a WHERE a.tenant_id = t.id AND a.action = 'purged') AS audits
       FROM fleet.tenants t WHERE t.id = ANY($1) ORDER BY t.id`,
    [ids],
  );
  const purged: string[] = [];
  const intact: string[] = [];
  for (const r of rows) {
    if (r.status === 'purged') {
      if (r.schema_exists || r.ledger !== 0 || r.tombstones !== 1 || r.audits !== 1)
        throw new Error(`${r.id} half purged: ${JSON.stringify(r)}`);
      purged.push(r.id);
    } else {
      if (r.status !== 'disconnected' || !r.schema_exists || r.ledger !== migrations || r.tombstones !== 0 || r.audits !== 0)
        throw new Error(`${r.id} half purged: ${JSON.stringify(r)}`);
      const count = await countRows(fleet, r.id);
      if (count !== rowsEach) throw new Error(`${r.id} lost rows: ${count} of ${rowsEach}`);
      intact.push(r.id);
    }
  }
  if (rows.length !== ids.length) throw new Error(`expected ${ids.length} tenants, found ${rows.length}`);
  return { purged, intact };
}
