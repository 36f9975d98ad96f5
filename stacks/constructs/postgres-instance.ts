import { Construct } from 'constructs';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance/index.js';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { ServiceRole } from './service-role.ts';
import { AUTOMATED_BACKUP_DAYS } from '../promises.ts';

/** Logs the statement promises to keep: server log and the major-upgrade log. */
export const EXPORTED_LOGS = ['postgresql', 'upgrade'] as const;

/** RDS writes exported logs to these groups; creating them first is how they get our key. */
export function rdsLogGroupName(identifier: string, log: string): string {
  return `/aws/rds/instance/${identifier}/${log}`;
}

export interface PostgresInstanceProps {
  /** RDS identifier, also the prefix of the instance's role and snapshot names. */
  readonly identifier: string;
  readonly engineVersion: string;
  readonly instanceClass: string;
  readonly allocatedStorageGb: number;
  /** Storage autoscaling ceiling. */
  readonly maxAllocatedStorageGb: number;
  /** ARN of the customer-managed key for storage, Performance Insights, the secret and logs. */
  readonly kmsKeyArn: string;
  readonly subnetGroupName: string;
  readonly securityGroupIds: readonly string[];
  readonly parameterGroupName: string;
  readonly accountId: string;
  /** Tags of the instance (copied to its snapshots); should include the data classification. */
  readonly tags: Readonly<Record<string, string>>;
  /** Days of automated backups (point-in-time recovery); default 35, RDS's maximum. */
  readonly backupRetentionDays?: number;
  /** Seconds between enhanced-monitoring samples; default 60. */
  readonly monitoringIntervalSeconds?: number;
  /** Days CloudWatch keeps the exported logs; default 365. */
  readonly logRetentionDays?: number;
  /** Database created at launch; default `fleet`, the runner's default database name. */
  readonly databaseName?: string;
  /** Master user; its password lives only in Secrets Manager. Default `fleet_admin`. */
  readonly masterUsername?: string;
}

/**
 * The region's PostgreSQL: every setting the security statement names is fixed here rather than
 * left to provider defaults, so the synthesized JSON (and the policy pack) shows it.
 */
export class PostgresInstance extends Construct {
  readonly instance: DbInstance;
  readonly monitoringRole: ServiceRole;
  readonly logGroups: CloudwatchLogGroup[];

  constructor(scope: Construct, id: string, props: PostgresInstanceProps) {
    super(scope, id);
    this.monitoringRole = new ServiceRole(this, 'monitoring-role', {
      name: `${props.identifier}-rds-monitoring`,
      service: 'monitoring.rds.amazonaws.com',
      sourceAccountId: props.accountId,
      managedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole'],
      purpose: 'rds-monitoring',
    });
    this.logGroups = EXPORTED_LOGS.map(
      (log) =>
        new CloudwatchLogGroup(this, `log-${log}`, {
          name: rdsLogGroupName(props.identifier, log),
          kmsKeyId: props.kmsKeyArn,
          retentionInDays: props.logRetentionDays ?? 365,
        }),
    );
    this.instance = new DbInstance(this, 'instance', {
      identifier: props.identifier,
      engine: 'postgres',
      engineVersion: props.engineVersion,
      instanceClass: props.instanceClass,
      dbName: props.databaseName ?? 'fleet',
      username: props.masterUsername ?? 'fleet_admin',
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.kmsKeyArn,
      allocatedStorage: props.allocatedStorageGb,
      maxAllocatedStorage: props.maxAllocatedStorageGb,
      storageType: 'gp3',
      storageEncrypted: true,
      kmsKeyId: props.kmsKeyArn,
      multiAz: true,
      publiclyAccessible: false,
      dbSubnetGroupName: props.subnetGroupName,
      vpcSecurityGroupIds: [...props.securityGroupIds],
      parameterGroupName: props.parameterGroupName,
      iamDatabaseAuthenticationEnabled: true,
      deletionProtection: true,
      backupRetentionPeriod: props.backupRetentionDays ?? AUTOMATED_BACKUP_DAYS,
      // Keep the automated backups if the instance is ever deleted after all.
      deleteAutomatedBackups: false,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      enabledCloudwatchLogsExports: [...EXPORTED_LOGS],
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: props.kmsKeyArn,
      performanceInsightsRetentionPeriod: 7,
      monitoringInterval: props.monitoringIntervalSeconds ?? 60,
      monitoringRoleArn: this.monitoringRole.role.arn,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `${props.identifier}-final`,
      tags: { ...props.tags },
      // RDS would create the log groups itself, unencrypted, if it got there first.
      dependsOn: this.logGroups,
    });
  }
}
