import { policyDocument } from './iam-document.ts';

/**
 * Trust policies of the roles people and pipelines assume. Each names its conditions literally so
 * the policy pack can check them on the synthesized JSON.
 */

/** GitHub's OIDC issuer host, the prefix of its claim keys in IAM conditions. */
export function oidcHost(url: string): string {
  return url.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

/** The `sub` claim GitHub Actions sends for a workflow run on a branch. */
export function branchSubject(repository: string, branch: string): string {
  return `repo:${repository}:ref:refs/heads/${branch}`;
}

export interface PipelineTrustProps {
  readonly providerArn: string;
  readonly url: string;
  readonly audience: string;
  readonly repository: string;
  readonly branches: readonly string[];
}

/** Only workflow runs of the named repository on the named branches, and only tokens minted for STS. */
export function pipelineTrust(props: PipelineTrustProps): string {
  const host = oidcHost(props.url);
  return policyDocument({
    Sid: 'ReleasePipelineOnly',
    Effect: 'Allow',
    Principal: { Federated: props.providerArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: {
      StringEquals: {
        [`${host}:aud`]: props.audience,
        [`${host}:sub`]: props.branches.map((branch) => branchSubject(props.repository, branch)),
      },
    },
  });
}

/** The `sub` claim GitHub Actions sends for a job that names a deployment environment. */
export function environmentSubject(repository: string, environment: string): string {
  return `repo:${repository}:environment:${environment}`;
}

export interface EnvironmentTrustProps extends Omit<PipelineTrustProps, 'branches'> {
  readonly environment: string;
}

/**
 * Only jobs of the named repository that run in the named GitHub environment. No MFA condition:
 * a pipeline has none to offer; the environment's branch rule and reviewers stand in for it.
 */
export function pipelineEnvironmentTrust(props: EnvironmentTrustProps): string {
  const host = oidcHost(props.url);
  return policyDocument({
    Sid: 'PipelineEnvironmentOnly',
    Effect: 'Allow',
    Principal: { Federated: props.providerArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: {
      StringEquals: {
        [`${host}:aud`]: props.audience,
        [`${host}:sub`]: environmentSubject(props.repository, props.environment),
      },
    },
  });
}

/** People of this account (allowed by their own IAM policies to assume it), signed in with MFA. */
export function operatorTrust(accountId: string): string {
  return policyDocument({
    Sid: 'OperatorsWithMfa',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${accountId}:root` },
    Action: 'sts:AssumeRole',
    Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
  });
}

/** The session tag every support session must carry, naming the ticket it serves. */
export const TICKET_TAG = 'ticket';

/**
 * As operatorTrust, and the session must be tagged with the ticket (CloudTrail then ties every
 * query to a ticket); no other session tags, so the ticket cannot be drowned out.
 */
export function supportTrust(accountId: string): string {
  return policyDocument({
    Sid: 'SupportWithMfaAndTicket',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${accountId}:root` },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      Null: { [`aws:RequestTag/${TICKET_TAG}`]: 'false' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [TICKET_TAG] },
    },
  });
}
