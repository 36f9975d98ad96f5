import { FleetError } from '../src/errors.ts';

/**
 * For the npm scripts (synth, locations): a bad description is the user's to fix and its message
 * names every problem, so print that and exit 2 rather than a stack trace. Anything else is a bug
 * and is rethrown, trace and all.
 */
export function reportFleetError(error: unknown): void {
  if (!(error instanceof FleetError)) throw error;
  console.error(`error [${error.code}] ${error.message}`);
  process.exitCode = 2;
}
