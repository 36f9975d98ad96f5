import { attributeRule, show } from '../helpers.ts';
import { compliant, nonCompliant } from '../types.ts';

/** PostgreSQL's logs RDS can export; both are needed to reconstruct an incident or an upgrade. */
const REQUIRED = ['postgresql', 'upgrade'];

export const rdsLogsExported = attributeRule({
  id: 'rds-logs-exported',
  control: 'RDS.9',
  title: 'RDS postgresql and upgrade logs exported to CloudWatch',
  resourceType: 'aws_db_instance',
  check: (v) => {
    const exported = Array.isArray(v.enabled_cloudwatch_logs_exports) ? v.enabled_cloudwatch_logs_exports.map(String) : [];
    const missing = REQUIRED.filter((log) => !exported.includes(log));
    return missing.length === 0
      ? compliant(`exports ${exported.join(', ')}`)
      : nonCompliant(`enabled_cloudwatch_logs_exports is ${show(v.enabled_cloudwatch_logs_exports)}, missing ${missing.join(', ')}`);
  },
});
