import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_RULES, checkSynthDir } from '../../stacks/policy/index.ts';
import { cleanTempDirs, copyOf, readStack, synthFleet, writeStack, type StackJson } from './fixtures.ts';

let outdir: string;

beforeAll(() => {
  outdir = synthFleet();
});
afterAll(cleanTempDirs);

describe('the policy pack over the default synth', () => {
  it('finds every resource compliant', () => {
    const report = checkSynthDir(outdir);
    expect(report.stacks).toEqual(['access', 'data-au', 'data-eu', 'data-us']);
    expect(report.findings.filter((f) => f.status === 'non_compliant')).toEqual([]);
    expect(report.nonCompliant).toBe(0);
  });

  it('has every rule actually check something (none is silently not applicable)', () => {
    const findings = checkSynthDir(outdir).findings;
    for (const rule of ALL_RULES) {
      expect(findings.filter((f) => f.rule === rule.id && f.status === 'compliant').length, rule.id).toBeGreaterThan(0);
    }
  });
});

/** The first resource of `type` in `json` whose attributes satisfy `where`. */
function pick(json: StackJson, type: string, where: (values: Record<string, unknown>) => boolean = () => true): Record<string, unknown> {
  const found = Object.values(json.resource[type] ?? {}).find(where);
  if (!found) throw new Error(`no matching ${type}`);
  return found;
}
const purpose = (p: string) => (r: Record<string, unknown>) => (r.tags as Record<string, string> | undefined)?.['fleet-role'] === p;
const primary = (r: Record<string, unknown>) => r.provider === undefined;
function editPolicy(
  resource: Record<string, unknown>,
  attribute: string,
  edit: (doc: { Statement: Array<Record<string, unknown>> }) => void,
): void {
  const doc = JSON.parse(String(resource[attribute]));
  edit(doc);
  resource[attribute] = JSON.stringify(doc);
}

interface Mutation {
  readonly rule: string;
  readonly stack: string;
  readonly what: string;
  readonly mutate: (json: StackJson) => void;
}

