import { protectedByBackupPlan, show } from '../helpers.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule, type StackView, type SynthResource } from '../types.ts';

type Conditions = { string_equals?: Array<Record<string, unknown>>; string_not_equals?: Array<Record<string, unknown>> };

/** A tag condition's key names the tag either bare or as `aws:ResourceTag/KEY`. */
function tagValue(tags: Record<string, unknown>, key: unknown): unknown {
  return typeof key === 'string' ? tags[key.replace(/^aws:ResourceTag\//, '')] : undefined;
}

/** Whether a restore testing selection picks this instance: by its ARN, or `*` narrowed by tags it carries. */
function picks(selection: SynthResource, instance: SynthResource): boolean {
  if (String(selection.values.protected_resource_type ?? '').toUpperCase() !== 'RDS') return false;
  const arns = Array.isArray(selection.values.protected_resource_arns) ? selection.values.protected_resource_arns.map(String) : [];
  if (arns.some((arn) => arn.startsWith(`\${${instance.address}.`))) return true;
  if (!arns.includes('*')) return false;
  const tags = (instance.values.tags ?? {}) as Record<string, unknown>;
  const conditions = ((selection.values.protected_resource_conditions ?? []) as Conditions[])[0] ?? {};
  return (
    (conditions.string_equals ?? []).every((c) => tagValue(tags, c.key) === c.value) &&
    (conditions.string_not_equals ?? []).every((c) => tagValue(tags, c.key) !== c.value)
  );
}

function planOf(selection: SynthResource, stack: StackView): SynthResource | undefined {
  const name = selection.values.restore_testing_plan_name;
  const resolved = stack.resolve(name);
  if (resolved) return resolved.type === 'aws_backup_restore_testing_plan' ? resolved : undefined;
  return stack.resources('aws_backup_restore_testing_plan').find((plan) => plan.values.name === name);
}

export const rdsRestoreTested: PolicyRule = {
  id: 'rds-restore-tested',
  control: 'custom (cf. NIST 800-53 CP-4, CP-9(1))',
  title: 'Every RDS instance in a backup plan has its backups restored on a schedule (restore testing)',
  resourceTypes: ['aws_db_instance'],
  evaluate(resource, stack) {
    if (!protectedByBackupPlan(resource, stack)) return notApplicable('in no backup plan of this stack (rds-backup-plan flags that)');
    const problems: string[] = [];
    for (const selection of stack.resources('aws_backup_restore_testing_selection')) {
      if (!picks(selection, resource)) continue;
      const plan = planOf(selection, stack);
      if (!plan) {
        problems.push(
          `${selection.address} names restore testing plan ${show(selection.values.restore_testing_plan_name)}, which this stack does not define`,
        );
        continue;
      }
      if (typeof selection.values.iam_role_arn !== 'string' || selection.values.iam_role_arn === '') {
        problems.push(`${selection.address} has no iam_role_arn to restore with`);
        continue;
      }
      return compliant(`restored by ${plan.address} on ${show(plan.values.schedule_expression)} via ${selection.address}`);
    }
    return nonCompliant(
      problems.length > 0
        ? problems.join('; ')
        : 'no aws_backup_restore_testing_selection of this stack picks the instance: its backups are taken but never shown to restore',
    );
  },
};
