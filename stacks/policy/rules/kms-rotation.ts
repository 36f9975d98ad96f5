import { show } from '../helpers.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule } from '../types.ts';

export const kmsRotation: PolicyRule = {
  id: 'kms-rotation',
  control: 'KMS.4',
  title: 'KMS key rotation enabled',
  resourceTypes: ['aws_kms_key'],
  evaluate(resource) {
    const v = resource.values;
    const spec = v.customer_master_key_spec;
    // KMS rotates only symmetric encryption keys.
    if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT') return notApplicable(`${show(spec)} keys cannot rotate`);
    return v.enable_key_rotation === true
      ? compliant('enable_key_rotation is true')
      : nonCompliant(`enable_key_rotation is ${show(v.enable_key_rotation)}`);
  },
};
