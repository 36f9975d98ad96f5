import { customerKey } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const rdsPerformanceInsightsEncrypted: PolicyRule = {
  id: 'rds-performance-insights-encrypted',
  control: 'CKV_AWS_353/354',
  title: 'Performance Insights enabled and encrypted with a customer-managed key',
  resourceTypes: ['aws_db_instance'],
  evaluate(resource, stack) {
    const v = resource.values;
    if (v.performance_insights_enabled !== true)
      return nonCompliant('performance_insights_enabled is not true: no query-level evidence after an incident');
    const key = customerKey(v.performance_insights_kms_key_id, stack);
    // Performance Insights stores query text, which can hold customer data.
    return key.ok
      ? compliant(`Performance Insights encrypted with ${key.why}`)
      : nonCompliant(`performance_insights_kms_key_id: ${key.why}`);
  },
};
