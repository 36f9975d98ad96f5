/**
 * The policy pack's vocabulary. A rule is a pure function of one resource of a synthesized stack
 * (and, to follow references, that stack): no I/O, no AWS calls, so it runs before any deploy.
 */

export type Status = 'compliant' | 'non_compliant' | 'not_applicable';

export interface RuleResult {
  readonly status: Status;
  /** Why, naming the offending attribute and value: the table's last column. */
  readonly reason: string;
}

/** One resource block of a `cdk.tf.json`, e.g. `resource.aws_db_instance.database_instance_D7FC2283`. */
export interface SynthResource {
  readonly stack: string;
  /** Terraform type; the pseudo type `terraform_backend` stands for the stack's backend block. */
  readonly type: string;
  readonly name: string;
  /** `type.name`, as terraform addresses it. */
  readonly address: string;
  /** The block's attributes, snake_case as synthesized. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** Read access to the rest of a stack, for rules that follow a reference. */
export interface StackView {
  readonly name: string;
  /** Every resource of the stack of this type. */
  resources(type: string): readonly SynthResource[];
  /** The resource an interpolation like `${aws_kms_key.key_1.arn}` points at, if it is in this stack. */
  resolve(value: unknown): SynthResource | undefined;
  /** The AWS region a resource is created in: its `region` argument, else its provider's. */
  regionOf(resource: SynthResource): string | undefined;
}

export interface PolicyRule {
  /** Stable id, e.g. `rds-not-public`. */
  readonly id: string;
  /** The AWS Security Hub control or checkov check the rule mirrors, e.g. `RDS.2`. */
  readonly control: string;
  readonly title: string;
  /** Resource types the rule looks at; every other type is not applicable without asking. */
  readonly resourceTypes: readonly string[];
  evaluate(resource: SynthResource, stack: StackView): RuleResult;
}

export interface Finding extends RuleResult {
  readonly rule: string;
  readonly control: string;
  readonly stack: string;
  readonly resource: string;
}

export const compliant = (reason: string): RuleResult => ({ status: 'compliant', reason });
export const nonCompliant = (reason: string): RuleResult => ({ status: 'non_compliant', reason });
export const notApplicable = (reason: string): RuleResult => ({ status: 'not_applicable', reason });
