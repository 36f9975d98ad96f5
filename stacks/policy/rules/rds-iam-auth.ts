import { attributeRule, requireTrue } from '../helpers.ts';

export const rdsIamAuth = attributeRule({
  id: 'rds-iam-auth',
  control: 'RDS.10',
  title: 'RDS IAM database authentication enabled',
  resourceType: 'aws_db_instance',
  check: requireTrue('iam_database_authentication_enabled', 'the migration, purge and support roles cannot log in without passwords'),
});
