import { quoteIdent } from './quote.ts';

/**
 * The schema that holds the fleet's extensions (the fleet description's `extensions`), once per
 * regional database: not public (anyone may create there by default on older databases), not a
 * tenant's (a purge would drop it from under every other tenant).
 */
export const EXTENSIONS_SCHEMA = 'fleet_ext';

/**
 * The search_path of a tenant, as SQL text: its schema, then the shared extensions schema, so
 * unqualified names resolve to the tenant's own objects first and extension functions, types and
 * operator classes (gin_trgm_ops) are found without a schema name. Every place that sets a
 * tenant's search_path (runner, withTenant, support roles, verify's reference) uses this one helper.
 */
export function tenantSearchPath(schema: string): string {
  return `${quoteIdent(schema)}, ${quoteIdent(EXTENSIONS_SCHEMA)}`;
}
