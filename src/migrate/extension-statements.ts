import { splitStatements } from '../db/split-statements.ts';

export interface ExtensionStatements {
  /** Extensions named by CREATE EXTENSION statements. */
  readonly created: readonly string[];
  /** Extensions named by DROP EXTENSION statements. */
  readonly dropped: readonly string[];
  /** The SQL without its CREATE and DROP EXTENSION statements (the text itself when it has none). */
  readonly sql: string;
}

const CREATE = /^create\s+extension\s+(?:if\s+not\s+exists\s+)?("(?:[^"]|"")+"|[a-z_][a-z0-9_$-]*)/i;
const DROP = /^drop\s+extension\s+(?:if\s+exists\s+)?(.+?)(?:\s+(?:cascade|restrict))?$/is;

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name.toLowerCase();
}

/**
 * Find a migration's CREATE and DROP EXTENSION statements. Extensions live once per database in
 * the fleet's shared schema: run under a tenant's search_path, CREATE EXTENSION would install
 * into that tenant's schema and every other tenant would then miss it (and a purge of that tenant
 * would drop it from under everyone). The text is only rewritten when it has such a statement,
 * so every other file runs byte for byte as written.
 */
export function extensionStatements(source: string): ExtensionStatements {
  if (!/\bextension\b/i.test(source)) return { created: [], dropped: [], sql: source };
  const created: string[] = [];
  const dropped: string[] = [];
  const kept: string[] = [];
  for (const statement of splitStatements(source)) {
    const create = CREATE.exec(statement);
    const drop = create ? null : DROP.exec(statement);
    if (create) created.push(unquote(create[1] as string));
    else if (drop) dropped.push(...(drop[1] as string).split(',').map((n) => unquote(n.trim())));
    else kept.push(statement);
  }
  if (created.length === 0 && dropped.length === 0) return { created, dropped, sql: source };
  return { created, dropped, sql: kept.length > 0 ? `${kept.join(';\n')};\n` : 'SELECT 1;\n' };
}
