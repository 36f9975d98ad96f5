import { Construct } from 'constructs';
import { BackupRestoreTestingPlan } from '@cdktf/provider-aws/lib/backup-restore-testing-plan/index.js';
import { BackupRestoreTestingSelection } from '@cdktf/provider-aws/lib/backup-restore-testing-selection/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy/index.js';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target/index.js';
import { ServiceRole } from './service-role.ts';
import { policyDocument } from '../iam-document.ts';
import { RESTORE_TEST_SELECTION_DAYS, RESTORE_TEST_VALIDATION_HOURS } from '../promises.ts';

/** AWS Backup names restore testing plans and selections with letters, digits and underscores only. */
export function restoreTestingName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

export interface RestoreTestingProps {
  /** Prefix of the names, e.g. `expium-addon-eu`; the plan is `expium_addon_eu_restore`. */
  readonly name: string;
  readonly awsRegion: string;
  readonly accountId: string;
  /** The region's own vault, the only one recovery points are picked from. */
  readonly vaultArn: string;
  /** ARN of the instance whose recovery points are restored. */
  readonly instanceArn: string;
  /** Its identifier: the role is denied every change to the live instance by it. */
  readonly instanceIdentifier: string;
  /**
   * Key of the vault and the instance; the restore decrypts the snapshot and encrypts the copy with
   * it, and the alert topic is encrypted with it (its policy must let EventBridge publish).
   */
  readonly kmsKeyArn: string;
  /** Where the restored copy runs: the region's private subnets and database firewall, never the default VPC. */
  readonly subnetGroupName: string;
  readonly securityGroupIds: readonly string[];
  /** Default Mondays 06:00 UTC, after Sunday's weekly backup. */
  readonly schedule?: string;
  /** Hours the restore may take to start; default 4. */
  readonly startWindowHours?: number;
  readonly selectionWindowDays?: number;
  readonly validationWindowHours?: number;
}

/**
 * A backup nobody has restored is a hope, not a backup. On a schedule AWS Backup restores the
 * instance's latest recovery point from the region's own vault into the region's private network,
 * keeps the copy for the validation window, then deletes it; each run is a restore job whose
 * status and duration AWS Backup records (and Backup Audit Manager can report on).
 */
export class RestoreTesting extends Construct {
  readonly plan: BackupRestoreTestingPlan;
  readonly selection: BackupRestoreTestingSelection;
  readonly role: ServiceRole;
  /** Where a failed or aborted restore test is announced; subscribe on-call to it. */
  readonly alerts: SnsTopic;

  constructor(scope: Construct, id: string, props: RestoreTestingProps) {
    super(scope, id);
    this.plan = new BackupRestoreTestingPlan(this, 'plan', {
      name: `${restoreTestingName(props.name)}_restore`,
      scheduleExpression: props.schedule ?? 'cron(0 6 ? * MON *)',
      scheduleExpressionTimezone: 'Etc/UTC',
      startWindowHours: props.startWindowHours ?? 4,
      recoveryPointSelection: [
        {
          algorithm: 'LATEST_WITHIN_WINDOW',
          includeVaults: [props.vaultArn],
          // The plan keeps snapshots only: RDS's own point-in-time recovery is not in the vault.
          recoveryPointTypes: ['SNAPSHOT'],
          selectionWindowDays: props.selectionWindowDays ?? RESTORE_TEST_SELECTION_DAYS,
        },
      ],
    });
    // Its own role, not the backup role: taking backups never needs the right to create instances.
    this.role = new ServiceRole(this, 'role', {
      name: `${props.name}-restore-test`,
      service: 'backup.amazonaws.com',
      managedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores'],
      purpose: 'restore-testing',
    });
    new IamRolePolicy(this, 'scope', {
      name: 'restore-test-scope',
      role: this.role.role.id,
      policy: policyDocument(
        {
          Sid: 'UseTheRegionKeyThroughRdsAndBackupOnly',
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:CreateGrant', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
          Resource: props.kmsKeyArn,
          Condition: {
            StringEquals: { 'kms:ViaService': [`rds.${props.awsRegion}.amazonaws.com`, `backup.${props.awsRegion}.amazonaws.com`] },
          },
        },
        {
          // The managed policy may delete the restored copy; this keeps it off the live instance.
          Sid: 'NeverTouchTheLiveInstance',
          Effect: 'Deny',
          Action: [
            'rds:DeleteDBInstance',
            'rds:ModifyDBInstance',
            'rds:RebootDBInstance',
            'rds:StopDBInstance',
            'rds:AddTagsToResource',
            'rds:RemoveTagsFromResource',
          ],
          Resource: `arn:aws:rds:${props.awsRegion}:${props.accountId}:db:${props.instanceIdentifier}`,
        },
      ),
    });
    this.selection = new BackupRestoreTestingSelection(this, 'selection', {
      name: 'rds_instance',
      restoreTestingPlanName: this.plan.name,
      protectedResourceType: 'RDS',
      protectedResourceArns: [props.instanceArn],
      iamRoleArn: this.role.role.arn,
      validationWindowHours: props.validationWindowHours ?? RESTORE_TEST_VALIDATION_HOURS,
      restoreMetadataOverrides: {
        dbSubnetGroupName: props.subnetGroupName,
        vpcSecurityGroupIds: JSON.stringify([...props.securityGroupIds]),
      },
    });

    // A test whose failure nobody hears of tests nothing.
    this.alerts = new SnsTopic(this, 'alerts', { name: `${props.name}-restore-tests`, kmsMasterKeyId: props.kmsKeyArn });
    const rule = new CloudwatchEventRule(this, 'failed', {
      name: `${props.name}-restore-test-failed`,
      description: `A restore test of ${props.name} failed or was aborted`,
      eventPattern: JSON.stringify({
        source: ['aws.backup'],
        'detail-type': ['Restore Job State Change'],
        detail: { status: ['FAILED', 'ABORTED'], restoreTestingPlanArn: [this.plan.arn] },
      }),
    });
    new CloudwatchEventTarget(this, 'notify', { rule: rule.name, arn: this.alerts.arn });
    new SnsTopicPolicy(this, 'alerts-policy', {
      arn: this.alerts.arn,
      policy: policyDocument({
        Sid: 'OnlyTheRestoreTestRulePublishes',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: this.alerts.arn,
        Condition: { ArnEquals: { 'aws:SourceArn': rule.arn } },
      }),
    });
  }
}
