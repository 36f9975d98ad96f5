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
  /** The option whose value was refused, as the library names it (`now`, `max`, `to`), when one was. */
  readonly option: string | undefined;
  #render: ((name: string) => string) | undefined;

  constructor(code: ErrorCode, message: string, problems: readonly string[] = []) {
    super(withProblems(message, problems));
    this.name = 'FleetError';
    this.code = code;
    this.problems = problems;
    this.option = undefined;
  }

  /**
   * An option's value refused: `describe` writes the message around the option's name, so a caller
   * that knows the option by another name (the CLI's `--now`) can say it in its own terms.
   */
  static forOption(code: ErrorCode, option: string, describe: (name: string) => string, problems: readonly string[] = []): FleetError {
    const error = new FleetError(code, describe(option), problems);
    (error as { option: string | undefined }).option = option;
    error.#render = describe;
    return error;
  }

  /** The message with the refused option named by `nameOf` (e.g. option `now` as `--now`). */
  describeWith(nameOf: (option: string) => string): string {
    if (this.option === undefined || this.#render === undefined) return this.message;
    return withProblems(this.#render(nameOf(this.option)), this.problems);
  }
}

function withProblems(message: string, problems: readonly string[]): string {
  return problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message;
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
