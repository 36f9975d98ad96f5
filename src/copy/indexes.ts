import type pg from 'pg';
import { quoteQualified } from '../db/quote.ts';

/** An index taken off a table for its load, with what rebuilds it exactly. */
export interface DeferredIndex {
  readonly table: string;
  readonly name: string;
  /** The constraint the index backs (primary key, unique, exclusion), rebuilt by ALTER TABLE ... ADD CONSTRAINT. */
  readonly constraint: { readonly name: string; readonly definition: string } | null;
  /** pg_get_indexdef: the CREATE INDEX of a plain index. */
  readonly definition: string;
}

interface IndexRow {
  table: string;
  name: string;
  definition: string;
  constraint_name: string | null;
  constraint_definition: string | null;
}

/**
 * The indexes of the schema's ordinary tables that can be dropped before the load and rebuilt
 * after it, as pg_dump does: building an index over loaded rows is one sort, maintaining it row by
 * row during COPY costs about 40% more server CPU. Rebuilt from PostgreSQL's own deparsed
 * definitions (pg_get_indexdef, pg_get_constraintdef), so each comes back as it was, by name.
 *
 * Left in place, because a drop and rebuild from those definitions would not give them back
 * whole: an index another object depends on (a foreign key referencing a primary key or unique
 * constraint; rebuilding the key would mean re-validating every such foreign key), one with
 * storage parameters or a tablespace (neither is in pg_get_constraintdef's text), a clustered or
 * replica-identity index, one with a comment or a per-column statistics target, one of a
 * partition (attached to its parent's index), and any index that is not valid.
 */
export async function deferrableIndexes(client: pg.ClientBase, schema: string): Promise<DeferredIndex[]> {
  const { rows } = await client.query<IndexRow>(
    `SELECT t.relname::text AS table, ic.relname::text AS name, pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
            con.conname::text AS constraint_name, pg_catalog.pg_get_constraintdef(con.oid) AS constraint_definition
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
       LEFT JOIN pg_catalog.pg_constraint con
              ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
      WHERE n.nspname = $1 AND t.relkind = 'r' AND NOT t.relispartition
        AND i.indisvalid AND i.indisready AND i.indislive AND NOT i.indisclustered AND NOT i.indisreplident
        AND ic.reloptions IS NULL AND ic.reltablespace = 0
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                         WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = i.indexrelid AND d.deptype IN ('n', 'a'))
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_description d
                         WHERE (d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = i.indexrelid)
                            OR (d.classoid = 'pg_catalog.pg_constraint'::regclass AND d.objoid = con.oid))
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                         WHERE a.attrelid = i.indexrelid AND a.attstattarget IS NOT NULL AND a.attstattarget <> -1)
      ORDER BY t.relname, ic.relname`,
    [schema],
  );
  return rows.map((r) => ({
    table: r.table,
    name: r.name,
    constraint:
      r.constraint_name !== null && r.constraint_definition !== null
        ? { name: r.constraint_name, definition: r.constraint_definition }
        : null,
    definition: r.definition,
  }));
}

/**
 * Drop the indexes (constraint-backed ones by dropping their constraint), in one round trip: the
 * statements go as one simple-query message and run in the caller's transaction.
 */
export async function dropIndexes(client: pg.ClientBase, schema: string, indexes: readonly DeferredIndex[]): Promise<void> {
  const statements = indexes.map((index) =>
    index.constraint
      ? `ALTER TABLE ${quoteQualified(schema, index.table)} DROP CONSTRAINT ${quoteQualified(index.constraint.name)}`
      : `DROP INDEX ${quoteQualified(schema, index.name)}`,
  );
  if (statements.length > 0) await client.query(statements.join(';\n'));
}

/** Build the indexes again from their definitions, constraints included, in one round trip. */
export async function rebuildIndexes(client: pg.ClientBase, schema: string, indexes: readonly DeferredIndex[]): Promise<void> {
  const statements = indexes.map((index) =>
    index.constraint
      ? `ALTER TABLE ${quoteQualified(schema, index.table)} ADD CONSTRAINT ${quoteQualified(index.constraint.name)} ${index.constraint.definition}`
      : index.definition,
  );
  if (statements.length > 0) await client.query(statements.join(';\n'));
}
