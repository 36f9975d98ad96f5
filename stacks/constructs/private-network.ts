import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group/index.js';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones/index.js';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group/index.js';
import type { RegionConfig } from '../../src/config/schema.ts';
import { cidrSubnet } from '../cidr.ts';

export interface PrivateNetworkProps {
  /** Prefix of resource names, e.g. `expium-addon-eu`. */
  readonly namePrefix: string;
  /** The region's `network` from the fleet description: a CIDR to build in, or an existing VPC. */
  readonly network: RegionConfig['network'];
  /**
   * Private subnets to create, each in its own availability zone; default 2, the minimum
   * Multi-AZ needs and the most every listed region offers to every account (us-west-1 has two).
   */
  readonly subnetCount?: number;
}

/**
 * Where the database lives: private subnets only (no internet gateway, no public IPs) and the DB
 * subnet group over them. With an existing VPC the stack creates only the subnet group.
 */
export class PrivateNetwork extends Construct {
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly subnetGroup: DbSubnetGroup;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    const { network } = props;
    if ('vpcId' in network) {
      this.vpcId = network.vpcId;
      this.subnetIds = [...network.subnetIds];
    } else {
      const count = props.subnetCount ?? 2;
      const vpc = new Vpc(this, 'vpc', {
        cidrBlock: network.vpcCidr,
        enableDnsSupport: true,
        enableDnsHostnames: true,
        tags: { Name: props.namePrefix },
      });
      // The default group allows all traffic between its members; empty it so nothing can use it.
      new DefaultSecurityGroup(this, 'default-security-group', { vpcId: vpc.id, ingress: [], egress: [] });
      const zones = new DataAwsAvailabilityZones(this, 'zones', { state: 'available' });
      this.vpcId = vpc.id;
      this.subnetIds = Array.from({ length: count }, (_, i) => {
        const subnet = new Subnet(this, `private-${i}`, {
          vpcId: vpc.id,
          // Two extra bits leave room for up to four subnets, however small the VPC.
          cidrBlock: cidrSubnet(network.vpcCidr, 2, i),
          availabilityZone: Fn.element(zones.names, i),
          mapPublicIpOnLaunch: false,
          tags: { Name: `${props.namePrefix}-private-${i}` },
        });
        return subnet.id;
      });
    }
    this.subnetGroup = new DbSubnetGroup(this, 'db-subnet-group', {
      name: props.namePrefix,
      description: `Private subnets of ${props.namePrefix}`,
      subnetIds: this.subnetIds,
    });
  }
}
