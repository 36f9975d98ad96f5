import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const defaultSgClosed: PolicyRule = {
  id: 'default-sg-closed',
  control: 'EC2.2',
  title: "The VPC's default security group allows no traffic",
  resourceTypes: ['aws_default_security_group'],
  evaluate(resource) {
    const count = (value: unknown) => (Array.isArray(value) ? value.length : 0);
    // Adopting the default group removes every rule it does not list, so absent means closed.
    const rules = count(resource.values.ingress) + count(resource.values.egress);
    return rules === 0
      ? compliant('no ingress or egress rules')
      : nonCompliant(`keeps ${rules} rule(s): anything placed in the default group can talk`);
  },
};
