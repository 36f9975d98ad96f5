import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Testing } from 'cdktf';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { BackupVaultLockConfiguration } from '@cdktf/provider-aws/lib/backup-vault-lock-configuration/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { addFleetStacks } from '../../stacks/app.ts';
import { cleanTempDirs, defaultFleet, only, parseJsonPolicy, readStack, ref, resources, synthFleet, type StackJson } from './fixtures.ts';

const fleet = defaultFleet();
let outdir: string;
const stack = (name: string): StackJson => readStack(outdir, name);

beforeAll(() => {
  outdir = synthFleet(fleet);
});
afterAll(cleanTempDirs);

describe('synth of the default fleet', () => {
  it('writes one data stack per region, named after it, and the access stack', () => {
    const names = readdirSync(path.join(outdir, 'stacks')).sort();
    expect(names).toEqual(['access', ...fleet.regions.map((r) => `data-${r.name}`)].sort());
    for (const region of fleet.regions) expect(names.some((n) => n.includes(region.name))).toBe(true);
  });

  it.each(['access', 'data-au', 'data-eu', 'data-us'])('matches the snapshot of %s', async (name) => {
    const text = `${JSON.stringify(stack(name), null, 2)}\n`;
    await expect(text).toMatchFileSnapshot(`./__snapshots__/${name}.cdk.tf.json`);
  });

  it.each(['access', 'data-au', 'data-eu', 'data-us'])('keeps the state of %s in S3, encrypted, with a lock file', (name) => {
    expect(stack(name).terraform.backend).toEqual({
      s3: {
        bucket: fleet.state.bucket,
        key: `${fleet.state.keyPrefix}/${name}.tfstate`,
        region: fleet.state.awsRegion,
        encrypt: true,
        use_lockfile: true,
      },
    });
  });
});

