import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsDbInstance } from '@cdktf/provider-aws/lib/data-aws-db-instance/index.js';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider/index.js';
import type { FleetConfig } from '../src/config/schema.ts';
import { DatabaseAccessRole, type DatabaseTarget } from './constructs/database-access-role.ts';
import { operatorTrust, pipelineEnvironmentTrust, pipelineTrust, supportTrust } from './trust-policies.ts';
import { useS3State } from './state-backend.ts';
import { ACCESS_STACK_NAME, dbInstanceIdentifier, PURGE_PIPELINE_ENVIRONMENT, purgePipelineRoleName } from './naming.ts';
import { MAX_HUMAN_SESSION_SECONDS } from './promises.ts';

export interface AccessStackProps {
  readonly fleet: FleetConfig;
}

/**
 * The roles that reach the databases, one per job, each spanning every region (IAM is global and
 * the runner migrates the whole fleet in one run), except the scheduled purge's, one per region.
 * Deployed after the region stacks: it reads each instance's resource id, which is known only
 * once the instance exists.
 */
export class AccessStack extends TerraformStack {
  readonly migrationRunner: DatabaseAccessRole;
  readonly purgeOperator: DatabaseAccessRole;
  readonly support: DatabaseAccessRole;
  /** Per region name, the role the scheduled purge assumes there. */
  readonly purgePipelines: ReadonlyMap<string, DatabaseAccessRole>;

  constructor(scope: Construct, props: AccessStackProps) {
    const { fleet } = props;
    super(scope, ACCESS_STACK_NAME);
    useS3State(this, fleet, ACCESS_STACK_NAME);
    new AwsProvider(this, 'aws', { region: fleet.state.awsRegion, defaultTags: [{ tags: { ...fleet.tags, fleet: fleet.name } }] });
    const accountId = new DataAwsCallerIdentity(this, 'caller').accountId;

    // AWS provider 6 takes a region per data source, so one provider reads every region.
    const databases: DatabaseTarget[] = fleet.regions.map((region) => ({
      awsRegion: region.awsRegion,
      resourceId: new DataAwsDbInstance(this, `db-${region.name}`, {
        region: region.awsRegion,
        dbInstanceIdentifier: dbInstanceIdentifier(fleet, region),
      }).resourceId,
    }));

    const providerArn =
      fleet.oidc.providerArn ??
      new IamOpenidConnectProvider(this, 'oidc', { url: fleet.oidc.url, clientIdList: [fleet.oidc.audience] }).arn;

    this.migrationRunner = new DatabaseAccessRole(this, 'migration-runner', {
      name: `${fleet.name}-migration-runner`,
      description: `Release pipeline of ${fleet.oidc.repository}: connects as ${fleet.databaseUsers.migrator}`,
      trustPolicy: pipelineTrust({ ...fleet.oidc, providerArn }),
      accountId,
      dbUser: fleet.databaseUsers.migrator,
      databases,
      purpose: 'migration-runner',
    });
    this.purgeOperator = new DatabaseAccessRole(this, 'purge-operator', {
      name: `${fleet.name}-purge-operator`,
      description: `Operators purging departed tenants: connects as ${fleet.databaseUsers.purge}, MFA required`,
      trustPolicy: operatorTrust(accountId),
      accountId,
      dbUser: fleet.databaseUsers.purge,
      databases,
      purpose: 'purge-operator',
    });
    this.support = new DatabaseAccessRole(this, 'support', {
      name: `${fleet.name}-support`,
      description: `Support, read-only: connects as ${fleet.databaseUsers.support}, MFA and a ticket tag required`,
      trustPolicy: supportTrust(accountId),
      accountId,
      dbUser: fleet.databaseUsers.support,
      databases,
      purpose: 'support',
      maxSessionDurationSeconds: MAX_HUMAN_SESSION_SECONDS,
    });

    // One per region, so a stolen pipeline token purges in one region at most, and only as the
    // purge user: what that user may delete is its grants, kept in the migrations.
    this.purgePipelines = new Map(
      fleet.regions.map((region, i) => {
        const database = databases[i]!;
        const role = new DatabaseAccessRole(this, `purge-pipeline-${region.name}`, {
          name: purgePipelineRoleName(fleet, region),
          description: `Scheduled purge of ${fleet.oidc.repository} (environment ${PURGE_PIPELINE_ENVIRONMENT}): connects as ${fleet.databaseUsers.purge} in ${region.name} only`,
          trustPolicy: pipelineEnvironmentTrust({ ...fleet.oidc, providerArn, environment: PURGE_PIPELINE_ENVIRONMENT }),
          accountId,
          dbUser: fleet.databaseUsers.purge,
          databases: [database],
          purpose: 'purge-pipeline',
        });
        return [region.name, role] as const;
      }),
    );

    new TerraformOutput(this, 'migration_runner_role_arn', {
      value: this.migrationRunner.role.arn,
      description: 'role-to-assume of the release pipeline',
    });
    new TerraformOutput(this, 'purge_operator_role_arn', { value: this.purgeOperator.role.arn });
    new TerraformOutput(this, 'support_role_arn', { value: this.support.role.arn });
    for (const [region, role] of this.purgePipelines) {
      new TerraformOutput(this, `purge_pipeline_role_arn_${region}`, {
        value: role.role.arn,
        description: `role-to-assume of the scheduled purge in ${region}`,
      });
    }
  }
}
