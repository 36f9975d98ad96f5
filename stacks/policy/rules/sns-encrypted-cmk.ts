import { customerKey } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const snsEncryptedCmk: PolicyRule = {
  id: 'sns-encrypted-cmk',
  control: 'SNS.1, CKV_AWS_26',
  title: 'SNS topic encrypted with a customer-managed key',
  resourceTypes: ['aws_sns_topic'],
  evaluate(resource, stack) {
    const key = customerKey(resource.values.kms_master_key_id, stack);
    return key.ok ? compliant(`topic encrypted with ${key.why}`) : nonCompliant(`kms_master_key_id: ${key.why}`);
  },
};