describe.each(defaultFleet().regions.map((r) => [r.name, r] as const))('region %s', (name, region) => {
  const json = () => stack(`data-${name}`);
  const prefix = `${fleet.name}-${name}`;
  const keyName = () => resources(json(), 'aws_kms_key').find(([, v]) => v.provider === undefined)![0];
  const keyArn = () => ref('aws_kms_key', keyName(), 'arn');

  it('deploys to its AWS region and copies to its off-site region', () => {
    const providers = json().provider.aws!;
    expect(providers.find((p) => p.alias === undefined)?.region).toBe(region.awsRegion);
    expect(providers.find((p) => p.alias === 'offsite')?.region).toBe(region.offsiteRegion);
    for (const p of providers)
      expect((p.default_tags as Array<{ tags: Record<string, string> }>)[0]!.tags).toMatchObject({ ...fleet.tags, 'fleet-region': name });
  });

  it('has a rotating customer key per region, with alias and a 30-day deletion window', () => {
    const keys = resources(json(), 'aws_kms_key');
    expect(keys).toHaveLength(2);
    for (const [, key] of keys) expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
    const aliases = resources(json(), 'aws_kms_alias')
      .map(([, a]) => a.name)
      .sort();
    expect(aliases).toEqual([`alias/${prefix}`, `alias/${prefix}-offsite`]);
    // CloudWatch Logs may use the key, only for this instance's log groups.
    const policy = parseJsonPolicy(keys.find(([, v]) => v.provider === undefined)![1].policy);
    const logs = policy.Statement.find((s) => JSON.stringify(s.Principal).includes(`logs.${region.awsRegion}.amazonaws.com`));
    expect(JSON.stringify(logs?.Condition)).toContain(`log-group:/aws/rds/instance/${prefix}/*`);
  });

  it('puts the database in private subnets of two availability zones', () => {
    const [vpcName, vpc] = only(json(), 'aws_vpc');
    expect(vpc.cidr_block).toBe(('vpcCidr' in region.network && region.network.vpcCidr) || undefined);
    const subnets = resources(json(), 'aws_subnet');
    expect(subnets).toHaveLength(2);
    expect(new Set(subnets.map(([, s]) => s.availability_zone)).size).toBe(2);
    for (const [, s] of subnets) expect(s).toMatchObject({ vpc_id: ref('aws_vpc', vpcName, 'id'), map_public_ip_on_launch: false });
    expect(resources(json(), 'aws_internet_gateway')).toHaveLength(0);
    const [, group] = only(json(), 'aws_db_subnet_group');
    expect(group.subnet_ids).toEqual(subnets.map(([n]) => ref('aws_subnet', n, 'id')));
    expect(only(json(), 'aws_default_security_group')[1]).toMatchObject({ ingress: [], egress: [] });
  });

  it('admits 5432 from the listed sources only', () => {
    const [sgName, sg] = only(json(), 'aws_security_group');
    expect(sg.ingress).toBeUndefined();
    const rules = resources(json(), 'aws_vpc_security_group_ingress_rule').map(([, r]) => r);
    expect(rules.map((r) => r.cidr_ipv4)).toEqual(region.network.allowedCidrs);
    for (const r of rules)
      expect(r).toMatchObject({
        from_port: 5432,
        to_port: 5432,
        ip_protocol: 'tcp',
        security_group_id: ref('aws_security_group', sgName, 'id'),
      });
  });

  it('forces TLS and logs slow statements, connections and lock waits', () => {
    const [, group] = only(json(), 'aws_db_parameter_group');
    expect(group.family).toBe(`postgres${region.engineVersion.split('.')[0]}`);
    const params = Object.fromEntries((group.parameter as Array<{ name: string; value: string }>).map((p) => [p.name, p.value]));
    expect(params).toEqual({
      'rds.force_ssl': '1',
      log_min_duration_statement: '1000',
      log_connections: '1',
      log_lock_waits: '1',
      shared_preload_libraries: 'pg_stat_statements',
    });
  });

  it('runs PostgreSQL with every setting the statement names', () => {
    const synthesized = Testing.synth(addFleetStacks(Testing.app(), fleet).regions.find((r) => r.node.id === `data-${name}`)!);
    expect(
      Testing.toHaveResourceWithProperties(synthesized, DbInstance.tfResourceType, {
        identifier: prefix,
        engine: 'postgres',
        engine_version: region.engineVersion,
        instance_class: region.instanceClass,
        allocated_storage: region.allocatedStorageGb,
        max_allocated_storage: region.maxAllocatedStorageGb,
        storage_encrypted: true,
        kms_key_id: keyArn(),
        multi_az: true,
        deletion_protection: true,
        iam_database_authentication_enabled: true,
        manage_master_user_password: true,
        master_user_secret_kms_key_id: keyArn(),
        publicly_accessible: false,
        backup_retention_period: 35,
        copy_tags_to_snapshot: true,
        auto_minor_version_upgrade: true,
        enabled_cloudwatch_logs_exports: ['postgresql', 'upgrade'],
        performance_insights_enabled: true,
        performance_insights_kms_key_id: keyArn(),
        monitoring_interval: 60,
        skip_final_snapshot: false,
        final_snapshot_identifier: `${prefix}-final`,
        tags: { 'data-classification': fleet.tags['data-classification'], 'backup-plan': prefix },
      }),
    ).toBe(true);
    expect(Testing.toHaveResourceWithProperties(synthesized, KmsKey.tfResourceType, { enable_key_rotation: true })).toBe(true);
    expect(
      Testing.toHaveProviderWithProperties(synthesized, AwsProvider.tfResourceType, { alias: 'offsite', region: region.offsiteRegion }),
    ).toBe(true);
    expect(
      Testing.toHaveResourceWithProperties(synthesized, BackupVaultLockConfiguration.tfResourceType, {
        min_retention_days: fleet.backup.vaultLock.minRetentionDays,
      }),
    ).toBe(true);
  });

  it('wires the instance to its network, parameters, monitoring role and encrypted log groups', () => {
    const [, db] = only(json(), 'aws_db_instance');
    const [groupName] = only(json(), 'aws_db_parameter_group');
    const [subnetGroupName] = only(json(), 'aws_db_subnet_group');
    const [sgName] = only(json(), 'aws_security_group');
    expect(db.parameter_group_name).toBe(ref('aws_db_parameter_group', groupName, 'name'));
    expect(db.db_subnet_group_name).toBe(ref('aws_db_subnet_group', subnetGroupName, 'name'));
    expect(db.vpc_security_group_ids).toEqual([ref('aws_security_group', sgName, 'id')]);
    const monitoring = resources(json(), 'aws_iam_role').find(([, r]) =>
      String(r.assume_role_policy).includes('monitoring.rds.amazonaws.com'),
    )!;
    expect(db.monitoring_role_arn).toBe(ref('aws_iam_role', monitoring[0], 'arn'));
    const logGroups = resources(json(), 'aws_cloudwatch_log_group');
    expect(logGroups.map(([, g]) => g.name).sort()).toEqual([
      `/aws/rds/instance/${prefix}/postgresql`,
      `/aws/rds/instance/${prefix}/upgrade`,
    ]);
    for (const [, g] of logGroups) expect(g.kms_key_id).toBe(keyArn());
    expect(db.depends_on).toEqual(logGroups.map(([n]) => `aws_cloudwatch_log_group.${n}`));
  });

  it('backs up daily and weekly into a locked vault and copies every rule off-site', () => {
    const vaults = resources(json(), 'aws_backup_vault');
    const [localName, local] = vaults.find(([, v]) => v.provider === undefined)!;
    const [offsiteName, offsite] = vaults.find(([, v]) => v.provider === 'aws.offsite')!;
    expect(local.kms_key_arn).toBe(keyArn());
    const offsiteKey = resources(json(), 'aws_kms_key').find(([, v]) => v.provider === 'aws.offsite')![0];
    expect(offsite.kms_key_arn).toBe(ref('aws_kms_key', offsiteKey, 'arn'));
    const locks = resources(json(), 'aws_backup_vault_lock_configuration').map(([, l]) => l);
    expect(locks.map((l) => l.backup_vault_name).sort()).toEqual(
      [ref('aws_backup_vault', localName, 'name'), ref('aws_backup_vault', offsiteName, 'name')].sort(),
    );
    const { minRetentionDays, maxRetentionDays, changeableForDays } = fleet.backup.vaultLock;
    for (const l of locks)
      expect(l).toMatchObject({
        min_retention_days: minRetentionDays,
        max_retention_days: maxRetentionDays,
        changeable_for_days: changeableForDays,
      });

    const [planName, plan] = only(json(), 'aws_backup_plan');
    const rules = plan.rule as Array<Record<string, unknown>>;
    expect(rules.map((r) => [r.rule_name, (r.lifecycle as { delete_after: number }).delete_after])).toEqual([
      ['daily', fleet.backup.dailyRetentionDays],
      ['weekly', fleet.backup.weeklyRetentionDays],
    ]);
    for (const r of rules) {
      expect(r.target_vault_name).toBe(ref('aws_backup_vault', localName, 'name'));
      expect(r.copy_action).toEqual([{ destination_vault_arn: ref('aws_backup_vault', offsiteName, 'arn'), lifecycle: r.lifecycle }]);
    }
    const [, selection] = only(json(), 'aws_backup_selection');
    expect(selection.plan_id).toBe(ref('aws_backup_plan', planName, 'id'));
    expect(selection.selection_tag).toEqual([{ type: 'STRINGEQUALS', key: 'backup-plan', value: prefix }]);
    // Two roles trust AWS Backup (backups, restore tests); the one taking backups is tagged so.
    const backupRole = resources(json(), 'aws_iam_role').find(([, r]) => (r.tags as Record<string, string>)['fleet-role'] === 'backup')!;
    expect(String(backupRole[1].assume_role_policy)).toContain('backup.amazonaws.com');
    expect(selection.iam_role_arn).toBe(ref('aws_iam_role', backupRole[0], 'arn'));
    const attached = resources(json(), 'aws_iam_role_policy_attachment').filter(
      ([, a]) => a.role === ref('aws_iam_role', backupRole[0], 'name'),
    );
    expect(attached.map(([, a]) => a.policy_arn)).toEqual(['arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup']);
  });

  it('restores the latest weekly snapshot from its own vault into its private network, with a role of its own', () => {
    const vaults = resources(json(), 'aws_backup_vault');
    const [localName] = vaults.find(([, v]) => v.provider === undefined)!;
    const [planName, plan] = only(json(), 'aws_backup_restore_testing_plan');
    expect(plan).toMatchObject({
      name: `${prefix.replaceAll('-', '_')}_restore`,
      schedule_expression: 'cron(0 6 ? * MON *)',
      schedule_expression_timezone: 'Etc/UTC',
      recovery_point_selection: [
        {
          algorithm: 'LATEST_WITHIN_WINDOW',
          include_vaults: [ref('aws_backup_vault', localName, 'arn')],
          recovery_point_types: ['SNAPSHOT'],
          selection_window_days: 7,
        },
      ],
    });
    expect(plan.provider).toBeUndefined();
    expect(json().output.restore_testing_plan_arn!.value).toBe(ref('aws_backup_restore_testing_plan', planName, 'arn'));

    const [dbName] = only(json(), 'aws_db_instance');
    const [subnetGroupName] = only(json(), 'aws_db_subnet_group');
    const [sgName] = only(json(), 'aws_security_group');
    const [, selection] = only(json(), 'aws_backup_restore_testing_selection');
    const [roleName, role] = resources(json(), 'aws_iam_role').find(
      ([, r]) => (r.tags as Record<string, string>)['fleet-role'] === 'restore-testing',
    )!;
    expect(selection).toEqual({
      name: 'rds_instance',
      restore_testing_plan_name: ref('aws_backup_restore_testing_plan', planName, 'name'),
      protected_resource_type: 'RDS',
      protected_resource_arns: [ref('aws_db_instance', dbName, 'arn')],
      iam_role_arn: ref('aws_iam_role', roleName, 'arn'),
      validation_window_hours: 8,
      restore_metadata_overrides: {
        dbSubnetGroupName: ref('aws_db_subnet_group', subnetGroupName, 'name'),
        vpcSecurityGroupIds: JSON.stringify([ref('aws_security_group', sgName, 'id')]),
      },
    });

    expect(parseJsonPolicy(role.assume_role_policy).Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    const attached = resources(json(), 'aws_iam_role_policy_attachment').filter(
      ([, a]) => a.role === ref('aws_iam_role', roleName, 'name'),
    );
    expect(attached.map(([, a]) => a.policy_arn)).toEqual(['arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores']);
    const [, inline] = resources(json(), 'aws_iam_role_policy').find(([, p]) => p.role === ref('aws_iam_role', roleName, 'id'))!;
    const [useKey, denyLive] = parseJsonPolicy(inline.policy).Statement;
    expect(useKey).toMatchObject({
      Effect: 'Allow',
      Resource: keyArn(),
      Condition: {
        StringEquals: { 'kms:ViaService': [`rds.${region.awsRegion}.amazonaws.com`, `backup.${region.awsRegion}.amazonaws.com`] },
      },
    });
    expect(denyLive).toMatchObject({
      Effect: 'Deny',
      Resource: `arn:aws:rds:${region.awsRegion}:\${data.aws_caller_identity.caller.account_id}:db:${prefix}`,
    });
    expect(denyLive!.Action).toEqual(expect.arrayContaining(['rds:DeleteDBInstance', 'rds:ModifyDBInstance']));
  });

  it('announces a failed or aborted restore test on an encrypted topic only its rule may publish to', () => {
    const [planName] = only(json(), 'aws_backup_restore_testing_plan');
    const [topicName, topic] = only(json(), 'aws_sns_topic');
    expect(topic).toEqual({ name: `${prefix}-restore-tests`, kms_master_key_id: keyArn() });
    const [ruleName, rule] = only(json(), 'aws_cloudwatch_event_rule');
    expect(JSON.parse(String(rule.event_pattern))).toEqual({
      source: ['aws.backup'],
      'detail-type': ['Restore Job State Change'],
      detail: { status: ['FAILED', 'ABORTED'], restoreTestingPlanArn: [ref('aws_backup_restore_testing_plan', planName, 'arn')] },
    });
    expect(only(json(), 'aws_cloudwatch_event_target')[1]).toEqual({
      rule: ref('aws_cloudwatch_event_rule', ruleName, 'name'),
      arn: ref('aws_sns_topic', topicName, 'arn'),
    });
    const [, topicPolicy] = only(json(), 'aws_sns_topic_policy');
    expect(parseJsonPolicy(topicPolicy.policy).Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: { ArnEquals: { 'aws:SourceArn': ref('aws_cloudwatch_event_rule', ruleName, 'arn') } },
      }),
    ]);
    const keyPolicy = parseJsonPolicy(resources(json(), 'aws_kms_key').find(([, v]) => v.provider === undefined)![1].policy);
    expect(
      keyPolicy.Statement.find((s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }))?.Action,
    ).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(json().output.restore_test_alerts_topic_arn!.value).toBe(ref('aws_sns_topic', topicName, 'arn'));
  });

  it('outputs what the runner and the pipelines need', () => {
    const outputs = json().output;
    expect(Object.keys(outputs).sort()).toEqual([
      'db_resource_id',
      'endpoint',
      'kms_key_arn',
      'master_secret_arn',
      'offsite_vault_arn',
      'port',
      'restore_test_alerts_topic_arn',
      'restore_testing_plan_arn',
      'vault_arn',
    ]);
    const [dbName] = only(json(), 'aws_db_instance');
    expect(outputs.endpoint!.value).toBe(ref('aws_db_instance', dbName, 'address'));
    expect(outputs.db_resource_id!.value).toBe(ref('aws_db_instance', dbName, 'resource_id'));
    expect(outputs.master_secret_arn!.value).toBe(`\${aws_db_instance.${dbName}.master_user_secret[0].secret_arn}`);
  });
});

