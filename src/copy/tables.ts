import type pg from 'pg';

/** One table of a tenant schema as the copy needs it. */
export interface CopyTable {
  readonly name: string;
  /** Columns that hold data, in table order; generated columns are left out (the target recomputes them). */
  readonly columns: readonly string[];
  /** Every column in table order, generated ones included: what the verification reads. */
  readonly allColumns: readonly string[];
  /** Primary key columns, in key order, each with whether it takes a collation (text-like). */
  readonly key: readonly { readonly name: string; readonly collatable: boolean }[];
  /**
   * COPY BINARY is safe: no column's value embeds a type OID that differs between databases
   * (arrays, composites or ranges of types made by the tenant's migrations, e.g. an enum[]).
   * Otherwise the table goes as text, which names nothing by OID.
   */
  readonly binary: boolean;
}

interface TableRow {
  name: string;
  columns: string[] | null;
  all_columns: string[];
  key: string[] | null;
  key_collatable: boolean[] | null;
  oid_bound: boolean;
}

/**
 * The ordinary tables of a schema, by name. Partitioned parents are skipped (their rows are
 * copied through their partitions); a FIRST_NORMAL_OBJECT_ID oid marks a type made in this
 * database, not built in.
 */
export async function listTables(client: pg.ClientBase, schema: string): Promise<CopyTable[]> {
  const { rows } = await client.query<TableRow>(
    `SELECT c.relname::text AS name,
            array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attgenerated = '') AS columns,
            array_agg(a.attname::text ORDER BY a.attnum) AS all_columns,
            (SELECT array_agg(ka.attname::text ORDER BY k.ord)
               FROM pg_catalog.pg_constraint pk
               CROSS JOIN LATERAL unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute ka ON ka.attrelid = c.oid AND ka.attnum = k.attnum
              WHERE pk.conrelid = c.oid AND pk.contype = 'p') AS key,
            (SELECT array_agg(ka.attcollation <> 0 ORDER BY k.ord)
               FROM pg_catalog.pg_constraint pk
               CROSS JOIN LATERAL unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute ka ON ka.attrelid = c.oid AND ka.attnum = k.attnum
              WHERE pk.conrelid = c.oid AND pk.contype = 'p') AS key_collatable,
            bool_or(t.typtype IN ('c', 'r', 'm') AND t.oid >= 16384 OR (e.oid IS NOT NULL AND e.oid >= 16384)) AS oid_bound
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
      WHERE n.nspname = $1 AND c.relkind = 'r'
      GROUP BY c.oid, c.relname
      ORDER BY c.relname`,
    [schema],
  );
  return rows.map((row) => ({
    name: row.name,
    columns: row.columns ?? [],
    allColumns: row.all_columns,
    key: (row.key ?? []).map((name, i) => ({ name, collatable: row.key_collatable?.[i] ?? false })),
    binary: !row.oid_bound,
  }));
}
