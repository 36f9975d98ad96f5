import { ROLE_PURPOSE_TAG } from '../../naming.ts';
import { parsePolicy, policiesOf, type Statement } from '../iam-statements.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule, type StackView, type SynthResource } from '../types.ts';

const DB_USER_ARN = /^arn:aws[a-z-]*:rds-db:([^:]+):([^:]+):dbuser:([^/]+)\/(.+)$/;
const SUBJECT = /^repo:[^/:*?]+\/[^/:*?]+:(environment:[^*?]+|ref:refs\/heads\/[^*?]+)$/;

const purposeOf = (role: SynthResource | undefined) => ((role?.values.tags ?? {}) as Record<string, unknown>)[ROLE_PURPOSE_TAG];

/** Every permission statement of a role: its inline_policy blocks and the role policies that point at it. */
function permissionsOf(role: SynthResource, stack: StackView): Statement[] {
  const attached = stack.resources('aws_iam_role_policy').filter((p) => stack.resolve(p.values.role)?.address === role.address);
  return [role, ...attached].flatMap((r) => policiesOf(r.type, r.values)).flatMap((doc) => parsePolicy(doc) ?? []);
}

/** The database users the human purge operator role connects as: the purge user, by definition. */
function purgeUsers(stack: StackView): Set<string> {
  const operators = stack.resources('aws_iam_role').filter((r) => purposeOf(r) === 'purge-operator');
  return new Set(
    operators
      .flatMap((r) => permissionsOf(r, stack))
      .flatMap((s) => s.resources.map((arn) => DB_USER_ARN.exec(arn)?.[4] ?? ''))
      .filter(Boolean),
  );
}

export const purgePipelineRoleScoped: PolicyRule = {
  id: 'purge-pipeline-role-scoped',
  control: 'custom (cf. CKV_AWS_358, IAM.21)',
  title: 'The scheduled purge role: assumed only through a pinned OIDC subject, connects only as the purge user to one instance',
  resourceTypes: ['aws_iam_role'],
  evaluate(resource, stack) {
    if (purposeOf(resource) !== 'purge-pipeline') return notApplicable(`not tagged ${ROLE_PURPOSE_TAG}=purge-pipeline`);
    const problems: string[] = [];

    const trust = parsePolicy(resource.values.assume_role_policy);
    if (!trust) return nonCompliant('assume_role_policy is not literal JSON, so it cannot be checked');
    for (const s of trust.filter((t) => t.effect === 'Allow')) {
      const kinds = s.principal === '*' ? ['*'] : Object.keys(s.principal ?? {});
      if (kinds.some((k) => k !== 'Federated'))
        problems.push(`trust admits ${kinds.join(', ')} principals: only the pipeline's OIDC identity may assume it`);
      if (s.actions.some((a) => a.toLowerCase() !== 'sts:assumerolewithwebidentity'))
        problems.push(`trust allows ${s.actions.join(', ')}, not only sts:AssumeRoleWithWebIdentity`);
      const subjects = Object.entries(s.conditions.StringEquals ?? {}).find(([key]) => key.endsWith(':sub'))?.[1] ?? [];
      if (subjects.length === 0) problems.push('trust pins no sub claim with StringEquals');
      for (const sub of subjects) if (!SUBJECT.test(sub)) problems.push(`sub ${sub} is not one repository's environment or branch`);
    }

    const attachments = stack
      .resources('aws_iam_role_policy_attachment')
      .filter((a) => stack.resolve(a.values.role)?.address === resource.address);
    for (const a of attachments) problems.push(`${a.address} attaches ${String(a.values.policy_arn)}: the role needs rds-db:connect only`);
    const allowed = permissionsOf(resource, stack).filter((s) => s.effect === 'Allow');
    const arns: string[] = [];
    for (const s of allowed) {
      const other = [...s.actions.filter((a) => a !== 'rds-db:connect'), ...s.notActions.map((a) => `everything but ${a}`)];
      if (other.length > 0) problems.push(`allows ${other.join(', ')} besides rds-db:connect`);
      arns.push(...s.resources);
    }
    const parsed = arns.map((arn) => ({ arn, match: DB_USER_ARN.exec(arn) }));
    for (const { arn, match } of parsed) if (!match) problems.push(`${arn} is not one database user's ARN`);
    const matched = parsed.flatMap(({ match }) => (match ? [match] : []));
    const instances = new Set(matched.map((m) => `${m[1]}:${m[3]}`));
    const users = new Set(matched.map((m) => m[4] ?? ''));
    if (matched.length === 0) problems.push('grants no rds-db:connect, so the purge cannot connect');
    if (instances.size > 1)
      problems.push(`reaches ${instances.size} database instances (${[...instances].join(', ')}): one region's instance only`);
    const purge = purgeUsers(stack);
    if (purge.size === 0) problems.push('no purge-operator role in this stack names the purge database user to compare with');
    for (const user of users)
      if (!purge.has(user)) problems.push(`connects as ${user}, not as the purge user (${[...purge].join(', ') || 'unknown'})`);

    return problems.length > 0
      ? nonCompliant(problems.join('; '))
      : compliant(`OIDC only; connects as ${[...users].join(', ')} to ${[...instances].join(', ')}`);
  },
};
