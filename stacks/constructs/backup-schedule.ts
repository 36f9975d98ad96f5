import { Construct } from 'constructs';
import { BackupPlan } from '@cdktf/provider-aws/lib/backup-plan/index.js';
import { BackupSelection } from '@cdktf/provider-aws/lib/backup-selection/index.js';
import { ServiceRole } from './service-role.ts';

export interface BackupScheduleProps {
  /** Plan name; also the value of the selection tag. */
  readonly name: string;
  readonly vaultName: string;
  /** ARN of the locked vault in the off-site region every recovery point is copied to. */
  readonly offsiteVaultArn: string;
  readonly dailyRetentionDays: number;
  readonly weeklyRetentionDays: number;
  /** Tag key resources are selected by; its value is the plan name. */
  readonly selectionTagKey: string;
  /** Daily schedule; default 03:00 UTC, after the RDS backup window below. */
  readonly dailySchedule?: string;
  /** Weekly schedule; default Sunday 04:00 UTC. */
  readonly weeklySchedule?: string;
}

/**
 * Daily and weekly snapshots, each copied to the off-site vault with the same retention, taken of
 * whatever carries the selection tag, so a new database joins the plan by being tagged.
 */
export class BackupSchedule extends Construct {
  readonly plan: BackupPlan;
  readonly selection: BackupSelection;
  readonly role: ServiceRole;

  constructor(scope: Construct, id: string, props: BackupScheduleProps) {
    super(scope, id);
    const rule = (ruleName: string, schedule: string, days: number) => ({
      ruleName,
      targetVaultName: props.vaultName,
      schedule,
      startWindow: 60,
      completionWindow: 360,
      lifecycle: { deleteAfter: days },
      copyAction: [{ destinationVaultArn: props.offsiteVaultArn, lifecycle: { deleteAfter: days } }],
    });
    this.plan = new BackupPlan(this, 'plan', {
      name: props.name,
      rule: [
        rule('daily', props.dailySchedule ?? 'cron(0 3 * * ? *)', props.dailyRetentionDays),
        rule('weekly', props.weeklySchedule ?? 'cron(0 4 ? * SUN *)', props.weeklyRetentionDays),
      ],
    });
    this.role = new ServiceRole(this, 'role', {
      name: `${props.name}-backup`,
      service: 'backup.amazonaws.com',
      managedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup'],
      purpose: 'backup',
    });
    this.selection = new BackupSelection(this, 'selection', {
      name: props.name,
      planId: this.plan.id,
      iamRoleArn: this.role.role.arn,
      selectionTag: [{ type: 'STRINGEQUALS', key: props.selectionTagKey, value: props.name }],
    });
  }
}
