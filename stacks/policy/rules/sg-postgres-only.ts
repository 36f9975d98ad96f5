import { show } from '../helpers.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule } from '../types.ts';

const POSTGRES_PORT = 5432;
const ANYWHERE = ['0.0.0.0/0', '::/0'];

interface Ingress {
  readonly from: unknown;
  readonly to: unknown;
  readonly protocol: unknown;
  readonly sources: readonly string[];
}

function ingressOf(type: string, v: Readonly<Record<string, unknown>>): Ingress[] {
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);
  switch (type) {
    case 'aws_security_group':
      return ((v.ingress ?? []) as Array<Record<string, unknown>>).map((r) => ({
        from: r.from_port,
        to: r.to_port,
        protocol: r.protocol,
        sources: [...strings(r.cidr_blocks), ...strings(r.ipv6_cidr_blocks)],
      }));
    case 'aws_security_group_rule':
      return v.type === 'ingress'
        ? [{ from: v.from_port, to: v.to_port, protocol: v.protocol, sources: [...strings(v.cidr_blocks), ...strings(v.ipv6_cidr_blocks)] }]
        : [];
    case 'aws_vpc_security_group_ingress_rule':
      return [{ from: v.from_port, to: v.to_port, protocol: v.ip_protocol, sources: [...strings(v.cidr_ipv4), ...strings(v.cidr_ipv6)] }];
    default:
      return [];
  }
}

export const sgPostgresOnly: PolicyRule = {
  id: 'sg-postgres-only',
  control: 'EC2.18/EC2.19',
  title: 'Security groups admit only PostgreSQL (5432/tcp), never from anywhere',
  resourceTypes: ['aws_security_group', 'aws_security_group_rule', 'aws_vpc_security_group_ingress_rule'],
  evaluate(resource) {
    const rules = ingressOf(resource.type, resource.values);
    if (rules.length === 0) return notApplicable('no ingress');
    const problems: string[] = [];
    for (const r of rules) {
      if (r.from !== POSTGRES_PORT || r.to !== POSTGRES_PORT)
        problems.push(`admits ports ${show(r.from)}-${show(r.to)}, not only ${POSTGRES_PORT}`);
      if (String(r.protocol) !== 'tcp' && String(r.protocol) !== '6') problems.push(`admits protocol ${show(r.protocol)}`);
      const open = r.sources.filter((s) => ANYWHERE.includes(s));
      if (open.length > 0) problems.push(`admits ${open.join(', ')}: the whole internet`);
    }
    return problems.length > 0 ? nonCompliant(problems.join('; ')) : compliant(`${POSTGRES_PORT}/tcp from listed sources only`);
  },
};
