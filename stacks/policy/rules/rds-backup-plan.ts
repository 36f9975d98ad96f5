import { backupSelectionPicks as selects } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const rdsBackupPlan: PolicyRule = {
  id: 'rds-backup-plan',
  control: 'RDS.26',
  title: 'RDS instance protected by an AWS Backup plan',
  resourceTypes: ['aws_db_instance'],
  evaluate(resource, stack) {
    for (const selection of stack.resources('aws_backup_selection')) {
      if (!selects(selection, resource)) continue;
      const plan = stack.resolve(selection.values.plan_id);
      const rules = Array.isArray(plan?.values.rule) ? plan.values.rule.length : 0;
      if (plan?.type === 'aws_backup_plan' && rules > 0)
        return compliant(`selected by ${selection.address} into ${plan.address} (${rules} rules)`);
    }
    return nonCompliant(
      'no aws_backup_selection of this stack picks the instance into a plan with rules: only RDS automated backups, in one region, would exist',
    );
  },
};
