/**
 * IAM policy documents as plain objects, rendered with JSON.stringify. Tokens (account id, ARNs of
 * other resources) land inside the string as `${...}` interpolations, so the synthesized JSON
 * stays a literal policy the policy pack can parse, unlike jsonencode() or a policy-document data
 * source, which would hide the statements until plan time.
 */

export type Principal =
  { readonly AWS: string | readonly string[] } | { readonly Service: string | readonly string[] } | { readonly Federated: string };

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: Principal;
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export function policyDocument(...statements: PolicyStatement[]): string {
  const doc: PolicyDocument = { Version: '2012-10-17', Statement: statements };
  return JSON.stringify(doc);
}

/**
 * Trust for an AWS service. With `accountId`, pinned to this account against the confused-deputy
 * problem; only for services documented to send aws:SourceAccount when they assume the role, or
 * the service could not assume it at all.
 */
export function serviceTrust(service: string, accountId?: string): string {
  return policyDocument({
    Effect: 'Allow',
    Principal: { Service: service },
    Action: 'sts:AssumeRole',
    ...(accountId === undefined ? {} : { Condition: { StringEquals: { 'aws:SourceAccount': accountId } } }),
  });
}

/** The ARN IAM database authentication checks: one database user on one instance. */
export function dbUserArn(awsRegion: string, accountId: string, dbResourceId: string, user: string): string {
  return `arn:aws:rds-db:${awsRegion}:${accountId}:dbuser:${dbResourceId}/${user}`;
}
