import { parsePolicy, type Statement } from '../iam-statements.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule } from '../types.ts';

/** Statements letting IAM principals (people, not services or identity providers) assume the role. */
function humanStatements(trust: Statement[]): Statement[] {
  return trust.filter((s) => s.effect === 'Allow' && (s.principal === '*' || (s.principal?.AWS?.length ?? 0) > 0));
}

function requiresMfa(statement: Statement): boolean {
  // Bool, not BoolIfExists: the IfExists form lets long-term access keys (no MFA context) through.
  return (statement.conditions.Bool?.['aws:MultiFactorAuthPresent'] ?? []).some((v) => v.toLowerCase() === 'true');
}

export const iamHumanMfa: PolicyRule = {
  id: 'iam-human-mfa',
  control: 'custom (cf. IAM.5)',
  title: 'Roles people assume (support, purge) require MFA in their trust policy',
  resourceTypes: ['aws_iam_role'],
  evaluate(resource) {
    const trust = parsePolicy(resource.values.assume_role_policy);
    if (!trust) return nonCompliant('assume_role_policy is not literal JSON, so it cannot be checked');
    const human = humanStatements(trust);
    if (human.length === 0) return notApplicable('assumed by a service or an identity provider, not by people');
    const without = human.filter((s) => !requiresMfa(s));
    return without.length === 0
      ? compliant('every statement for IAM principals requires aws:MultiFactorAuthPresent')
      : nonCompliant(`${without.length} trust statement(s) let IAM principals assume the role without MFA`);
  },
};
