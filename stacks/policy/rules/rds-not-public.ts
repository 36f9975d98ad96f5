import { attributeRule } from '../helpers.ts';
import { compliant, nonCompliant } from '../types.ts';

export const rdsNotPublic = attributeRule({
  id: 'rds-not-public',
  control: 'RDS.2',
  title: 'RDS instance is not publicly accessible',
  resourceType: 'aws_db_instance',
  check: (v) =>
    v.publicly_accessible === true
      ? nonCompliant('publicly_accessible is true: the instance gets a public address')
      : compliant(v.publicly_accessible === false ? 'publicly_accessible is false' : 'publicly_accessible not set: private by default'),
});
