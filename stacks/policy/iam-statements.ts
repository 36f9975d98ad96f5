/**
 * Reading IAM policy documents out of synthesized attributes. The stacks render policies with
 * JSON.stringify, so they arrive as JSON strings, interpolations and all.
 */

export interface Statement {
  readonly effect: string;
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly principal: Readonly<Record<string, readonly string[]>> | '*' | undefined;
  /** operator -> key -> values, with scalar values as one-element lists. */
  readonly conditions: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

const list = (value: unknown): string[] => (value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String));

function normalize(raw: Record<string, unknown>): Statement {
  const principal = raw.Principal;
  const conditions: Record<string, Record<string, string[]>> = {};
  for (const [operator, byKey] of Object.entries((raw.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    conditions[operator] = Object.fromEntries(Object.entries(byKey).map(([key, value]) => [key, list(value)]));
  }
  return {
    effect: String(raw.Effect ?? ''),
    actions: list(raw.Action),
    notActions: list(raw.NotAction),
    resources: list(raw.Resource),
    principal:
      principal === '*'
        ? '*'
        : principal && typeof principal === 'object'
          ? Object.fromEntries(Object.entries(principal).map(([kind, who]) => [kind, list(who)]))
          : undefined,
    conditions,
  };
}

/** The statements of a policy given as a JSON string; undefined when it is not literal JSON (e.g. an expression). */
export function parsePolicy(document: unknown): Statement[] | undefined {
  if (typeof document !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const statements = (parsed as { Statement?: unknown }).Statement;
  if (Array.isArray(statements)) return statements.map((s) => normalize(s as Record<string, unknown>));
  // IAM also accepts a single statement object.
  return statements && typeof statements === 'object' ? [normalize(statements as Record<string, unknown>)] : undefined;
}

/** IAM's wildcard matching for actions: `*` any run of characters, `?` one, case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(action);
}

export function grants(statement: Statement, action: string): boolean {
  return statement.effect === 'Allow' && statement.actions.some((pattern) => actionMatches(pattern, action));
}

/** The policy documents a resource carries, by the attribute IAM resources keep them in. */
export function policiesOf(type: string, values: Readonly<Record<string, unknown>>): unknown[] {
  switch (type) {
    case 'aws_iam_role_policy':
    case 'aws_iam_policy':
    case 'aws_iam_user_policy':
    case 'aws_iam_group_policy':
      return [values.policy];
    case 'aws_iam_role':
      return ((values.inline_policy ?? []) as Array<Record<string, unknown>>).map((p) => p.policy);
    default:
      return [];
  }
}
