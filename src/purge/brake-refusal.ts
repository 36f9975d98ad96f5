import { FleetError } from '../errors.ts';
import type { DueSummary } from './due-summary.ts';

/**
 * The brake's refusal, with what it refused: the tenants it would have acted on and their summary
 * by cause and date, so the CLI's JSON and an on-call engineer see the whole picture at once.
 */
export class BrakeRefusal<T> extends FleetError {
  readonly tenants: readonly T[];
  readonly dueSummary: DueSummary;

  constructor(message: string, problems: readonly string[], tenants: readonly T[], dueSummary: DueSummary) {
    super('REFUSED', message, problems);
    this.tenants = tenants;
    this.dueSummary = dueSummary;
  }
}
