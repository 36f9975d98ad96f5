import { ROLE_PURPOSE_TAG } from '../../naming.ts';
import { TICKET_TAG } from '../../trust-policies.ts';
import { show } from '../helpers.ts';
import { grants, parsePolicy } from '../iam-statements.ts';
import { compliant, nonCompliant, notApplicable, type PolicyRule } from '../types.ts';
// Also IAM's ceiling when max_session_duration is not set.
import { MAX_HUMAN_SESSION_SECONDS as MAX_SECONDS } from '../../promises.ts';

export const iamSupportSession: PolicyRule = {
  id: 'iam-support-session',
  control: 'custom',
  title: 'Support sessions last at most an hour and carry a ticket session tag',
  resourceTypes: ['aws_iam_role'],
  evaluate(resource) {
    const tags = (resource.values.tags ?? {}) as Record<string, unknown>;
    if (tags[ROLE_PURPOSE_TAG] !== 'support') return notApplicable(`not tagged ${ROLE_PURPOSE_TAG}=support`);
    const problems: string[] = [];
    const duration = resource.values.max_session_duration ?? MAX_SECONDS;
    if (typeof duration !== 'number' || duration > MAX_SECONDS)
      problems.push(`max_session_duration is ${show(duration)}, above ${MAX_SECONDS}`);
    const trust = parsePolicy(resource.values.assume_role_policy) ?? [];
    const assuming = trust.filter((s) => grants(s, 'sts:AssumeRole'));
    if (assuming.length === 0) problems.push('no trust statement allows sts:AssumeRole');
    for (const s of assuming) {
      const key = `aws:RequestTag/${TICKET_TAG}`;
      const required =
        s.conditions.Null?.[key]?.includes('false') ||
        Object.entries(s.conditions).some(([op, byKey]) => !op.startsWith('Null') && !op.endsWith('IfExists') && byKey[key] !== undefined);
      if (!required) problems.push(`a trust statement does not require the ${key} session tag`);
      if (!grants(s, 'sts:TagSession')) problems.push('a trust statement does not allow sts:TagSession, so no ticket tag can be passed');
    }
    return problems.length > 0 ? nonCompliant(problems.join('; ')) : compliant(`sessions of at most ${duration}s, tagged with a ticket`);
  },
};
