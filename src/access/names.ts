import { createHash } from 'node:crypto';
import type pg from 'pg';
import { FleetError } from '../errors.ts';

/**
 * Role names. Roles are cluster-wide in PostgreSQL, but each region is one database and several
 * databases may share a server (the embedded default keeps every region on one server; the test
 * suite gives each test file a database). So every role a database's fleet creates starts with
 * that database's prefix: 'f' + 8 hex characters, generated once by the control migration
 * 0003_access (chosen so that no role on the server already starts with it) and kept in
 * fleet.access_settings.
 *
 *   <prefix>_<schema>       a tenant's privilege role, e.g. f1a2b3c4d_t_acme (NOLOGIN)
 *   <prefix>_l_<schema>     a tenant's session role, e.g. f1a2b3c4d_l_t_acme: the LOGIN that
 *                           withTenant connects as, a member of that tenant's role only
 *   <prefix>_support_<id>   the role of support grant <id>
 *   <prefix>_tenants        (until control migration 0004) the group that made one login a member of
 *                           every tenant role; 0004 drops it
 *   <prefix>_app            (until 0004) the shared application login role; 0004 drops it
 *
 * PostgreSQL truncates identifiers at 63 bytes. A schema is at most 62 characters (`t_` + 60), so
 * `<prefix>_<schema>` can reach 72: when it is longer than 63, the role is
 * `<prefix>_<first 40 characters of the schema>$<first 12 hex characters of sha256(schema)>`,
 * exactly 63. Schema names are ASCII, so characters are bytes. Two schemas sharing the first 40
 * characters get different hashes; every name is computed, never truncated by the server.
 * Session roles follow the same rule with `<prefix>_l_` in front (38 characters of the schema kept
 * when hashed). Tenant schemas start with `t_`, so `<prefix>_l_t_...` never meets a tenant role.
 */
export const ROLE_PREFIX_PATTERN = /^f[0-9a-f]{8}$/;
export const MAX_IDENTIFIER_BYTES = 63;

export function tenantRoleName(prefix: string, schema: string): string {
  return hashedName(prefix, '', schema);
}

/** The LOGIN role withTenant connects as for this tenant: NOINHERIT, a member of the tenant role only. */
export function sessionRoleName(prefix: string, schema: string): string {
  return hashedName(prefix, 'l_', schema);
}

// '$' never occurs in a schema name ([a-z0-9_]), so no plain name can equal a hashed one: a
// crafted 53-character id cannot take the role of a tenant whose name was hashed.
const HASH_SEPARATOR = '$';
const HASH_HEX_CHARS = 12;

function hashedName(prefix: string, kind: string, schema: string): string {
  assertPrefix(prefix);
  const plain = `${prefix}_${kind}${schema}`;
  if (Buffer.byteLength(plain) <= MAX_IDENTIFIER_BYTES) return plain;
  const hash = createHash('sha256').update(schema).digest('hex').slice(0, HASH_HEX_CHARS);
  return `${prefix}_${kind}${schema.slice(0, keptCharacters(prefix, kind))}${HASH_SEPARATOR}${hash}`;
}

function keptCharacters(prefix: string, kind: string): number {
  return MAX_IDENTIFIER_BYTES - prefix.length - 1 - kind.length - HASH_SEPARATOR.length - HASH_HEX_CHARS;
}

/**
 * tenantRoleName written in SQL, for queries over many tenants: `schemaExpr` is a SQL expression
 * of the schema name; the prefix (validated) and the constants are literals. The same rule as
 * hashedName above, kept next to it; a test compares both for every schema length.
 */
export function tenantRoleNameSql(prefix: string, schemaExpr: string): string {
  assertPrefix(prefix);
  const plain = `'${prefix}_' || ${schemaExpr}`;
  return `CASE WHEN octet_length(${plain}) <= ${MAX_IDENTIFIER_BYTES} THEN ${plain}
               ELSE '${prefix}_' || left(${schemaExpr}, ${keptCharacters(prefix, '')}) || '${HASH_SEPARATOR}' || left(encode(sha256(convert_to(${schemaExpr}, 'UTF8')), 'hex'), ${HASH_HEX_CHARS}) END`;
}

/** Before control migration 0004: the group through which the shared login reached every tenant role. */
export function tenantsGroupName(prefix: string): string {
  assertPrefix(prefix);
  return `${prefix}_tenants`;
}

/** Before control migration 0004: the shared application login role. */
export function appRoleName(prefix: string): string {
  assertPrefix(prefix);
  return `${prefix}_app`;
}

export function supportRoleName(prefix: string, grantId: string | number | bigint): string {
  assertPrefix(prefix);
  const id = String(grantId);
  if (!/^[1-9][0-9]{0,18}$/.test(id))
    throw new FleetError(
      'INPUT_INVALID',
      `support grant id ${JSON.stringify(id)} is not a grant id: a positive integer as printed by fleet support list`,
    );
  return `${prefix}_support_${id}`;
}

/** Is this one of the roles the fleet of the database with this prefix made? */
export function isFleetRole(prefix: string, role: string): boolean {
  return role.startsWith(`${prefix}_`);
}

function assertPrefix(prefix: string): void {
  if (!ROLE_PREFIX_PATTERN.test(prefix))
    throw new FleetError(
      'CONFIG_INVALID',
      `role prefix ${JSON.stringify(prefix)} is not 'f' + 8 hex characters; fleet.access_settings is damaged: restore it from the control migration 0003_access`,
    );
}

/** The database's role prefix, from the control schema (applied when the fleet connects). */
export async function readRolePrefix(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ role_prefix: string }>('SELECT role_prefix FROM fleet.access_settings');
  const prefix = rows[0]?.role_prefix;
  if (prefix === undefined) {
    throw new FleetError(
      'CONFIG_INVALID',
      'fleet.access_settings has no role prefix: the control migration 0003_access has not run on this database. Open the fleet (any fleet command) to apply it.',
    );
  }
  assertPrefix(prefix);
  return prefix;
}