const MUTATIONS: Mutation[] = [
  {
    rule: 'rds-not-public',
    stack: 'data-eu',
    what: 'a public instance',
    mutate: (j) => void (pick(j, 'aws_db_instance').publicly_accessible = true),
  },
  {
    rule: 'rds-encrypted-cmk',
    stack: 'data-us',
    what: 'the AWS-managed storage key',
    mutate: (j) => void delete pick(j, 'aws_db_instance').kms_key_id,
  },
  {
    rule: 'rds-multi-az',
    stack: 'data-au',
    what: 'a single-AZ instance',
    mutate: (j) => void (pick(j, 'aws_db_instance').multi_az = false),
  },
  {
    rule: 'rds-deletion-protection',
    stack: 'data-eu',
    what: 'no deletion protection',
    mutate: (j) => void (pick(j, 'aws_db_instance').deletion_protection = false),
  },
  {
    rule: 'rds-logs-exported',
    stack: 'data-eu',
    what: 'no upgrade log',
    mutate: (j) => void (pick(j, 'aws_db_instance').enabled_cloudwatch_logs_exports = ['postgresql']),
  },
  {
    rule: 'rds-iam-auth',
    stack: 'data-eu',
    what: 'no IAM auth',
    mutate: (j) => void (pick(j, 'aws_db_instance').iam_database_authentication_enabled = false),
  },
  {
    rule: 'rds-backup-retention',
    stack: 'data-eu',
    what: '7-day backups',
    mutate: (j) => void (pick(j, 'aws_db_instance').backup_retention_period = 7),
  },
  {
    rule: 'rds-minor-upgrades',
    stack: 'data-eu',
    what: 'no minor upgrades',
    mutate: (j) => void (pick(j, 'aws_db_instance').auto_minor_version_upgrade = false),
  },
  {
    rule: 'rds-tags-to-snapshots',
    stack: 'data-eu',
    what: 'untagged snapshots',
    mutate: (j) => void delete pick(j, 'aws_db_instance').copy_tags_to_snapshot,
  },
  {
    rule: 'rds-performance-insights-encrypted',
    stack: 'data-eu',
    what: 'Performance Insights under the AWS key',
    mutate: (j) => void delete pick(j, 'aws_db_instance').performance_insights_kms_key_id,
  },
  {
    rule: 'rds-tls-forced',
    stack: 'data-eu',
    what: 'rds.force_ssl=0',
    mutate: (j) => {
      const group = pick(j, 'aws_db_parameter_group');
      group.parameter = (group.parameter as Array<Record<string, unknown>>).map((p) =>
        p.name === 'rds.force_ssl' ? { ...p, value: '0' } : p,
      );
    },
  },
  {
    rule: 'rds-managed-master-secret',
    stack: 'data-eu',
    what: 'a password in the configuration',
    mutate: (j) => {
      const instance = pick(j, 'aws_db_instance');
      delete instance.manage_master_user_password;
      instance.password = 'in-the-state';
    },
  },
  {
    rule: 'rds-data-classification',
    stack: 'data-eu',
    what: 'no classification tag',
    mutate: (j) => void delete (pick(j, 'aws_db_instance').tags as Record<string, string>)['data-classification'],
  },
  {
    rule: 'rds-backup-plan',
    stack: 'data-au',
    what: 'an instance outside the backup plan',
    mutate: (j) => void ((pick(j, 'aws_db_instance').tags as Record<string, string>)['backup-plan'] = 'nothing-selects-this'),
  },
  {
    rule: 'rds-restore-tested',
    stack: 'data-us',
    what: 'backups nobody restores',
    mutate: (j) => void delete (j.resource as Record<string, unknown>).aws_backup_restore_testing_selection,
  },
  {
    rule: 'restore-testing-own-vault',
    stack: 'data-eu',
    what: 'restore tests picking from the off-site vault',
    mutate: (j) => {
      const offsite = Object.keys(j.resource.aws_backup_vault!).find(
        (name) => j.resource.aws_backup_vault![name]!.provider === 'aws.offsite',
      );
      const selection = pick(j, 'aws_backup_restore_testing_plan').recovery_point_selection as Array<Record<string, unknown>>;
      selection[0]!.include_vaults = [`\${aws_backup_vault.${offsite}.arn}`];
    },
  },
  {
    rule: 'backup-vault-cmk',
    stack: 'data-eu',
    what: 'a vault under the AWS key',
    mutate: (j) => void delete pick(j, 'aws_backup_vault', primary).kms_key_arn,
  },
  {
    rule: 'backup-vault-locked',
    stack: 'data-us',
    what: 'the off-site vault unlocked',
    mutate: (j) => {
      const locks = j.resource.aws_backup_vault_lock_configuration!;
      for (const [name, lock] of Object.entries(locks)) if (lock.provider === 'aws.offsite') delete locks[name];
    },
  },
  {
    rule: 'backup-copy-same-jurisdiction',
    stack: 'data-eu',
    what: 'copies sent to the US',
    mutate: (j) => void (j.provider.aws!.find((p) => p.alias === 'offsite')!.region = 'us-east-1'),
  },
  {
    rule: 'kms-rotation',
    stack: 'data-au',
    what: 'an off-site key without rotation',
    mutate: (j) => void (pick(j, 'aws_kms_key', (k) => !primary(k)).enable_key_rotation = false),
  },
  {
    rule: 'logs-encrypted-cmk',
    stack: 'data-eu',
    what: 'an unencrypted log group',
    mutate: (j) => void delete pick(j, 'aws_cloudwatch_log_group').kms_key_id,
  },
  {
    rule: 'sns-encrypted-cmk',
    stack: 'data-au',
    what: 'restore test alerts unencrypted',
    mutate: (j) => void delete pick(j, 'aws_sns_topic').kms_master_key_id,
  },
  {
    rule: 'iam-no-wildcard-admin',
    stack: 'data-eu',
    what: 'AdministratorAccess on the backup role',
    mutate: (j) => void (pick(j, 'aws_iam_role_policy_attachment').policy_arn = 'arn:aws:iam::aws:policy/AdministratorAccess'),
  },
  {
    rule: 'rds-db-connect-scoped',
    stack: 'access',
    what: 'support connecting as any user',
    mutate: (j) =>
      editPolicy(
        pick(j, 'aws_iam_role_policy', (p) => String(p.role).includes('support')),
        'policy',
        (doc) => {
          doc.Statement[0]!.Resource = (doc.Statement[0]!.Resource as string[]).map((r) => r.replace(/\/fleet_support$/, '/*'));
        },
      ),
  },
  {
    rule: 'iam-human-mfa',
    stack: 'access',
    what: 'purge without MFA',
    mutate: (j) =>
      editPolicy(
        pick(j, 'aws_iam_role', purpose('purge-operator')),
        'assume_role_policy',
        (doc) => void delete doc.Statement[0]!.Condition,
      ),
  },
  {
    rule: 'iam-support-session',
    stack: 'access',
    what: '12-hour support sessions',
    mutate: (j) => void (pick(j, 'aws_iam_role', purpose('support')).max_session_duration = 43200),
  },
  {
    rule: 'iam-oidc-trust-scoped',
    stack: 'access',
    what: 'any branch of any repository of the owner',
    mutate: (j) =>
      editPolicy(pick(j, 'aws_iam_role', purpose('migration-runner')), 'assume_role_policy', (doc) => {
        const condition = doc.Statement[0]!.Condition as Record<string, Record<string, unknown>>;
        delete condition.StringEquals!['token.actions.githubusercontent.com:sub'];
        condition.StringLike = { 'token.actions.githubusercontent.com:sub': 'repo:expium/*' };
      }),
  },
  {
    rule: 'purge-operator-people-only',
    stack: 'access',
    what: 'the pipeline let into the human purge role',
    mutate: (j) =>
      editPolicy(pick(j, 'aws_iam_role', purpose('purge-operator')), 'assume_role_policy', (doc) => {
        const pipeline = JSON.parse(String(pick(j, 'aws_iam_role', purpose('purge-pipeline')).assume_role_policy)) as {
          Statement: Array<Record<string, unknown>>;
        };
        doc.Statement.push(...pipeline.Statement);
      }),
  },
  {
    rule: 'purge-pipeline-role-scoped',
    stack: 'access',
    what: "a region's purge role reaching every region",
    mutate: (j) => {
      const role = Object.entries(j.resource.aws_iam_role!).find(([, r]) => purpose('purge-pipeline')(r))![0];
      const everywhere = JSON.parse(String(pick(j, 'aws_iam_role_policy', (p) => String(p.role).includes('purge-operator')).policy))
        .Statement[0].Resource as string[];
      editPolicy(
        pick(j, 'aws_iam_role_policy', (p) => p.role === `\${aws_iam_role.${role}.id}`),
        'policy',
        (doc) => void (doc.Statement[0]!.Resource = everywhere),
      );
    },
  },
  {
    rule: 'sg-postgres-only',
    stack: 'data-eu',
    what: 'PostgreSQL open to the internet',
    mutate: (j) => void (pick(j, 'aws_vpc_security_group_ingress_rule').cidr_ipv4 = '0.0.0.0/0'),
  },
  {
    rule: 'default-sg-closed',
    stack: 'data-eu',
    what: 'the default group left open',
    mutate: (j) => void (pick(j, 'aws_default_security_group').ingress = [{ protocol: '-1', self: true, from_port: 0, to_port: 0 }]),
  },
  {
    rule: 'state-backend-secure',
    stack: 'data-au',
    what: 'state without a lock',
    mutate: (j) => void delete j.terraform.backend.s3!.use_lockfile,
  },
  {
    rule: 'state-backend-secure',
    stack: 'access',
    what: 'local state',
    mutate: (j) => void delete (j.terraform as Record<string, unknown>).backend,
  },
];

describe('the policy pack over mutated copies of the synth', () => {
  it('has a mutation for every rule', () => {
    expect(new Set(MUTATIONS.map((m) => m.rule))).toEqual(new Set(ALL_RULES.map((r) => r.id)));
  });

  it.each(MUTATIONS.map((m) => [m.rule, m.what, m] as const))('%s catches %s', (_rule, _what, mutation) => {
    const dir = copyOf(outdir);
    const json = readStack(dir, mutation.stack);
    mutation.mutate(json);
    writeStack(dir, mutation.stack, json);
    const flagged = checkSynthDir(dir).findings.filter((f) => f.status === 'non_compliant');
    expect(flagged.length).toBeGreaterThan(0);
    // Caught by the rule meant to catch it, in the stack mutated, and by no other rule.
    expect(flagged.map((f) => [f.rule, f.stack])).toEqual(flagged.map(() => [mutation.rule, mutation.stack]));
  });
});
