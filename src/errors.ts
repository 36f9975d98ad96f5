/**
 * The few error classes of the library. Each has a stable `code` a pipeline can match on, and a
 * message that names the offending value and the fix. Across the fleet the runner returns results,
 * not throws: these are for misconfiguration, bad input and refusals before anything changed.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'INPUT_INVALID'
  | 'MIGRATION_FILES_INVALID'
  | 'LEDGER_MISMATCH'
  | 'TENANT_NOT_FOUND'
  | 'TENANT_NOT_ACTIVE'
  | 'REFUSED'
  | 'DATABASE_UNAVAILABLE';

export class FleetError extends Error {
  readonly code: ErrorCode;
  /** Every problem found, when validation collected more than one. */
  readonly problems: readonly string[];

  constructor(code: ErrorCode, message: string, problems: readonly string[] = []) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.name = 'FleetError';
    this.code = code;
    this.problems = problems;
  }
}

/** Bad usage, configuration, input or migration files: the CLI maps these to exit code 2. */
export function isUsageError(error: unknown): error is FleetError {
  return (
    error instanceof FleetError &&
    (error.code === 'CONFIG_INVALID' ||
      error.code === 'INPUT_INVALID' ||
      error.code === 'MIGRATION_FILES_INVALID' ||
      error.code === 'LEDGER_MISMATCH')
  );
}
