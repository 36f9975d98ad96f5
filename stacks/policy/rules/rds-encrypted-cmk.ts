import { customerKey, show } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const rdsEncryptedCmk: PolicyRule = {
  id: 'rds-encrypted-cmk',
  control: 'RDS.3',
  title: 'RDS storage encrypted with a customer-managed key',
  resourceTypes: ['aws_db_instance'],
  evaluate(resource, stack) {
    const v = resource.values;
    if (v.storage_encrypted !== true) return nonCompliant(`storage_encrypted is ${show(v.storage_encrypted)}: data at rest unencrypted`);
    const key = customerKey(v.kms_key_id, stack);
    return key.ok ? compliant(`storage encrypted with ${key.why}`) : nonCompliant(`kms_key_id: ${key.why}`);
  },
};
