/**
 * `tenant-fleet/purge`: delete the data of tenants whose grace period is over, behind the brake,
 * and the schemas restores set aside once their drop date has passed; and the evidence of what
 * was deleted.
 */
export {
  purgeFleet,
  type AsidePurgeResult,
  type PurgeEvent,
  type PurgeOptions,
  type PurgeReport,
  type PurgeResult,
} from './purge-fleet.ts';
export type { DueAside, DueTenant } from './plan.ts';
export { purgeEvidence, type PurgeEvidence, type PurgeRecord, type PurgeReportOptions } from './purge-report.ts';
export { BrakeRefusal } from './brake-refusal.ts';
export { evaluateBrake, type BrakeDecision, type BrakeLimit, type RegionCount } from './brake.ts';
export { summarizeDue, type DueSummary } from './due-summary.ts';
