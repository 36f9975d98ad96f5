import { jurisdictionOf } from '../../../src/config/aws-regions.ts';
import { show } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule, type StackView } from '../types.ts';

/** Region of a copy destination: a vault of this stack, or the region field of a literal vault ARN. */
function destinationRegion(arn: unknown, stack: StackView): string | undefined {
  const vault = stack.resolve(arn);
  if (vault) return stack.regionOf(vault);
  return typeof arn === 'string' ? /^arn:aws[a-z-]*:backup:([a-z0-9-]+):/.exec(arn)?.[1] : undefined;
}

export const backupCopySameJurisdiction: PolicyRule = {
  id: 'backup-copy-same-jurisdiction',
  control: 'custom',
  title: 'Every backup rule copies to another region of the same jurisdiction',
  resourceTypes: ['aws_backup_plan'],
  evaluate(resource, stack) {
    const home = stack.regionOf(resource);
    const homeJurisdiction = home === undefined ? undefined : jurisdictionOf(home);
    if (home === undefined || homeJurisdiction === undefined)
      return nonCompliant(`the plan's region ${show(home)} has no known jurisdiction`);
    const rules = Array.isArray(resource.values.rule) ? (resource.values.rule as Array<Record<string, unknown>>) : [];
    if (rules.length === 0) return nonCompliant('the plan has no rules');
    const problems: string[] = [];
    const copies: string[] = [];
    for (const rule of rules) {
      const name = String(rule.rule_name ?? '?');
      const actions = Array.isArray(rule.copy_action) ? (rule.copy_action as Array<Record<string, unknown>>) : [];
      if (actions.length === 0) problems.push(`rule ${name} copies nowhere: one region's loss loses its backups`);
      for (const action of actions) {
        const region = destinationRegion(action.destination_vault_arn, stack);
        const jurisdiction = region === undefined ? undefined : jurisdictionOf(region);
        if (region === undefined) problems.push(`rule ${name} copies to ${show(action.destination_vault_arn)}, whose region is unknown`);
        else if (region === home) problems.push(`rule ${name} copies within ${home} itself`);
        else if (jurisdiction !== homeJurisdiction)
          problems.push(`rule ${name} copies to ${region} (${jurisdiction ?? 'unknown jurisdiction'}), outside ${homeJurisdiction}`);
        else copies.push(`${name} -> ${region}`);
      }
    }
    return problems.length > 0 ? nonCompliant(problems.join('; ')) : compliant(`${home} (${homeJurisdiction}): ${copies.join(', ')}`);
  },
};
