import { Construct } from 'constructs';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { serviceTrust } from '../iam-document.ts';
import { ROLE_PURPOSE_TAG } from '../naming.ts';

export interface ServiceRoleProps {
  /** Role name; IAM names are account-wide, so include the fleet and region. */
  readonly name: string;
  /** Service principal, e.g. `backup.amazonaws.com`. */
  readonly service: string;
  /**
   * Pin the trust to this account (aws:SourceAccount); default none. Set it only for services
   * documented to send the key when assuming a role (RDS enhanced monitoring does).
   */
  readonly sourceAccountId?: string;
  /** AWS-managed policies scoped to exactly this service's job. */
  readonly managedPolicyArns: readonly string[];
  readonly purpose: string;
}

/**
 * A role an AWS service assumes on the fleet's behalf. AWS's job-specific managed policies are
 * used rather than hand-written copies: AWS keeps them current as the service gains features.
 */
export class ServiceRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: ServiceRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, 'role', {
      name: props.name,
      description: `${props.service}: ${props.purpose}`,
      assumeRolePolicy: serviceTrust(props.service, props.sourceAccountId),
      tags: { [ROLE_PURPOSE_TAG]: props.purpose },
    });
    props.managedPolicyArns.forEach((arn, i) => {
      new IamRolePolicyAttachment(this, `policy-${i}`, { role: this.role.name, policyArn: arn });
    });
  }
}
