import { show } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

const VAULT_ARN = /^arn:aws[a-z-]*:backup:([a-z0-9-]+):\d{12}:backup-vault:.+$/;

export const restoreTestingOwnVault: PolicyRule = {
  id: 'restore-testing-own-vault',
  control: 'custom',
  title: "Restore testing plans pick recovery points from their region's own vault, named",
  resourceTypes: ['aws_backup_restore_testing_plan'],
  evaluate(resource, stack) {
    const home = stack.regionOf(resource);
    const selections = (resource.values.recovery_point_selection ?? []) as Array<Record<string, unknown>>;
    const vaults = selections.flatMap((s) => (Array.isArray(s.include_vaults) ? s.include_vaults.map(String) : []));
    if (vaults.length === 0) return nonCompliant('recovery_point_selection names no include_vaults');
    const problems: string[] = [];
    const named: string[] = [];
    for (const value of vaults) {
      if (value === '*') {
        problems.push('include_vaults is "*": any vault of the account in the region, not the region\'s own');
        continue;
      }
      const vault = stack.resolve(value);
      const region = vault ? (vault.type === 'aws_backup_vault' ? stack.regionOf(vault) : undefined) : VAULT_ARN.exec(value)?.[1];
      if (vault && vault.type !== 'aws_backup_vault') problems.push(`${value} is a ${vault.type}, not a backup vault`);
      else if (region === undefined) problems.push(`${show(value)} is neither a vault of this stack nor a vault ARN`);
      else if (region !== home) problems.push(`${vault?.address ?? value} is in ${region}, not in the plan's region ${show(home)}`);
      else named.push(vault?.address ?? value);
    }
    return problems.length > 0 ? nonCompliant(problems.join('; ')) : compliant(`picks from ${named.join(', ')} in ${home}`);
  },
};