describe('access stack', () => {
  const json = () => stack('access');
  const role = (purpose: string) => {
    const found = resources(json(), 'aws_iam_role').find(([, r]) => (r.tags as Record<string, string>)['fleet-role'] === purpose);
    if (!found) throw new Error(`no role tagged ${purpose}`);
    return found;
  };
  const connectResources = (roleName: string) => {
    const policies = resources(json(), 'aws_iam_role_policy').filter(([, p]) => p.role === ref('aws_iam_role', roleName, 'id'));
    expect(policies).toHaveLength(1);
    const statements = parseJsonPolicy(policies[0]![1].policy).Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'rds-db:connect' });
    return statements[0]!.Resource;
  };
  const dbUserArns = (user: string) =>
    fleet.regions.map(
      (r) =>
        `arn:aws:rds-db:${r.awsRegion}:\${data.aws_caller_identity.caller.account_id}:dbuser:\${data.aws_db_instance.db-${r.name}.resource_id}/${user}`,
    );

  it('looks every region database up by identifier in its region', () => {
    const lookups = Object.values(json().data!.aws_db_instance!).map(({ db_instance_identifier, region }) => [
      db_instance_identifier,
      region,
    ]);
    expect(lookups).toEqual(expect.arrayContaining(fleet.regions.map((r) => [`${fleet.name}-${r.name}`, r.awsRegion])));
  });

  it('lets only the release pipeline of the named repository and branches assume the migration runner role', () => {
    const [name, runner] = role('migration-runner');
    const [oidcName, oidc] = only(json(), 'aws_iam_openid_connect_provider');
    expect(oidc).toMatchObject({ url: fleet.oidc.url, client_id_list: [fleet.oidc.audience] });
    const trust = parseJsonPolicy(runner.assume_role_policy).Statement;
    expect(trust).toEqual([
      {
        Sid: 'ReleasePipelineOnly',
        Effect: 'Allow',
        Principal: { Federated: ref('aws_iam_openid_connect_provider', oidcName, 'arn') },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': fleet.oidc.audience,
            'token.actions.githubusercontent.com:sub': fleet.oidc.branches.map((b) => `repo:${fleet.oidc.repository}:ref:refs/heads/${b}`),
          },
        },
      },
    ]);
    expect(connectResources(name)).toEqual(dbUserArns(fleet.databaseUsers.migrator));
  });

  it('requires MFA of the purge operator, who connects as the purge user only', () => {
    const [name, purge] = role('purge-operator');
    const trust = parseJsonPolicy(purge.assume_role_policy).Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({ Action: 'sts:AssumeRole', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } });
    expect(connectResources(name)).toEqual(dbUserArns(fleet.databaseUsers.purge));
  });

  it('requires MFA and a ticket tag of support, for at most an hour, as the support user only', () => {
    const [name, support] = role('support');
    expect(support.max_session_duration).toBe(3600);
    const trust = parseJsonPolicy(support.assume_role_policy).Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0]!.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(trust[0]!.Condition).toEqual({
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      Null: { 'aws:RequestTag/ticket': 'false' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['ticket'] },
    });
    expect(connectResources(name)).toEqual(dbUserArns(fleet.databaseUsers.support));
  });

  it.each(fleet.regions.map((r) => [r.name, r] as const))(
    'lets only jobs of the purge environment purge %s, as the purge user, in that region only',
    (name, region) => {
      const found = resources(json(), 'aws_iam_role').filter(
        ([, r]) =>
          (r.tags as Record<string, string>)['fleet-role'] === 'purge-pipeline' && r.name === `${fleet.name}-${name}-purge-pipeline`,
      );
      expect(found).toHaveLength(1);
      const [roleName, role] = found[0]!;
      expect(role.max_session_duration).toBe(3600);
      const [oidcName] = only(json(), 'aws_iam_openid_connect_provider');
      expect(parseJsonPolicy(role.assume_role_policy).Statement).toEqual([
        {
          Sid: 'PipelineEnvironmentOnly',
          Effect: 'Allow',
          Principal: { Federated: ref('aws_iam_openid_connect_provider', oidcName, 'arn') },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': fleet.oidc.audience,
              'token.actions.githubusercontent.com:sub': `repo:${fleet.oidc.repository}:environment:purge`,
            },
          },
        },
      ]);
      expect(connectResources(roleName)).toEqual([
        `arn:aws:rds-db:${region.awsRegion}:\${data.aws_caller_identity.caller.account_id}:dbuser:\${data.aws_db_instance.db-${name}.resource_id}/${fleet.databaseUsers.purge}`,
      ]);
      expect(resources(json(), 'aws_iam_role_policy_attachment').filter(([, a]) => String(a.role).includes(roleName))).toEqual([]);
      expect(json().output[`purge_pipeline_role_arn_${name}`]!.value).toBe(ref('aws_iam_role', roleName, 'arn'));
    },
  );

  it('keeps the human purge operator role for people with MFA, not for the pipeline', () => {
    const [, purge] = role('purge-operator');
    const trust = parseJsonPolicy(purge.assume_role_policy).Statement;
    expect(trust.every((s) => s.Principal !== undefined && 'AWS' in s.Principal)).toBe(true);
    expect(JSON.stringify(trust)).not.toContain('AssumeRoleWithWebIdentity');
  });

  it('outputs the role ARNs', () => {
    expect(Object.keys(json().output).sort()).toEqual(
      [
        'migration_runner_role_arn',
        'purge_operator_role_arn',
        'support_role_arn',
        ...fleet.regions.map((r) => `purge_pipeline_role_arn_${r.name}`),
      ].sort(),
    );
  });

  it('records that it depends on every data stack', () => {
    const app = Testing.app();
    const { access, regions } = addFleetStacks(app, fleet);
    expect(access.dependencies.map((d) => d.node.id).sort()).toEqual(regions.map((r) => r.node.id).sort());
  });
});
