import { customerKey } from '../helpers.ts';
import { compliant, nonCompliant, type PolicyRule } from '../types.ts';

export const rdsManagedMasterSecret: PolicyRule = {
  id: 'rds-managed-master-secret',
  control: 'CKV_AWS_149',
  title: 'RDS master password managed by Secrets Manager under a customer-managed key',
  resourceTypes: ['aws_db_instance'],
  evaluate(resource, stack) {
    const v = resource.values;
    if (v.manage_master_user_password !== true) {
      return nonCompliant(
        v.password !== undefined
          ? 'password is set in configuration: it lands in the Terraform state'
          : 'manage_master_user_password is not true',
      );
    }
    const key = customerKey(v.master_user_secret_kms_key_id, stack);
    return key.ok ? compliant(`master secret encrypted with ${key.why}`) : nonCompliant(`master_user_secret_kms_key_id: ${key.why}`);
  },
};
