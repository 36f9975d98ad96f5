import { describe, expect, it } from 'vitest';
import { ALL_RULES } from '../../stacks/policy/index.ts';
import { resourcesOf, stackView, BACKEND_TYPE, type SynthesizedStack } from '../../stacks/policy/stack-view.ts';
import type { StackView, SynthResource } from '../../stacks/policy/types.ts';

/** One resource named `subject` of `type`, inside a stack holding `context` as well. */
interface Example {
  readonly type: string;
  readonly values: Record<string, unknown>;
  readonly context?: SynthesizedStack;
}

function materialize(example: Example): { resource: SynthResource; view: StackView } {
  const context = example.context ?? {};
  const json: SynthesizedStack =
    example.type === BACKEND_TYPE
      ? {
          ...context,
          terraform: Object.keys(example.values).length === 0 ? {} : { backend: example.values as Record<string, Record<string, unknown>> },
        }
      : { ...context, resource: { ...context.resource, [example.type]: { ...context.resource?.[example.type], subject: example.values } } };
  const resource = resourcesOf('test', json).find((r) =>
    example.type === BACKEND_TYPE ? r.type === BACKEND_TYPE : r.address === `${example.type}.subject`,
  );
  if (!resource) throw new Error('example has no subject');
  return { resource, view: stackView('test', json) };
}

const withKey: SynthesizedStack = { resource: { aws_kms_key: { k: { enable_key_rotation: true } } } };
const KEY = '${aws_kms_key.k.arn}';
const policy = (...statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const connect = (resource: unknown) => policy({ Effect: 'Allow', Action: 'rds-db:connect', Resource: resource });
const mfaTrust = (condition?: unknown) =>
  policy({
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::123456789012:root' },
    Action: 'sts:AssumeRole',
    ...(condition ? { Condition: condition } : {}),
  });
const supportTrust = (condition: Record<string, unknown>) =>
  policy({
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::123456789012:root' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: condition,
  });
const oidcTrust = (condition: unknown) =>
  policy({
    Effect: 'Allow',
    Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com' },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: condition,
  });
const twoRegions: SynthesizedStack = {
  provider: { aws: [{ region: 'eu-central-1' }, { alias: 'offsite', region: 'eu-west-1' }, { alias: 'abroad', region: 'us-east-1' }] },
  resource: {
    aws_backup_vault: {
      home: { name: 'home' },
      offsite: { name: 'offsite', provider: 'aws.offsite' },
      abroad: { name: 'abroad', provider: 'aws.abroad' },
    },
  },
};
/** A stack whose backup plan protects instances tagged backup-plan=p, plus `more`. */
const protectedAnd = (more: Record<string, Record<string, Record<string, unknown>>>): SynthesizedStack => ({
  resource: {
    aws_backup_plan: { plan: { name: 'p', rule: [{ rule_name: 'daily' }] } },
    aws_backup_selection: {
      s: { plan_id: '${aws_backup_plan.plan.id}', selection_tag: [{ type: 'STRINGEQUALS', key: 'backup-plan', value: 'p' }] },
    },
    ...more,
  },
});
const environmentTrust = (sub: string) =>
  oidcTrust({
    StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': sub },
  });
/** A purge pipeline role whose one inline policy is `permissions`, beside a purge operator connecting as fleet_purge. */
const pipelineRole = (permissions: string, trust = environmentTrust('repo:o/n:environment:purge')): Example => ({
  type: 'aws_iam_role',
  values: { tags: { 'fleet-role': 'purge-pipeline' }, assume_role_policy: trust },
  context: {
    resource: {
      aws_iam_role: {
        operator: {
          tags: { 'fleet-role': 'purge-operator' },
          assume_role_policy: mfaTrust({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } }),
        },
      },
      aws_iam_role_policy: {
        operator: {
          role: '${aws_iam_role.operator.id}',
          policy: connect('arn:aws:rds-db:eu-central-1:123456789012:dbuser:db-EU/fleet_purge'),
        },
        pipeline: { role: '${aws_iam_role.subject.id}', policy: permissions },
      },
    },
  },
});
const planRule = (destination: string) => ({ rule_name: 'daily', copy_action: [{ destination_vault_arn: destination }] });
const db = (values: Record<string, unknown>): Example => ({ type: 'aws_db_instance', values, context: withKey });

