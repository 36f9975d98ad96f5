import { BACKEND_TYPE } from '../stack-view.ts';
import { show } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const stateBackendSecure: PolicyRule = {
  id: 'state-backend-secure',
  control: 'custom (cf. CKV_AWS_19)',
  title: 'Terraform state kept in S3, encrypted, with native locking',
  resourceTypes: [BACKEND_TYPE],
  evaluate(resource) {
    const v = resource.values;
    if (v.type !== 's3') return nonCompliant(`state is kept in a ${show(v.type)} backend, not S3: no shared, encrypted, locked copy`);
    const problems: string[] = [];
    if (v.encrypt !== true) problems.push(`encrypt is ${show(v.encrypt)}: the state holds resource ids and endpoints`);
    // A lock file (Terraform 1.10+) or the deprecated DynamoDB table; without either, two applies can interleave.
    if (v.use_lockfile !== true && typeof v.dynamodb_table !== 'string')
      problems.push('neither use_lockfile nor dynamodb_table: concurrent applies can corrupt the state');
    return problems.length > 0
      ? nonCompliant(problems.join('; '))
      : compliant(`s3://${String(v.bucket)}/${String(v.key)} encrypted and locked`);
  },
};
