import { grants, parsePolicy, policiesOf } from '../iam-statements.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule } from '../types.ts';

/** arn:aws:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/USER */
const DB_USER_ARN = /^arn:aws[a-z-]*:rds-db:([^:]+):([^:]+):dbuser:([^/]+)\/(.+)$/;

function scopeProblem(resource: string): string | undefined {
  const match = DB_USER_ARN.exec(resource);
  if (!match) return `${resource} is not a dbuser ARN`;
  const [, region = '', , instance = '', user = ''] = match;
  if (region.includes('*')) return `${resource} spans regions`;
  if (instance.includes('*')) return `${resource} spans database instances`;
  if (user.includes('*')) return `${resource} allows any database user`;
  return undefined;
}

export const rdsDbConnectScoped: PolicyRule = {
  id: 'rds-db-connect-scoped',
  control: 'CKV_AWS_355',
  title: 'rds-db:connect granted for one named database user on named instances',
  resourceTypes: ['aws_iam_role_policy', 'aws_iam_policy', 'aws_iam_user_policy', 'aws_iam_group_policy', 'aws_iam_role'],
  evaluate(resource) {
    const statements = policiesOf(resource.type, resource.values).flatMap((doc) => parsePolicy(doc) ?? []);
    const connecting = statements.filter((s) => grants(s, 'rds-db:connect'));
    if (connecting.length === 0) return notApplicable('grants no rds-db:connect');
    const problems = connecting.flatMap((s) =>
      s.resources.length === 0 ? ['no Resource'] : s.resources.map(scopeProblem).filter((p): p is string => p !== undefined),
    );
    if (problems.length > 0) return nonCompliant(problems.join('; '));
    const users = [...new Set(connecting.flatMap((s) => s.resources.map((r) => DB_USER_ARN.exec(r)?.[4])))];
    return compliant(`connects only as ${users.join(', ')}`);
  },
};
