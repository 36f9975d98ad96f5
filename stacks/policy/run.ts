import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { resourcesOf, stackView, type SynthesizedStack } from './stack-view.ts';
import type { Finding, PolicyRule } from './types.ts';

/** Every rule over every resource of one synthesized stack; rules never see other types. */
export function evaluateStack(stackName: string, json: SynthesizedStack, rules: readonly PolicyRule[]): Finding[] {
  const view = stackView(stackName, json);
  const findings: Finding[] = [];
  for (const resource of resourcesOf(stackName, json)) {
    for (const rule of rules) {
      if (!rule.resourceTypes.includes(resource.type)) continue;
      const result = rule.evaluate(resource, view);
      findings.push({ rule: rule.id, control: rule.control, stack: stackName, resource: resource.address, ...result });
    }
  }
  return findings;
}

export interface PolicyReport {
  readonly dir: string;
  /** Names of the stacks found under `dir/stacks`; empty means nothing was synthesized. */
  readonly stacks: readonly string[];
  readonly findings: readonly Finding[];
  readonly nonCompliant: number;
}

/** Reads `dir/stacks/*\/cdk.tf.json` (what `npm run synth` writes) and evaluates each stack. */
export function evaluateSynthDir(dir: string, rules: readonly PolicyRule[]): PolicyReport {
  const stacksDir = path.join(dir, 'stacks');
  const names = existsSync(stacksDir)
    ? readdirSync(stacksDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(path.join(stacksDir, entry.name, 'cdk.tf.json')))
        .map((entry) => entry.name)
        .sort()
    : [];
  const findings = names.flatMap((name) => {
    const json = JSON.parse(readFileSync(path.join(stacksDir, name, 'cdk.tf.json'), 'utf8')) as SynthesizedStack;
    return evaluateStack(name, json, rules);
  });
  return { dir, stacks: names, findings, nonCompliant: findings.filter((f) => f.status === 'non_compliant').length };
}
