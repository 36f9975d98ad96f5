import { attributeRule, show } from '../helpers.ts';
import { compliant, nonCompliant } from '../types.ts';
import { AUTOMATED_BACKUP_DAYS as REQUIRED_RETENTION_DAYS } from '../../promises.ts';

export const rdsBackupRetention = attributeRule({
  id: 'rds-backup-retention',
  control: 'RDS.11',
  title: `RDS automated backups kept ${REQUIRED_RETENTION_DAYS} days`,
  resourceType: 'aws_db_instance',
  check: (v) => {
    const days = v.backup_retention_period;
    return typeof days === 'number' && days >= REQUIRED_RETENTION_DAYS
      ? compliant(`backup_retention_period is ${days}`)
      : nonCompliant(`backup_retention_period is ${show(days)}, below the ${REQUIRED_RETENTION_DAYS} days promised`);
  },
});
