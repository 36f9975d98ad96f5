import { attributeRule } from '../helpers.ts';
import { compliant, nonCompliant } from '../types.ts';

export const rdsMinorUpgrades = attributeRule({
  id: 'rds-minor-upgrades',
  control: 'RDS.13',
  title: 'RDS automatic minor version upgrades enabled',
  resourceType: 'aws_db_instance',
  check: (v) =>
    v.auto_minor_version_upgrade === false
      ? nonCompliant('auto_minor_version_upgrade is false: security fixes wait for someone to apply them')
      : compliant(
          v.auto_minor_version_upgrade === true
            ? 'auto_minor_version_upgrade is true'
            : 'auto_minor_version_upgrade not set: on by default',
        ),
});
