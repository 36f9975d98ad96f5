import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
import type { FleetConfig, RegionConfig } from '../src/config/schema.ts';
import { EncryptionKey } from './constructs/encryption-key.ts';
import { PrivateNetwork } from './constructs/private-network.ts';
import { DatabaseFirewall } from './constructs/database-firewall.ts';
import { PostgresParameters } from './constructs/postgres-parameters.ts';
import { PostgresInstance, rdsLogGroupName } from './constructs/postgres-instance.ts';
import { LockedVault } from './constructs/locked-vault.ts';
import { BackupSchedule } from './constructs/backup-schedule.ts';
import { RestoreTesting } from './constructs/restore-testing.ts';
import { useS3State } from './state-backend.ts';
import {
  assertNamesFit,
  BACKUP_SELECTION_TAG,
  DATA_CLASSIFICATION_TAG,
  DEFAULT_DATA_CLASSIFICATION,
  dataStackName,
  dbInstanceIdentifier,
  regionPrefix,
} from './naming.ts';

export interface RegionStackProps {
  readonly fleet: FleetConfig;
  readonly region: RegionConfig;
}

/** Tags every resource of a region gets through the provider's default_tags. */
export function regionTags(fleet: FleetConfig, region: RegionConfig): Record<string, string> {
  return { ...fleet.tags, fleet: fleet.name, 'fleet-region': region.name };
}

/**
 * One region's data plane: key, network, PostgreSQL, backups copied to the off-site region, and
 * a scheduled restore test of those backups.
 * It depends on no other stack, so regions deploy independently and in parallel.
 */
export class RegionStack extends TerraformStack {
  readonly key: EncryptionKey;
  readonly database: PostgresInstance;
  readonly vault: LockedVault;
  readonly offsiteVault: LockedVault;
  readonly restoreTesting: RestoreTesting;

  constructor(scope: Construct, props: RegionStackProps) {
    const { fleet, region } = props;
    assertNamesFit(fleet, region);
    const name = dataStackName(region);
    super(scope, name);
    useS3State(this, fleet, name);

    const tags = regionTags(fleet, region);
    new AwsProvider(this, 'aws', { region: region.awsRegion, defaultTags: [{ tags }] });
    // Copies of backups go to a second region of the same jurisdiction; the schema checks that.
    const offsite = new AwsProvider(this, 'aws-offsite', { alias: 'offsite', region: region.offsiteRegion, defaultTags: [{ tags }] });
    const accountId = new DataAwsCallerIdentity(this, 'caller').accountId;

    const prefix = regionPrefix(fleet, region);
    const identifier = dbInstanceIdentifier(fleet, region);

    this.key = new EncryptionKey(this, 'key', {
      alias: prefix,
      description: `${prefix}: RDS storage, Performance Insights, master secret, logs, backups, alerts`,
      accountId,
      awsRegion: region.awsRegion,
      logGroupNames: [rdsLogGroupName(identifier, '*')],
      eventBridgePublishes: true,
    });
    const offsiteKey = new EncryptionKey(this, 'offsite-key', {
      provider: offsite,
      alias: `${prefix}-offsite`,
      description: `${prefix}: off-site copies of backups`,
      accountId,
      awsRegion: region.offsiteRegion,
    });

    const network = new PrivateNetwork(this, 'network', { namePrefix: prefix, network: region.network });
    const firewall = new DatabaseFirewall(this, 'firewall', {
      namePrefix: prefix,
      vpcId: network.vpcId,
      allowedCidrs: region.network.allowedCidrs,
      allowedSecurityGroupIds: region.network.allowedSecurityGroupIds,
    });
    const parameters = new PostgresParameters(this, 'parameters', { namePrefix: prefix, engineVersion: region.engineVersion });

    this.database = new PostgresInstance(this, 'database', {
      identifier,
      engineVersion: region.engineVersion,
      instanceClass: region.instanceClass,
      allocatedStorageGb: region.allocatedStorageGb,
      maxAllocatedStorageGb: region.maxAllocatedStorageGb,
      kmsKeyArn: this.key.key.arn,
      subnetGroupName: network.subnetGroup.name,
      securityGroupIds: [firewall.securityGroup.id],
      parameterGroupName: parameters.group.name,
      accountId,
      ...(region.database ? { databaseName: region.database.name } : {}),
      tags: {
        // Explicit as well as in default_tags: the classification must survive onto snapshots.
        [DATA_CLASSIFICATION_TAG]: fleet.tags[DATA_CLASSIFICATION_TAG] ?? DEFAULT_DATA_CLASSIFICATION,
        [BACKUP_SELECTION_TAG]: prefix,
      },
    });

    const lock = fleet.backup.vaultLock;
    this.vault = new LockedVault(this, 'vault', { name: prefix, kmsKeyArn: this.key.key.arn, ...lock });
    this.offsiteVault = new LockedVault(this, 'offsite-vault', {
      provider: offsite,
      name: `${prefix}-offsite`,
      kmsKeyArn: offsiteKey.key.arn,
      ...lock,
    });
    new BackupSchedule(this, 'backup', {
      name: prefix,
      vaultName: this.vault.vault.name,
      offsiteVaultArn: this.offsiteVault.vault.arn,
      dailyRetentionDays: fleet.backup.dailyRetentionDays,
      weeklyRetentionDays: fleet.backup.weeklyRetentionDays,
      selectionTagKey: BACKUP_SELECTION_TAG,
    });
    this.restoreTesting = new RestoreTesting(this, 'restore-testing', {
      name: prefix,
      awsRegion: region.awsRegion,
      accountId,
      vaultArn: this.vault.vault.arn,
      instanceArn: this.database.instance.arn,
      instanceIdentifier: identifier,
      kmsKeyArn: this.key.key.arn,
      subnetGroupName: network.subnetGroup.name,
      securityGroupIds: [firewall.securityGroup.id],
    });

    const db = this.database.instance;
    new TerraformOutput(this, 'endpoint', { value: db.address, description: 'PostgreSQL host name' });
    new TerraformOutput(this, 'port', { value: db.port });
    new TerraformOutput(this, 'master_secret_arn', {
      value: db.masterUserSecret.get(0).secretArn,
      description: 'Secrets Manager secret of the master user',
    });
    new TerraformOutput(this, 'db_resource_id', { value: db.resourceId, description: 'Resource id in rds-db:connect ARNs' });
    new TerraformOutput(this, 'vault_arn', { value: this.vault.vault.arn });
    new TerraformOutput(this, 'offsite_vault_arn', { value: this.offsiteVault.vault.arn });
    new TerraformOutput(this, 'kms_key_arn', { value: this.key.key.arn });
    new TerraformOutput(this, 'restore_test_alerts_topic_arn', {
      value: this.restoreTesting.alerts.arn,
      description: 'SNS topic announcing failed restore tests: subscribe on-call',
    });
    new TerraformOutput(this, 'restore_testing_plan_arn', {
      value: this.restoreTesting.plan.arn,
      description: 'aws backup list-restore-jobs --by-restore-testing-plan-arn',
    });
  }
}
