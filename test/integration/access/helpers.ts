/** Shared by the access tests: a fleet with tenants, checksums of a tenant's data, role cleanup. */
import pg from 'pg';
import type { Fleet } from '../../../src/fleet.ts';
import { FleetError } from '../../../src/errors.ts';
import { quoteIdent } from '../../../src/db/quote.ts';
import { dropAccessRoles } from '../../../src/access/cleanup.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** A fresh credentials directory (0600 secrets), removed after the test file that made it. */
export function credentialsDir(): string {
  return tempDir('credentials');
}

/**
 * Everything observable about a schema, as one hash: its relations, columns, functions, grants
 * and every row of every table. Read as the administrator.
 */
export async function schemaChecksum(fleet: Fleet, schema: string): Promise<string> {
  const region = fleet.regions[0]!;
  const tables = await region.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1`,
    [schema],
  );
  const parts: string[] = [];
  const shape = await region.query<{ s: string }>(
    `SELECT coalesce(string_agg(format('%s:%s:%s', c.relname, c.relkind, c.relacl), ',' ORDER BY c.relname), '') ||
            '|' || coalesce((SELECT string_agg(format('%s.%s:%s', table_name, column_name, data_type), ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = $1), '') ||
            '|' || coalesce((SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace WHERE pn.nspname = $1), '') ||
            '|' || coalesce((SELECT nspacl::text FROM pg_namespace WHERE nspname = $1), '') AS s
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`,
    [schema],
  );
  parts.push(shape.rows[0]?.s ?? '');
  for (const { name } of tables.rows) {
    const q = `${quoteIdent(schema)}.${quoteIdent(name)}`;
    const { rows } = await region.query<{ h: string | null; n: number }>(
      `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h, count(*)::int AS n FROM ${q} t`,
    );
    parts.push(`${name}:${rows[0]?.n}:${rows[0]?.h}`);
  }
  return parts.join('\n');
}

/** Drop the roles this test database's fleet made: roles are cluster-wide and would outlive it. */
export async function dropRoles(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await dropAccessRoles(client);
  } finally {
    await client.end();
  }
}

/** Seed a tenant's tables with a few rows (as the administrator). */
export async function seed(fleet: Fleet, schema: string, label: string): Promise<void> {
  const s = quoteIdent(schema);
  const region = fleet.regions[0]!;
  await region.query(`INSERT INTO ${s}.projects (id, key, name) VALUES (1, 'P1', $1), (2, 'P2', $1 || ' two')`, [label]);
  await region.query(
    `INSERT INTO ${s}.issues (id, project_id, key, summary, status, created_at, updated_at) VALUES (10, 1, 'P1-1', $1 || ' secret issue', 'open', now(), now())`,
    [label],
  );
}

/** How an attempt ended: ALLOWED, FLEET:<code> for the toolkit's refusals, or PostgreSQL's SQLSTATE. */
export async function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ALLOWED',
    (error: unknown) => (error instanceof FleetError ? `FLEET:${error.code}` : ((error as { code?: string }).code ?? String(error))),
  );
}
