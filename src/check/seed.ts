import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../db/quote.ts';

interface ColumnRow {
  table: string;
  column: string;
  type: string;
  category: string;
  typname: string;
}

const COLUMNS_SQL = `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory AS category, t.typname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attidentity <> 'a' AND a.attgenerated = ''
 ORDER BY c.relname, a.attnum`;

/** A value of the column's type for row n, or undefined for a type left to its default. */
function valueFor(column: ColumnRow, n: number): string | undefined {
  const cast = (literal: string) => `${literal}::${column.type}`;
  switch (column.category) {
    case 'N':
      return cast(String(n));
    case 'S':
      // Not a number, not a date: a cast an up does without USING ... fails as it would on real data.
      return cast(`'seed-${n}'`);
    case 'B':
      return cast(n % 2 === 0 ? 'false' : 'true');
    case 'D':
      return cast('now()');
    case 'E':
      return `(enum_range(NULL::${column.type}))[1]`;
    case 'A':
      return cast(`'{}'`);
    default:
      if (column.typname === 'uuid') return 'gen_random_uuid()';
      if (column.typname === 'json' || column.typname === 'jsonb') return cast(`'{}'`);
      return undefined;
  }
}

/**
 * A few rows in every table of the schema, each column filled by type, in passes so a table whose
 * foreign key points at another is seeded once that one is (row n references row n). A table
 * that takes no such row (a check constraint, an odd type) stays empty: seeding is best effort,
 * a failed insert is rolled back to its savepoint. Runs in the caller's transaction.
 */
export async function seedSchema(client: pg.ClientBase, schema: string, rows: number): Promise<void> {
  const { rows: columns } = await client.query<ColumnRow>(COLUMNS_SQL, [schema]);
  const tables = new Map<string, ColumnRow[]>();
  for (const c of columns) tables.set(c.table, [...(tables.get(c.table) ?? []), c]);
  const pending = new Set(tables.keys());
  for (let pass = 0; pass < 4 && pending.size > 0; pass += 1) {
    for (const table of [...pending]) {
      const cols = (tables.get(table) ?? []).filter((c) => valueFor(c, 1) !== undefined);
      if (cols.length === 0) {
        pending.delete(table);
        continue;
      }
      const values = Array.from({ length: rows }, (_, i) => `(${cols.map((c) => valueFor(c, i + 1)).join(', ')})`).join(', ');
      try {
        await client.query(
          `SAVEPOINT seed; INSERT INTO ${quoteQualified(schema, table)} (${cols.map((c) => quoteIdent(c.column)).join(', ')}) VALUES ${values}; RELEASE SAVEPOINT seed`,
        );
        pending.delete(table);
      } catch {
        await client.query('ROLLBACK TO SAVEPOINT seed');
      }
    }
  }
}
