import { parsePolicy, policiesOf, type Statement } from '../iam-statements.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule } from '../types.ts';

/** AWS-managed policies that amount to administrator rights. */
const ADMIN_POLICIES = ['AdministratorAccess', 'PowerUserAccess', 'IAMFullAccess'];

/** Actions IAM cannot scope to a resource, for which `Resource: "*"` is the narrowest there is. */
const UNSCOPABLE = [/^sts:GetCallerIdentity$/i, /^[a-z0-9-]+:(Describe|List)[A-Za-z]*\*?$/i, /^tag:GetResources$/i];

function problemsOf(statement: Statement): string[] {
  if (statement.effect !== 'Allow') return [];
  const problems: string[] = [];
  for (const action of statement.actions) {
    if (action === '*' || /^[a-z0-9-]+:\*$/i.test(action)) problems.push(`allows ${action}`);
  }
  if (statement.notActions.length > 0) problems.push(`allows everything but ${statement.notActions.join(', ')} (NotAction)`);
  if (statement.resources.includes('*') && !statement.actions.every((a) => UNSCOPABLE.some((re) => re.test(a)))) {
    problems.push(`grants ${statement.actions.join(', ')} on Resource "*" where a narrower resource exists`);
  }
  return problems;
}

export const iamNoWildcardAdmin: PolicyRule = {
  id: 'iam-no-wildcard-admin',
  control: 'IAM.1/IAM.21, CKV_AWS_62',
  title: 'IAM policies grant no wildcard actions and no Resource "*" where a narrower one exists',
  resourceTypes: [
    'aws_iam_role_policy',
    'aws_iam_policy',
    'aws_iam_user_policy',
    'aws_iam_group_policy',
    'aws_iam_role',
    'aws_iam_role_policy_attachment',
  ],
  evaluate(resource) {
    if (resource.type === 'aws_iam_role_policy_attachment') {
      const arn = String(resource.values.policy_arn ?? '');
      const admin = ADMIN_POLICIES.find((name) => arn.endsWith(`:policy/${name}`));
      return admin ? nonCompliant(`attaches ${admin}`) : compliant(`attaches ${arn}`);
    }
    const documents = policiesOf(resource.type, resource.values);
    if (documents.length === 0) return notApplicable('no permission policy on this resource');
    const problems: string[] = [];
    for (const document of documents) {
      const statements = parsePolicy(document);
      if (!statements) problems.push('policy is not literal JSON, so it cannot be checked');
      else problems.push(...statements.flatMap(problemsOf));
    }
    return problems.length > 0 ? nonCompliant(problems.join('; ')) : compliant('every action and resource is named');
  },
};
