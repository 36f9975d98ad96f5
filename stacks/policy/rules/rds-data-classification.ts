import { attributeRule } from '../helpers.ts';
import { DATA_CLASSIFICATION_TAG } from '../../naming.ts';
import { compliant, nonCompliant } from '../types.ts';

export const rdsDataClassification = attributeRule({
  id: 'rds-data-classification',
  control: 'custom',
  title: 'RDS instance tagged with its data classification',
  resourceType: 'aws_db_instance',
  check: (v) => {
    const tags = (v.tags ?? {}) as Record<string, unknown>;
    const value = tags[DATA_CLASSIFICATION_TAG];
    // On the resource itself, not only default_tags: copy_tags_to_snapshot copies resource tags.
    return typeof value === 'string' && value !== ''
      ? compliant(`${DATA_CLASSIFICATION_TAG} is ${value}`)
      : nonCompliant(`no ${DATA_CLASSIFICATION_TAG} tag on the instance: snapshots would not say what they hold`);
  },
});