/** A compliant and a non-compliant example for every rule of the pack. */
const EXAMPLES: Record<string, { readonly compliant: Example; readonly nonCompliant: Example }> = {
  'rds-not-public': { compliant: db({ publicly_accessible: false }), nonCompliant: db({ publicly_accessible: true }) },
  'rds-encrypted-cmk': {
    compliant: db({ storage_encrypted: true, kms_key_id: KEY }),
    nonCompliant: db({ storage_encrypted: true }),
  },
  'rds-multi-az': { compliant: db({ multi_az: true }), nonCompliant: db({ multi_az: false }) },
  'rds-deletion-protection': { compliant: db({ deletion_protection: true }), nonCompliant: db({}) },
  'rds-logs-exported': {
    compliant: db({ enabled_cloudwatch_logs_exports: ['postgresql', 'upgrade'] }),
    nonCompliant: db({ enabled_cloudwatch_logs_exports: ['postgresql'] }),
  },
  'rds-iam-auth': {
    compliant: db({ iam_database_authentication_enabled: true }),
    nonCompliant: db({ iam_database_authentication_enabled: false }),
  },
  'rds-backup-retention': { compliant: db({ backup_retention_period: 35 }), nonCompliant: db({ backup_retention_period: 7 }) },
  'rds-minor-upgrades': { compliant: db({ auto_minor_version_upgrade: true }), nonCompliant: db({ auto_minor_version_upgrade: false }) },
  'rds-tags-to-snapshots': { compliant: db({ copy_tags_to_snapshot: true }), nonCompliant: db({ copy_tags_to_snapshot: false }) },
  'rds-performance-insights-encrypted': {
    compliant: db({ performance_insights_enabled: true, performance_insights_kms_key_id: KEY }),
    nonCompliant: db({
      performance_insights_enabled: true,
      performance_insights_kms_key_id: 'arn:aws:kms:eu-central-1:123456789012:alias/aws/rds',
    }),
  },
  'rds-tls-forced': {
    compliant: {
      type: 'aws_db_instance',
      values: { parameter_group_name: '${aws_db_parameter_group.pg.name}' },
      context: { resource: { aws_db_parameter_group: { pg: { name: 'pg', parameter: [{ name: 'rds.force_ssl', value: '1' }] } } } },
    },
    nonCompliant: {
      type: 'aws_db_instance',
      values: { parameter_group_name: 'pg' },
      context: { resource: { aws_db_parameter_group: { pg: { name: 'pg', parameter: [{ name: 'rds.force_ssl', value: '0' }] } } } },
    },
  },
  'rds-managed-master-secret': {
    compliant: db({ manage_master_user_password: true, master_user_secret_kms_key_id: KEY }),
    nonCompliant: db({ password: 'hunter2' }),
  },
  'rds-data-classification': {
    compliant: db({ tags: { 'data-classification': 'customer-confidential' } }),
    nonCompliant: db({ tags: { owner: 'platform' } }),
  },
  'rds-backup-plan': {
    compliant: {
      type: 'aws_db_instance',
      values: { tags: { 'backup-plan': 'p' } },
      context: {
        resource: {
          aws_backup_plan: { plan: { name: 'p', rule: [{ rule_name: 'daily' }] } },
          aws_backup_selection: {
            s: { plan_id: '${aws_backup_plan.plan.id}', selection_tag: [{ type: 'STRINGEQUALS', key: 'backup-plan', value: 'p' }] },
          },
        },
      },
    },
    nonCompliant: {
      type: 'aws_db_instance',
      values: { tags: { 'backup-plan': 'another' } },
      context: {
        resource: {
          aws_backup_plan: { plan: { name: 'p', rule: [{ rule_name: 'daily' }] } },
          aws_backup_selection: {
            s: { plan_id: '${aws_backup_plan.plan.id}', selection_tag: [{ type: 'STRINGEQUALS', key: 'backup-plan', value: 'p' }] },
          },
        },
      },
    },
  },
  'rds-restore-tested': {
    compliant: {
      type: 'aws_db_instance',
      values: { tags: { 'backup-plan': 'p' } },
      context: protectedAnd({
        aws_backup_restore_testing_plan: { rt: { name: 'p_restore', schedule_expression: 'cron(0 6 ? * MON *)' } },
        aws_backup_restore_testing_selection: {
          s: {
            protected_resource_type: 'RDS',
            protected_resource_arns: ['${aws_db_instance.subject.arn}'],
            restore_testing_plan_name: '${aws_backup_restore_testing_plan.rt.name}',
            iam_role_arn: 'arn:aws:iam::123456789012:role/r',
          },
        },
      }),
    },
    nonCompliant: {
      type: 'aws_db_instance',
      values: { tags: { 'backup-plan': 'p' } },
      context: protectedAnd({
        aws_backup_restore_testing_plan: { rt: { name: 'p_restore', schedule_expression: 'cron(0 6 ? * MON *)' } },
        aws_backup_restore_testing_selection: {
          s: {
            protected_resource_type: 'RDS',
            protected_resource_arns: ['${aws_db_instance.another.arn}'],
            restore_testing_plan_name: '${aws_backup_restore_testing_plan.rt.name}',
            iam_role_arn: 'arn:aws:iam::123456789012:role/r',
          },
        },
      }),
    },
  },
  'restore-testing-own-vault': {
    compliant: {
      type: 'aws_backup_restore_testing_plan',
      values: { recovery_point_selection: [{ include_vaults: ['${aws_backup_vault.home.arn}'] }] },
      context: twoRegions,
    },
    nonCompliant: {
      type: 'aws_backup_restore_testing_plan',
      values: { recovery_point_selection: [{ include_vaults: ['*'] }] },
      context: twoRegions,
    },
  },
  'backup-vault-cmk': {
    compliant: { type: 'aws_backup_vault', values: { name: 'v', kms_key_arn: KEY }, context: withKey },
    nonCompliant: { type: 'aws_backup_vault', values: { name: 'v' }, context: withKey },
  },
  'backup-vault-locked': {
    compliant: {
      type: 'aws_backup_vault',
      values: { name: 'v' },
      context: {
        resource: {
          aws_backup_vault_lock_configuration: {
            l: { backup_vault_name: '${aws_backup_vault.subject.name}', min_retention_days: 7, max_retention_days: 365 },
          },
        },
      },
    },
    nonCompliant: {
      type: 'aws_backup_vault',
      values: { name: 'v' },
      context: {
        resource: {
          aws_backup_vault_lock_configuration: { l: { backup_vault_name: 'another', min_retention_days: 7, max_retention_days: 365 } },
        },
      },
    },
  },
  'backup-copy-same-jurisdiction': {
    compliant: { type: 'aws_backup_plan', values: { rule: [planRule('${aws_backup_vault.offsite.arn}')] }, context: twoRegions },
    nonCompliant: { type: 'aws_backup_plan', values: { rule: [planRule('${aws_backup_vault.abroad.arn}')] }, context: twoRegions },
  },
  'kms-rotation': {
    compliant: { type: 'aws_kms_key', values: { enable_key_rotation: true } },
    nonCompliant: { type: 'aws_kms_key', values: {} },
  },
  'logs-encrypted-cmk': {
    compliant: { type: 'aws_cloudwatch_log_group', values: { kms_key_id: KEY }, context: withKey },
    nonCompliant: { type: 'aws_cloudwatch_log_group', values: { name: '/aws/rds/x' } },
  },
  'sns-encrypted-cmk': {
    compliant: { type: 'aws_sns_topic', values: { name: 't', kms_master_key_id: KEY }, context: withKey },
    nonCompliant: { type: 'aws_sns_topic', values: { name: 't', kms_master_key_id: 'alias/aws/sns' } },
  },
  'iam-no-wildcard-admin': {
    compliant: {
      type: 'aws_iam_role_policy',
      values: { policy: connect('arn:aws:rds-db:eu-central-1:123456789012:dbuser:db-ABC/fleet_app') },
    },
    nonCompliant: { type: 'aws_iam_role_policy', values: { policy: policy({ Effect: 'Allow', Action: '*', Resource: '*' }) } },
  },
  'rds-db-connect-scoped': {
    compliant: {
      type: 'aws_iam_role_policy',
      values: { policy: connect('arn:aws:rds-db:eu-central-1:123456789012:dbuser:db-ABC/fleet_app') },
    },
    nonCompliant: { type: 'aws_iam_role_policy', values: { policy: connect('arn:aws:rds-db:eu-central-1:123456789012:dbuser:db-ABC/*') } },
  },
  'iam-human-mfa': {
    compliant: { type: 'aws_iam_role', values: { assume_role_policy: mfaTrust({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } }) } },
    nonCompliant: {
      type: 'aws_iam_role',
      values: { assume_role_policy: mfaTrust({ BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' } }) },
    },
  },
  'iam-support-session': {
    compliant: {
      type: 'aws_iam_role',
      values: {
        tags: { 'fleet-role': 'support' },
        max_session_duration: 3600,
        assume_role_policy: supportTrust({ Null: { 'aws:RequestTag/ticket': 'false' } }),
      },
    },
    nonCompliant: {
      type: 'aws_iam_role',
      values: {
        tags: { 'fleet-role': 'support' },
        max_session_duration: 43200,
        assume_role_policy: supportTrust({ Null: { 'aws:RequestTag/ticket': 'false' } }),
      },
    },
  },
  'iam-oidc-trust-scoped': {
    compliant: {
      type: 'aws_iam_role',
      values: {
        assume_role_policy: oidcTrust({
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': 'repo:o/n:ref:refs/heads/main',
          },
        }),
      },
    },
    nonCompliant: {
      type: 'aws_iam_role',
      values: {
        assume_role_policy: oidcTrust({
          StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
          StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:o/*' },
        }),
      },
    },
  },
  'purge-operator-people-only': {
    compliant: {
      type: 'aws_iam_role',
      values: {
        tags: { 'fleet-role': 'purge-operator' },
        assume_role_policy: mfaTrust({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } }),
      },
    },
    nonCompliant: {
      type: 'aws_iam_role',
      values: {
        tags: { 'fleet-role': 'purge-operator' },
        assume_role_policy: oidcTrust({
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': 'repo:o/n:ref:refs/heads/main',
          },
        }),
      },
    },
  },
  'purge-pipeline-role-scoped': {
    compliant: pipelineRole(connect('arn:aws:rds-db:eu-central-1:123456789012:dbuser:db-EU/fleet_purge')),
    nonCompliant: pipelineRole(
      connect([
        'arn:aws:rds-db:eu-central-1:123456789012:dbuser:db-EU/fleet_purge',
        'arn:aws:rds-db:us-east-1:123456789012:dbuser:db-US/fleet_purge',
      ]),
    ),
  },
  'sg-postgres-only': {
    compliant: {
      type: 'aws_vpc_security_group_ingress_rule',
      values: { from_port: 5432, to_port: 5432, ip_protocol: 'tcp', cidr_ipv4: '10.0.0.0/16' },
    },
    nonCompliant: {
      type: 'aws_security_group',
      values: { ingress: [{ from_port: 5432, to_port: 5432, protocol: 'tcp', cidr_blocks: ['0.0.0.0/0'] }] },
    },
  },
  'default-sg-closed': {
    compliant: { type: 'aws_default_security_group', values: { ingress: [], egress: [] } },
    nonCompliant: { type: 'aws_default_security_group', values: { ingress: [{ protocol: '-1', self: true, from_port: 0, to_port: 0 }] } },
  },
  'state-backend-secure': {
    compliant: { type: BACKEND_TYPE, values: { s3: { bucket: 'b', key: 'k', encrypt: true, use_lockfile: true } } },
    nonCompliant: { type: BACKEND_TYPE, values: {} },
  },
};

describe('every rule', () => {
  it('has a unique id, a control it mirrors and examples here', () => {
    const ids = ALL_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of ALL_RULES) expect(rule.control, rule.id).not.toBe('');
    expect(Object.keys(EXAMPLES).sort()).toEqual([...ids].sort());
  });
});

describe.each(ALL_RULES.map((rule) => [rule.id, rule] as const))('%s', (id, rule) => {
  it('passes its compliant example', () => {
    const { resource, view } = materialize(EXAMPLES[id]!.compliant);
    expect(rule.resourceTypes).toContain(resource.type);
    const result = rule.evaluate(resource, view);
    expect(result.status, result.reason).toBe('compliant');
  });

  it('flags its non-compliant example, saying why', () => {
    const { resource, view } = materialize(EXAMPLES[id]!.nonCompliant);
    expect(rule.resourceTypes).toContain(resource.type);
    const result = rule.evaluate(resource, view);
    expect(result.status, result.reason).toBe('non_compliant');
    expect(result.reason.length).toBeGreaterThan(10);
  });
});

describe('edge cases', () => {
  const rule = (id: string) => ALL_RULES.find((r) => r.id === id)!;
  const run = (id: string, example: Example) => {
    const { resource, view } = materialize(example);
    return rule(id).evaluate(resource, view);
  };

  it('treats an absent publicly_accessible and auto_minor_version_upgrade as their safe defaults', () => {
    expect(run('rds-not-public', db({})).status).toBe('compliant');
    expect(run('rds-minor-upgrades', db({})).status).toBe('compliant');
  });

  it('refuses unencrypted storage even with a key named', () => {
    expect(run('rds-encrypted-cmk', db({ storage_encrypted: false, kms_key_id: KEY })).status).toBe('non_compliant');
  });

  it('refuses a copy to the region itself, and a rule without copies', () => {
    const home = { type: 'aws_backup_plan', values: { rule: [planRule('${aws_backup_vault.home.arn}')] }, context: twoRegions };
    expect(run('backup-copy-same-jurisdiction', home).reason).toMatch(/within eu-central-1/);
    const none = { type: 'aws_backup_plan', values: { rule: [{ rule_name: 'daily' }] }, context: twoRegions };
    expect(run('backup-copy-same-jurisdiction', none).status).toBe('non_compliant');
    const literal = {
      type: 'aws_backup_plan',
      values: { rule: [planRule('arn:aws:backup:eu-west-3:123456789012:backup-vault:x')] },
      context: twoRegions,
    };
    expect(run('backup-copy-same-jurisdiction', literal).status).toBe('compliant');
  });

  it('does not apply people-only rules to service roles, nor OIDC rules to people', () => {
    const service = {
      type: 'aws_iam_role',
      values: { assume_role_policy: policy({ Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' }) },
    };
    expect(run('iam-human-mfa', service).status).toBe('not_applicable');
    expect(run('iam-oidc-trust-scoped', service).status).toBe('not_applicable');
    expect(run('iam-support-session', service).status).toBe('not_applicable');
  });

  it('requires the ticket tag and sts:TagSession of support', () => {
    const noTicket = {
      type: 'aws_iam_role',
      values: { tags: { 'fleet-role': 'support' }, assume_role_policy: supportTrust({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } }) },
    };
    expect(run('iam-support-session', noTicket).reason).toMatch(/aws:RequestTag\/ticket/);
    const noTagSession = {
      type: 'aws_iam_role',
      values: { tags: { 'fleet-role': 'support' }, assume_role_policy: mfaTrust({ Null: { 'aws:RequestTag/ticket': 'false' } }) },
    };
    expect(run('iam-support-session', noTagSession).reason).toMatch(/sts:TagSession/);
  });

  it('catches wildcard services, NotAction, Resource "*" and administrator attachments', () => {
    const statement = (s: Record<string, unknown>) => ({
      type: 'aws_iam_role_policy',
      values: { policy: policy({ Effect: 'Allow', ...s }) },
    });
    expect(run('iam-no-wildcard-admin', statement({ Action: 'rds-db:*', Resource: 'arn:aws:rds-db:*:*:dbuser:*/*' })).status).toBe(
      'non_compliant',
    );
    expect(run('iam-no-wildcard-admin', statement({ NotAction: 'iam:*', Resource: 'arn:aws:s3:::b' })).status).toBe('non_compliant');
    expect(run('iam-no-wildcard-admin', statement({ Action: 's3:GetObject', Resource: '*' })).status).toBe('non_compliant');
    expect(run('iam-no-wildcard-admin', statement({ Action: 'sts:GetCallerIdentity', Resource: '*' })).status).toBe('compliant');
    const admin = {
      type: 'aws_iam_role_policy_attachment',
      values: { role: 'r', policy_arn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
    };
    expect(run('iam-no-wildcard-admin', admin).status).toBe('non_compliant');
  });

  it('sees rds-db:connect granted through a wildcard action, and a wildcard region or instance', () => {
    const wildcardAction = {
      type: 'aws_iam_role_policy',
      values: { policy: policy({ Effect: 'Allow', Action: 'rds-db:*', Resource: 'arn:aws:rds-db:eu-central-1:1:dbuser:*/fleet_app' }) },
    };
    expect(run('rds-db-connect-scoped', wildcardAction).reason).toMatch(/spans database instances/);
    expect(
      run('rds-db-connect-scoped', { type: 'aws_iam_role_policy', values: { policy: connect('arn:aws:rds-db:*:1:dbuser:db-A/u') } }).reason,
    ).toMatch(/spans regions/);
    expect(run('rds-db-connect-scoped', { type: 'aws_iam_role_policy', values: { policy: connect('*') } }).status).toBe('non_compliant');
  });

  it('requires both encryption and locking of the state', () => {
    expect(run('state-backend-secure', { type: BACKEND_TYPE, values: { s3: { bucket: 'b', key: 'k', encrypt: true } } }).reason).toMatch(
      /use_lockfile/,
    );
    expect(
      run('state-backend-secure', { type: BACKEND_TYPE, values: { s3: { bucket: 'b', key: 'k', use_lockfile: true } } }).reason,
    ).toMatch(/encrypt/);
  });

  it('accepts a backup selection by ARN, and refuses a plan without rules', () => {
    const context = (rule: unknown[]) => ({
      resource: {
        aws_backup_plan: { plan: { rule } },
        aws_backup_selection: { s: { plan_id: '${aws_backup_plan.plan.id}', resources: ['${aws_db_instance.subject.arn}'] } },
      },
    });
    expect(run('rds-backup-plan', { type: 'aws_db_instance', values: {}, context: context([{ rule_name: 'daily' }]) }).status).toBe(
      'compliant',
    );
    expect(run('rds-backup-plan', { type: 'aws_db_instance', values: {}, context: context([]) }).status).toBe('non_compliant');
  });

  it('finds restore testing by "*" narrowed by tags, and refuses a selection whose plan is missing', () => {
    const selection = (values: Record<string, unknown>) =>
      protectedAnd({
        aws_backup_restore_testing_plan: { rt: { name: 'p_restore' } },
        aws_backup_restore_testing_selection: {
          s: { protected_resource_type: 'RDS', restore_testing_plan_name: 'p_restore', iam_role_arn: 'r', ...values },
        },
      });
    const instance = (context: SynthesizedStack): Example => ({
      type: 'aws_db_instance',
      values: { tags: { 'backup-plan': 'p' } },
      context,
    });
    const byTag = {
      protected_resource_arns: ['*'],
      protected_resource_conditions: [{ string_equals: [{ key: 'aws:ResourceTag/backup-plan', value: 'p' }] }],
    };
    expect(run('rds-restore-tested', instance(selection(byTag))).status).toBe('compliant');
    const otherTag = {
      protected_resource_arns: ['*'],
      protected_resource_conditions: [{ string_equals: [{ key: 'aws:ResourceTag/backup-plan', value: 'q' }] }],
    };
    expect(run('rds-restore-tested', instance(selection(otherTag))).status).toBe('non_compliant');
    const missingPlan = { protected_resource_arns: ['*'], restore_testing_plan_name: 'nowhere' };
    expect(run('rds-restore-tested', instance(selection(missingPlan))).reason).toMatch(/"nowhere", which this stack does not define/);
    const ebs = { protected_resource_type: 'EBS', protected_resource_arns: ['*'] };
    expect(run('rds-restore-tested', instance(selection(ebs))).status).toBe('non_compliant');
    // Not in a backup plan: nothing to restore, and rds-backup-plan already says so.
    expect(
      run('rds-restore-tested', { type: 'aws_db_instance', values: { tags: { 'backup-plan': 'x' } }, context: selection(byTag) }).status,
    ).toBe('not_applicable');
  });

  it('refuses restore testing from an off-site or foreign vault, and accepts a literal ARN of the region', () => {
    const plan = (vaults: string[]) => ({
      type: 'aws_backup_restore_testing_plan',
      values: { recovery_point_selection: [{ include_vaults: vaults }] },
      context: twoRegions,
    });
    expect(run('restore-testing-own-vault', plan(['${aws_backup_vault.offsite.arn}'])).reason).toMatch(
      /in eu-west-1, not in the plan's region "eu-central-1"/,
    );
    expect(run('restore-testing-own-vault', plan(['arn:aws:backup:eu-central-1:123456789012:backup-vault:x'])).status).toBe('compliant');
    expect(run('restore-testing-own-vault', plan(['arn:aws:backup:us-east-1:123456789012:backup-vault:x'])).status).toBe('non_compliant');
    expect(run('restore-testing-own-vault', plan([])).status).toBe('non_compliant');
  });

  it('keeps the pipeline purge role to OIDC, one subject, the purge user and one instance', () => {
    const purge = connect('arn:aws:rds-db:eu-central-1:123456789012:dbuser:db-EU/fleet_purge');
    expect(run('purge-pipeline-role-scoped', pipelineRole(purge, environmentTrust('repo:o/n:ref:refs/heads/main'))).status).toBe(
      'compliant',
    );
    expect(run('purge-pipeline-role-scoped', pipelineRole(purge, environmentTrust('repo:o/*'))).reason).toMatch(
      /not one repository's environment or branch/,
    );
    expect(
      run('purge-pipeline-role-scoped', pipelineRole(purge, mfaTrust({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } }))).reason,
    ).toMatch(/admits AWS principals/);
    expect(
      run('purge-pipeline-role-scoped', pipelineRole(connect('arn:aws:rds-db:eu-central-1:123456789012:dbuser:db-EU/fleet_migrator')))
        .reason,
    ).toMatch(/connects as fleet_migrator, not as the purge user \(fleet_purge\)/);
    const more = policy({
      Effect: 'Allow',
      Action: ['rds-db:connect', 'rds:DescribeDBInstances'],
      Resource: 'arn:aws:rds-db:eu-central-1:123456789012:dbuser:db-EU/fleet_purge',
    });
    expect(run('purge-pipeline-role-scoped', pipelineRole(more)).reason).toMatch(/allows rds:DescribeDBInstances besides rds-db:connect/);
    expect(
      run('purge-pipeline-role-scoped', {
        type: 'aws_iam_role',
        values: { assume_role_policy: environmentTrust('repo:o/n:environment:purge') },
      }).status,
    ).toBe('not_applicable');
  });

  it('refuses a purge operator role a pipeline or service could assume, leaving MFA to iam-human-mfa', () => {
    const operator = (trust: string): Example => ({
      type: 'aws_iam_role',
      values: { tags: { 'fleet-role': 'purge-operator' }, assume_role_policy: trust },
    });
    expect(run('purge-operator-people-only', operator(environmentTrust('repo:o/n:environment:purge'))).reason).toMatch(
      /admits Federated principals/,
    );
    const service = policy({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' });
    expect(run('purge-operator-people-only', operator(service)).reason).toMatch(/admits Service principals/);
    expect(run('purge-operator-people-only', operator(mfaTrust())).status).toBe('compliant');
    expect(run('iam-human-mfa', operator(mfaTrust())).status).toBe('non_compliant');
  });

  it('refuses a TLS rule it cannot prove: no group, or a group outside the stack', () => {
    expect(run('rds-tls-forced', db({})).status).toBe('non_compliant');
    expect(run('rds-tls-forced', db({ parameter_group_name: 'default.postgres17' })).reason).toMatch(/not defined in this stack/);
  });
});
