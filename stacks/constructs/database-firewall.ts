import { Construct } from 'constructs';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';

export interface DatabaseFirewallProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** CIDRs allowed to reach PostgreSQL; default none. */
  readonly allowedCidrs?: readonly string[];
  /** Security groups allowed to reach PostgreSQL; default none. */
  readonly allowedSecurityGroupIds?: readonly string[];
  /** Default 5432. */
  readonly port?: number;
}

/**
 * The database's security group: the PostgreSQL port from each listed source and nothing else.
 * One rule resource per source (the provider's recommended form; inline blocks fight them) and no
 * egress rule: Terraform drops AWS's allow-all default and the instance initiates no connections.
 */
export class DatabaseFirewall extends Construct {
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: DatabaseFirewallProps) {
    super(scope, id);
    const port = props.port ?? 5432;
    this.securityGroup = new SecurityGroup(this, 'security-group', {
      name: `${props.namePrefix}-postgres`,
      description: `PostgreSQL ${port} from listed sources only`,
      vpcId: props.vpcId,
      revokeRulesOnDelete: true,
      tags: { Name: `${props.namePrefix}-postgres` },
    });
    const common = { securityGroupId: this.securityGroup.id, ipProtocol: 'tcp', fromPort: port, toPort: port };
    (props.allowedCidrs ?? []).forEach((cidr, i) => {
      new VpcSecurityGroupIngressRule(this, `from-cidr-${i}`, { ...common, cidrIpv4: cidr, description: `PostgreSQL from ${cidr}` });
    });
    (props.allowedSecurityGroupIds ?? []).forEach((group, i) => {
      new VpcSecurityGroupIngressRule(this, `from-group-${i}`, {
        ...common,
        referencedSecurityGroupId: group,
        description: `PostgreSQL from ${group}`,
      });
    });
  }
}
