import { FleetError } from '../errors.ts';

/**
 * Tenant ids and the schema each maps to. The rule, documented in the README:
 * - an id is 1-60 characters of lowercase a-z, 0-9, '-' and '_', starting with a letter or digit
 *   (Atlassian clientKeys are lowercase UUIDs; Forge installation ids are mapped by the app);
 * - its schema is `t_` + the id with '-' replaced by '_'.
 * 60 + 2 characters stays under PostgreSQL's 63-byte identifier limit, so no schema name is ever
 * truncated. The '-' to '_' step means `acme-1` and `acme_1` share a schema: the registry's unique
 * schema column refuses the second, and `findSchemaCollisions` reports it before anything changes.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,59}$/;
export const TENANT_ID_RULE = 'a tenant id is 1-60 characters of lowercase a-z, 0-9, "-" and "_", starting with a letter or digit';

export function tenantIdProblem(id: string): string | undefined {
  if (TENANT_ID_PATTERN.test(id)) return undefined;
  const shown = JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id);
  if (id.length === 0) return `empty tenant id: ${TENANT_ID_RULE}`;
  if (id.length > 60) return `tenant id ${shown} is ${id.length} characters long: ${TENANT_ID_RULE}`;
  if (TENANT_ID_PATTERN.test(id.toLowerCase()))
    return `tenant id ${shown} has uppercase letters: ${TENANT_ID_RULE} (use ${JSON.stringify(id.toLowerCase())})`;
  return `tenant id ${shown} is not valid: ${TENANT_ID_RULE}`;
}

export function assertTenantId(id: string): void {
  const problem = tenantIdProblem(id);
  if (problem) throw new FleetError('INPUT_INVALID', problem);
}

/** Validate many ids at once; report every bad one together. */
export function assertTenantIds(ids: readonly string[]): void {
  const problems = ids.map(tenantIdProblem).filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    throw new FleetError('INPUT_INVALID', `${problems.length} tenant id(s) refused; nothing was changed:`, problems.slice(0, 50));
  }
}

export function schemaNameFor(id: string): string {
  assertTenantId(id);
  return `t_${id.replaceAll('-', '_')}`;
}

/** Pairs of distinct ids in the list that would share one schema. */
export function findSchemaCollisions(ids: readonly string[]): Array<[string, string]> {
  const bySchema = new Map<string, string>();
  const collisions: Array<[string, string]> = [];
  for (const id of ids) {
    const schema = schemaNameFor(id);
    const other = bySchema.get(schema);
    if (other !== undefined && other !== id) collisions.push([other, id]);
    else bySchema.set(schema, id);
  }
  return collisions;
}
