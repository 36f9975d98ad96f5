/**
 * The PostgreSQL error codes (SQLSTATE) the library reacts to, by their names in the PostgreSQL
 * manual's "PostgreSQL Error Codes" appendix. Compare `error.code` against these, never a literal.
 */
export const SQLSTATE = {
  INSUFFICIENT_PRIVILEGE: '42501',
  INVALID_PARAMETER_VALUE: '22023',
  INVALID_PASSWORD: '28P01',
  INVALID_CATALOG_NAME: '3D000',
  INVALID_SCHEMA_NAME: '3F000',
  UNDEFINED_TABLE: '42P01',
  UNDEFINED_OBJECT: '42704',
  NO_DATA_FOUND: 'P0002',
  DUPLICATE_OBJECT: '42710',
  DUPLICATE_DATABASE: '42P04',
  UNIQUE_VIOLATION: '23505',
  LOCK_NOT_AVAILABLE: '55P03',
  DEADLOCK_DETECTED: '40P01',
  RAISE_EXCEPTION: 'P0001',
  ADMIN_SHUTDOWN: '57P01',
  CRASH_SHUTDOWN: '57P02',
  CANNOT_CONNECT_NOW: '57P03',
  CONNECTION_EXCEPTION: '08000',
  CONNECTION_DOES_NOT_EXIST: '08003',
  CONNECTION_FAILURE: '08006',
  SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION: '08001',
  SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION: '08004',
  /** Ours: fleet_access.unit_check (control migration 0013), in a class PostgreSQL does not use. */
  UNIT_CHECK_FAILED: 'FL001',
} as const;

export type SqlState = (typeof SQLSTATE)[keyof typeof SQLSTATE];

/** The SQLSTATE of a database error, or undefined for anything else. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
