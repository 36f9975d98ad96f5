import { attributeRule, requireTrue } from '../helpers.ts';

export const rdsDeletionProtection = attributeRule({
  id: 'rds-deletion-protection',
  control: 'RDS.8',
  title: 'RDS deletion protection enabled',
  resourceType: 'aws_db_instance',
  check: requireTrue('deletion_protection', 'one destroy deletes every tenant of the region'),
});
