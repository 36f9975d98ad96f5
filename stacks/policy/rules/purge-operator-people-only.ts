import { ROLE_PURPOSE_TAG } from '../../naming.ts';
import { parsePolicy } from '../iam-statements.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule } from '../types.ts';

export const purgeOperatorPeopleOnly: PolicyRule = {
  id: 'purge-operator-people-only',
  control: 'custom (cf. IAM.5)',
  // MFA itself is iam-human-mfa's to check; this rule keeps that check from being sidestepped.
  title: 'The purge operator role is assumed by people only (whom iam-human-mfa holds to MFA); pipelines purge through their own role',
  resourceTypes: ['aws_iam_role'],
  evaluate(resource) {
    const tags = (resource.values.tags ?? {}) as Record<string, unknown>;
    if (tags[ROLE_PURPOSE_TAG] !== 'purge-operator') return notApplicable(`not tagged ${ROLE_PURPOSE_TAG}=purge-operator`);
    const trust = parsePolicy(resource.values.assume_role_policy);
    if (!trust) return nonCompliant('assume_role_policy is not literal JSON, so it cannot be checked');
    const allowing = trust.filter((s) => s.effect === 'Allow');
    if (allowing.length === 0) return nonCompliant('no trust statement allows anyone to assume the role');
    const problems: string[] = [];
    for (const s of allowing) {
      const kinds = s.principal === '*' ? ['*'] : Object.keys(s.principal ?? {});
      if (kinds.some((k) => k !== 'AWS'))
        problems.push(
          `trust admits ${kinds.join(', ')} principals: a pipeline or service cannot present MFA, give it the purge-pipeline role instead`,
        );
    }
    return problems.length > 0 ? nonCompliant(problems.join('; ')) : compliant('IAM principals only');
  },
};
