import type { FleetConfig, RegionConfig } from '../src/config/schema.ts';
import { FleetError } from '../src/errors.ts';

/**
 * Every name the stacks give to AWS or Terraform, in one place: the policy pack, the docs and the
 * runner's outputs all agree because they derive names from here rather than re-spelling them.
 */

/** Terraform stack of one region's data plane; its name carries the region, as the issue asks. */
export function dataStackName(region: Pick<RegionConfig, 'name'>): string {
  return `data-${region.name}`;
}

/** IAM is global, so the roles that span every region live in one stack. */
export const ACCESS_STACK_NAME = 'access';

/** Prefix of AWS resource names in one region, e.g. `expium-addon-eu`. */
export function regionPrefix(fleet: Pick<FleetConfig, 'name'>, region: Pick<RegionConfig, 'name'>): string {
  return `${fleet.name}-${region.name}`;
}

/** The RDS instance identifier; the access stack looks the instance up by it. */
export function dbInstanceIdentifier(fleet: Pick<FleetConfig, 'name'>, region: Pick<RegionConfig, 'name'>): string {
  return regionPrefix(fleet, region);
}

/** State object key of a stack inside the state bucket. */
export function stateKey(fleet: Pick<FleetConfig, 'state'>, stackName: string): string {
  const prefix = fleet.state.keyPrefix.replace(/\/+$/, '');
  return prefix === '' ? `${stackName}.tfstate` : `${prefix}/${stackName}.tfstate`;
}

/**
 * The GitHub environment whose jobs may assume the purge pipeline roles. Its deployment branch
 * rule (main only) and its reviewers are set in GitHub; the OIDC subject names only the environment.
 */
export const PURGE_PIPELINE_ENVIRONMENT = 'purge';

/** Role the scheduled purge assumes for one region, e.g. `expium-addon-eu-purge-pipeline`. */
export function purgePipelineRoleName(fleet: Pick<FleetConfig, 'name'>, region: Pick<RegionConfig, 'name'>): string {
  return `${regionPrefix(fleet, region)}-purge-pipeline`;
}

/** Tag whose value AWS Backup selects resources by. */
export const BACKUP_SELECTION_TAG = 'backup-plan';

/** Tag that names what a role is for; the policy pack finds the support role by it. */
export const ROLE_PURPOSE_TAG = 'fleet-role';

/** Tag the data classification lives under, in the description's `tags`. */
export const DATA_CLASSIFICATION_TAG = 'data-classification';

/** Used when the description's tags name no classification: customer data is confidential. */
export const DEFAULT_DATA_CLASSIFICATION = 'customer-confidential';

/** AWS's tightest name limits among what the stacks name after fleet and region. */
const LIMITS: ReadonlyArray<readonly [what: string, suffix: string, max: number]> = [
  ['backup vault', '-offsite', 50],
  ['IAM role', '-rds-monitoring', 64],
  ['IAM role', '-purge-pipeline', 64],
  ['restore testing plan', '_restore', 50],
  ['RDS identifier', '', 63],
];

/**
 * Refuse, before Terraform does halfway through an apply, a fleet and region name pair that makes
 * an AWS name too long. The schema allows each name alone; only their sum can overflow.
 */
export function assertNamesFit(fleet: Pick<FleetConfig, 'name'>, region: Pick<RegionConfig, 'name'>): void {
  const problems = LIMITS.filter(([, suffix, max]) => `${regionPrefix(fleet, region)}${suffix}`.length > max).map(
    ([what, suffix, max]) =>
      `regions.${region.name}: ${what} name "${regionPrefix(fleet, region)}${suffix}" exceeds AWS's ${max} characters; shorten the fleet or region name`,
  );
  if (problems.length > 0) throw new FleetError('CONFIG_INVALID', 'the fleet description makes AWS names too long:', problems);
}
