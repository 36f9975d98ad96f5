import type pg from 'pg';
import { quoteQualified } from '../db/quote.ts';

export interface SequenceValue {
  readonly name: string;
  /** NULL: never used (nextval returns its start value). */
  readonly lastValue: string | null;
}

/** Every sequence of the schema (identity columns' and serials' included) and its value. */
export async function readSequences(client: pg.ClientBase, schema: string): Promise<SequenceValue[]> {
  const { rows } = await client.query<{ name: string; last_value: string | null }>(
    'SELECT sequencename::text AS name, last_value::text FROM pg_catalog.pg_sequences WHERE schemaname = $1 ORDER BY sequencename',
    [schema],
  );
  return rows.map((r) => ({ name: r.name, lastValue: r.last_value }));
}

/**
 * Set the target's sequences to the source's values, so the next insert in the target gets the
 * key the source would have given: a used sequence continues after its value, an unused one is
 * reset to its start.
 */
export async function writeSequences(client: pg.ClientBase, schema: string, values: readonly SequenceValue[]): Promise<void> {
  const used = values.filter((seq) => seq.lastValue !== null);
  const unused = values.filter((seq) => seq.lastValue === null);
  if (used.length > 0)
    await client.query('SELECT pg_catalog.setval(name::regclass, value, true) FROM unnest($1::text[], $2::bigint[]) AS s(name, value)', [
      used.map((seq) => quoteQualified(schema, seq.name)),
      used.map((seq) => seq.lastValue),
    ]);
  if (unused.length > 0) await client.query(unused.map((seq) => `ALTER SEQUENCE ${quoteQualified(schema, seq.name)} RESTART`).join(';\n'));
}
