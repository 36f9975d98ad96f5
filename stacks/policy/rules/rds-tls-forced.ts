import { show } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule, type SynthResource } from '../types.ts';

function forceSsl(group: SynthResource): unknown {
  const parameters = Array.isArray(group.values.parameter) ? (group.values.parameter as Array<Record<string, unknown>>) : [];
  return parameters.find((p) => p.name === 'rds.force_ssl')?.value;
}

export const rdsTlsForced: PolicyRule = {
  id: 'rds-tls-forced',
  control: 'CKV2_AWS_69',
  title: 'RDS PostgreSQL requires TLS (rds.force_ssl=1)',
  resourceTypes: ['aws_db_instance'],
  evaluate(resource, stack) {
    const name = resource.values.parameter_group_name;
    if (name === undefined) return nonCompliant('parameter_group_name not set: the default group does not force TLS on every version');
    const group = stack.resolve(name) ?? stack.resources('aws_db_parameter_group').find((g) => g.values.name === name);
    if (group?.type !== 'aws_db_parameter_group')
      return nonCompliant(`parameter group ${show(name)} is not defined in this stack, so TLS cannot be shown to be forced`);
    const value = forceSsl(group);
    return String(value) === '1'
      ? compliant(`${group.address} sets rds.force_ssl=1`)
      : nonCompliant(`${group.address} sets rds.force_ssl to ${show(value)}, not 1`);
  },
};
