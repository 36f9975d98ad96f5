import { parsePolicy, type Statement } from '../iam-statements.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule } from '../types.ts';

function federated(statement: Statement): boolean {
  return statement.effect === 'Allow' && statement.actions.some((a) => a.toLowerCase() === 'sts:assumerolewithwebidentity');
}

/** The values required of `claim` under StringEquals (exact match), wildcards refused. */
function exactClaim(statement: Statement, claim: string): readonly string[] | undefined {
  const entry = Object.entries(statement.conditions.StringEquals ?? {}).find(([key]) => key.endsWith(`:${claim}`));
  return entry?.[1];
}

export const iamOidcTrustScoped: PolicyRule = {
  id: 'iam-oidc-trust-scoped',
  control: 'CKV_AWS_358',
  title: 'OIDC trust pins the audience and the repository and branch (no wildcards)',
  resourceTypes: ['aws_iam_role'],
  evaluate(resource) {
    const trust = parsePolicy(resource.values.assume_role_policy);
    if (!trust) return nonCompliant('assume_role_policy is not literal JSON, so it cannot be checked');
    const statements = trust.filter(federated);
    if (statements.length === 0) return notApplicable('not assumed through OIDC');
    const problems: string[] = [];
    for (const s of statements) {
      const aud = exactClaim(s, 'aud');
      const sub = exactClaim(s, 'sub');
      if (!aud || aud.length === 0) problems.push('no StringEquals condition on the aud claim');
      if (!sub || sub.length === 0) problems.push('no StringEquals condition on the sub claim: any repository could assume the role');
      for (const value of sub ?? []) {
        if (value.includes('*') || value.includes('?')) problems.push(`sub ${value} has a wildcard`);
        else if (!/^repo:[^/:]+\/[^/:]+:(ref:refs\/heads\/.+|environment:.+)$/.test(value))
          problems.push(`sub ${value} names no single repository and branch or environment`);
      }
    }
    return problems.length > 0
      ? nonCompliant(problems.join('; '))
      : compliant(`only ${statements.flatMap((s) => exactClaim(s, 'sub') ?? []).join(', ')}`);
  },
};
