import { attributeRule, requireTrue } from '../helpers.ts';

export const rdsTagsToSnapshots = attributeRule({
  id: 'rds-tags-to-snapshots',
  control: 'RDS.17',
  title: 'RDS copies tags to snapshots',
  resourceType: 'aws_db_instance',
  check: requireTrue('copy_tags_to_snapshot', 'snapshots lose the data classification and the backup selection tag'),
});
