import { show } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const backupVaultLocked: PolicyRule = {
  id: 'backup-vault-locked',
  control: 'custom',
  title: 'Backup vault has a vault lock with minimum and maximum retention',
  resourceTypes: ['aws_backup_vault'],
  evaluate(resource, stack) {
    const lock = stack
      .resources('aws_backup_vault_lock_configuration')
      .find(
        (l) =>
          stack.resolve(l.values.backup_vault_name)?.address === resource.address || l.values.backup_vault_name === resource.values.name,
      );
    if (!lock) return nonCompliant('no aws_backup_vault_lock_configuration for this vault: recovery points can be deleted early');
    const { min_retention_days: min, max_retention_days: max } = lock.values;
    if (typeof min !== 'number' || typeof max !== 'number')
      return nonCompliant(`${lock.address} sets min_retention_days ${show(min)} and max_retention_days ${show(max)}; both are needed`);
    if (min > max) return nonCompliant(`${lock.address}: min_retention_days ${min} exceeds max_retention_days ${max}`);
    return compliant(`${lock.address} keeps recovery points ${min}-${max} days`);
  },
};
