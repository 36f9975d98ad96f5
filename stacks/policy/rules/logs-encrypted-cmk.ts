import { customerKey } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const logsEncryptedCmk: PolicyRule = {
  id: 'logs-encrypted-cmk',
  control: 'CKV_AWS_158',
  title: 'CloudWatch log group encrypted with a customer-managed key',
  resourceTypes: ['aws_cloudwatch_log_group'],
  evaluate(resource, stack) {
    // PostgreSQL logs can quote statements, and so customer data.
    const key = customerKey(resource.values.kms_key_id, stack);
    return key.ok ? compliant(`encrypted with ${key.why}`) : nonCompliant(`kms_key_id: ${key.why}`);
  },
};
