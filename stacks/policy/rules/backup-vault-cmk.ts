import { customerKey } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const backupVaultCmk: PolicyRule = {
  id: 'backup-vault-cmk',
  control: 'Backup.1',
  title: 'Backup vault encrypted with a customer-managed key',
  resourceTypes: ['aws_backup_vault'],
  evaluate(resource, stack) {
    const key = customerKey(resource.values.kms_key_arn, stack);
    return key.ok ? compliant(`vault encrypted with ${key.why}`) : nonCompliant(`kms_key_arn: ${key.why}`);
  },
};
