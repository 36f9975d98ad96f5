import { afterAll, describe, expect, it } from 'vitest';
import { cidrSubnet } from '../../stacks/cidr.ts';
import { parameterGroupFamily } from '../../stacks/constructs/postgres-parameters.ts';
import { stateKey } from '../../stacks/naming.ts';
import { checkSynthDir } from '../../stacks/policy/index.ts';
import { cleanTempDirs, fleetWith, only, parseJsonPolicy, readStack, resources, synthFleet } from './fixtures.ts';

afterAll(cleanTempDirs);

describe('cidrSubnet', () => {
  it('splits like terraform cidrsubnet()', () => {
    expect(cidrSubnet('10.20.0.0/16', 2, 0)).toBe('10.20.0.0/18');
    expect(cidrSubnet('10.20.0.0/16', 2, 1)).toBe('10.20.64.0/18');
    expect(cidrSubnet('10.20.0.0/16', 2, 3)).toBe('10.20.192.0/18');
    expect(cidrSubnet('192.168.1.0/24', 2, 2)).toBe('192.168.1.128/26');
    expect(cidrSubnet('10.0.5.7/16', 4, 1)).toBe('10.0.16.0/20');
  });

  it('refuses subnets AWS would refuse and indexes that do not fit', () => {
    expect(() => cidrSubnet('10.0.0.0/27', 2, 0)).toThrow(/at most \/28/);
    expect(() => cidrSubnet('10.0.0.0/16', 2, 4)).toThrow(/holds 4 subnets/);
    expect(() => cidrSubnet('10.0.300.0/16', 2, 0)).toThrow(/not an IPv4 address/);
  });
});

describe('naming', () => {
  it('derives the parameter group family from the major version', () => {
    expect(parameterGroupFamily('17')).toBe('postgres17');
    expect(parameterGroupFamily('16.4')).toBe('postgres16');
  });

  it('puts state objects under the key prefix', () => {
    expect(stateKey({ state: { bucket: 'b', keyPrefix: 'a/b/', awsRegion: 'eu-central-1' } }, 'data-eu')).toBe('a/b/data-eu.tfstate');
    expect(stateKey({ state: { bucket: 'b', keyPrefix: '', awsRegion: 'eu-central-1' } }, 'access')).toBe('access.tfstate');
  });
});

describe('names', () => {
  it('refuses a fleet and region name whose sum overflows an AWS name limit', () => {
    const fleet = fleetWith((raw) => {
      raw.name = 'a-rather-long-fleet-name-abcdef';
      raw.regions[0]!.name = 'europecentral123';
    });
    expect(() => synthFleet(fleet)).toThrow(
      /backup vault name "a-rather-long-fleet-name-abcdef-europecentral123-offsite" exceeds AWS's 50 characters/,
    );
  });
});

describe('a region in an existing VPC, admitting security groups, on PostgreSQL 16', () => {
  const fleet = fleetWith((raw) => {
    raw.regions[0]!.network = {
      vpcId: 'vpc-0abc123',
      subnetIds: ['subnet-0aaa', 'subnet-0bbb', 'subnet-0ccc'],
      allowedCidrs: [],
      allowedSecurityGroupIds: ['sg-0123abc', 'sg-0456def'],
    };
    raw.regions[0]!.engineVersion = '16.4';
  });
  const outdir = synthFleet(fleet);
  const eu = readStack(outdir, 'data-eu');

  it('creates no VPC or subnets, and builds the subnet group from the named subnets', () => {
    expect(resources(eu, 'aws_vpc')).toHaveLength(0);
    expect(resources(eu, 'aws_subnet')).toHaveLength(0);
    expect(resources(eu, 'aws_default_security_group')).toHaveLength(0);
    expect(only(eu, 'aws_db_subnet_group')[1].subnet_ids).toEqual(['subnet-0aaa', 'subnet-0bbb', 'subnet-0ccc']);
    expect(only(eu, 'aws_security_group')[1].vpc_id).toBe('vpc-0abc123');
  });

  it('admits exactly the listed security groups on 5432', () => {
    const rules = resources(eu, 'aws_vpc_security_group_ingress_rule').map(([, r]) => r);
    expect(rules.map((r) => r.referenced_security_group_id)).toEqual(['sg-0123abc', 'sg-0456def']);
    expect(rules.every((r) => r.from_port === 5432 && r.to_port === 5432 && r.cidr_ipv4 === undefined)).toBe(true);
  });

  it('uses the postgres16 family and the named version', () => {
    expect(only(eu, 'aws_db_parameter_group')[1]).toMatchObject({ family: 'postgres16', name: 'expium-addon-eu-postgres16' });
    expect(only(eu, 'aws_db_instance')[1].engine_version).toBe('16.4');
  });

  it('still passes the policy pack', () => {
    expect(checkSynthDir(outdir).findings.filter((f) => f.status === 'non_compliant')).toEqual([]);
  });
});

describe('an account that already has the GitHub OIDC provider', () => {
  const arn = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
  const fleet = fleetWith((raw) => {
    (raw.oidc as Record<string, unknown>).providerArn = arn;
    (raw.oidc as Record<string, unknown>).branches = ['main', 'release'];
  });
  const access = readStack(synthFleet(fleet), 'access');

  it('trusts the named provider instead of creating one, for each branch', () => {
    expect(resources(access, 'aws_iam_openid_connect_provider')).toHaveLength(0);
    const runner = resources(access, 'aws_iam_role').find(
      ([, r]) => (r.tags as Record<string, string>)['fleet-role'] === 'migration-runner',
    )!;
    const [statement] = parseJsonPolicy(runner[1].assume_role_policy).Statement;
    expect(statement!.Principal).toEqual({ Federated: arn });
    expect(statement!.Condition!.StringEquals!['token.actions.githubusercontent.com:sub']).toEqual([
      'repo:expium/jira-addon:ref:refs/heads/main',
      'repo:expium/jira-addon:ref:refs/heads/release',
    ]);
  });
});

describe('a fleet without a data-classification tag', () => {
  it('classifies its databases customer-confidential', () => {
    const fleet = fleetWith((raw) => {
      raw.tags = { project: 'x' };
    });
    const eu = readStack(synthFleet(fleet), 'data-eu');
    expect((only(eu, 'aws_db_instance')[1].tags as Record<string, string>)['data-classification']).toBe('customer-confidential');
  });
});
