import { attributeRule, requireTrue } from '../helpers.ts';

export const rdsMultiAz = attributeRule({
  id: 'rds-multi-az',
  control: 'RDS.5',
  title: 'RDS instance is Multi-AZ',
  resourceType: 'aws_db_instance',
  check: requireTrue('multi_az', 'one availability zone failing takes the region down'),
});
