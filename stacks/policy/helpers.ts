import { compliant, nonCompliant, type PolicyRule, type RuleResult, type StackView, type SynthResource } from './types.ts';

/** A reference or literal, quoted for a reason column. */
export function show(value: unknown): string {
  return value === undefined ? 'not set' : JSON.stringify(value);
}

/**
 * Whether `value` names a customer-managed KMS key: a key of this stack, a key ARN or a
 * non-AWS alias. Absent, or an `alias/aws/...` name, means the AWS-managed key, which the
 * account cannot rotate, restrict or revoke.
 */
export function customerKey(value: unknown, stack: StackView): { readonly ok: boolean; readonly why: string } {
  if (value === undefined || value === null || value === '') return { ok: false, why: 'no key named, so the AWS-managed key is used' };
  if (typeof value !== 'string') return { ok: false, why: `key is ${show(value)}, not a key reference` };
  if (value.includes('alias/aws/')) return { ok: false, why: `${value} is an AWS-managed key` };
  const target = stack.resolve(value);
  if (target?.type === 'aws_kms_key') return { ok: true, why: `customer key ${target.address}` };
  if (target?.type === 'aws_kms_alias') {
    const name = String(target.values.name ?? '');
    return name.startsWith('alias/aws/')
      ? { ok: false, why: `${name} is an AWS-managed key` }
      : { ok: true, why: `customer key via ${name}` };
  }
  if (/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\//.test(value)) return { ok: true, why: `customer key ${value}` };
  if (value.startsWith('${')) return { ok: true, why: `key ${value} from outside the stack` };
  return { ok: false, why: `${show(value)} is not a KMS key ARN` };
}

export interface AttributeRuleSpec {
  readonly id: string;
  readonly control: string;
  readonly title: string;
  readonly resourceType: string;
  /** Decides from the resource's attributes alone. */
  readonly check: (values: Readonly<Record<string, unknown>>) => RuleResult;
}

/** A rule that needs only the resource's own attributes (most RDS controls). */
export function attributeRule(spec: AttributeRuleSpec): PolicyRule {
  return {
    id: spec.id,
    control: spec.control,
    title: spec.title,
    resourceTypes: [spec.resourceType],
    evaluate: (resource: SynthResource) => spec.check(resource.values),
  };
}

/** Compliant when `attribute` is exactly `true`; `why` explains what false would mean. */
export function requireTrue(attribute: string, why: string) {
  return (values: Readonly<Record<string, unknown>>): RuleResult =>
    values[attribute] === true ? compliant(`${attribute} is true`) : nonCompliant(`${attribute} is ${show(values[attribute])}: ${why}`);
}

/** Whether an AWS Backup selection (`aws_backup_selection`) picks this instance, by tag or by ARN. */
export function backupSelectionPicks(selection: SynthResource, instance: SynthResource): boolean {
  const tags = (instance.values.tags ?? {}) as Record<string, unknown>;
  const byTag = ((selection.values.selection_tag ?? []) as Array<Record<string, unknown>>).some(
    (t) => String(t.type).toUpperCase() === 'STRINGEQUALS' && typeof t.key === 'string' && tags[t.key] === t.value,
  );
  const resources = Array.isArray(selection.values.resources) ? selection.values.resources.map(String) : [];
  const byArn = resources.some((r) => r === '*' || r.startsWith(`\${${instance.address}.`));
  return byTag || byArn;
}

/** Whether some `aws_backup_selection` of the stack picks the instance into a plan with rules. */
export function protectedByBackupPlan(instance: SynthResource, stack: StackView): boolean {
  return stack.resources('aws_backup_selection').some((selection) => {
    if (!backupSelectionPicks(selection, instance)) return false;
    const plan = stack.resolve(selection.values.plan_id);
    return plan?.type === 'aws_backup_plan' && Array.isArray(plan.values.rule) && plan.values.rule.length > 0;
  });
}
