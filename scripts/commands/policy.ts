import type { Command } from 'commander';
import { checkSynthDir, formatTable, type PolicyReport } from '../../stacks/policy/index.ts';
import { createOutput, type Output } from '../cli/output.ts';

/** 0 all compliant, 1 a resource is non-compliant, 2 nothing synthesized to check. */
export const POLICY_EXIT = { ok: 0, nonCompliant: 1, nothingToCheck: 2 } as const;

export interface PolicyFlags {
  readonly json?: boolean;
  readonly all?: boolean;
}

function counts(report: PolicyReport): Record<string, number> {
  const by = (status: string) => report.findings.filter((f) => f.status === status).length;
  return { compliant: by('compliant'), non_compliant: by('non_compliant'), not_applicable: by('not_applicable') };
}

/** The command's body, apart from commander so a test can drive it; returns the exit code. */
export function runPolicy(dir: string, flags: PolicyFlags, out: Output): number {
  let report: PolicyReport;
  try {
    report = checkSynthDir(dir);
  } catch (error) {
    // A half-written or hand-edited cdk.tf.json: nothing trustworthy to check, same as none.
    const message = `cannot read the synthesized stacks under ${dir}: ${(error as Error).message}; run \`npm run synth\` again`;
    if (out.json) out.printJson({ ok: false, dir, stacks: [], error: { code: 'UNREADABLE_STACKS', message } });
    out.error(`${out.red('error')} ${message}`);
    return POLICY_EXIT.nothingToCheck;
  }
  if (report.stacks.length === 0) {
    const message = `no synthesized stacks under ${dir}/stacks: run \`npm run synth\` first, or name the directory it wrote`;
    if (out.json) out.printJson({ ok: false, dir, stacks: [], error: { code: 'NO_STACKS', message } });
    out.error(`${out.red('error')} ${message}`);
    return POLICY_EXIT.nothingToCheck;
  }
  const summary = counts(report);
  const ok = report.nonCompliant === 0;
  if (out.json) {
    out.printJson({ ok, dir, stacks: report.stacks, summary, findings: report.findings });
  } else {
    out.line(formatTable(report.findings, { showNotApplicable: flags.all === true }));
    out.line();
    const verdict = ok ? out.green('all compliant') : out.red(`${summary.non_compliant} non-compliant`);
    out.line(`${verdict}: ${summary.compliant} compliant, ${summary.non_compliant} non-compliant, ${summary.not_applicable} not applicable across ${report.stacks.length} stacks (${report.stacks.join(', ')})`);
  }
  return ok ? POLICY_EXIT.ok : POLICY_EXIT.nonCompliant;
}

export function registerPolicyCommand(program: Command): void {
  program
    .command('policy')
    .description('check the synthesized stacks (cdktf.out) against the policy pack, before any deploy')
    .argument('[dir]', 'directory `npm run synth` wrote', 'cdktf.out')
    .option('--json', 'JSON: { ok, dir, stacks, summary, findings: [{ rule, control, stack, resource, status, reason }] }')
    .option('--all', 'also list rules that do not apply to a resource')
    .addHelpText('after', `
Exit codes: 0 all compliant, 1 any resource non-compliant, 2 no synthesized stacks in DIR.

Examples:
  $ npm run synth && npx fleet policy
  $ npx fleet policy cdktf.out --json | jq '.findings[] | select(.status == "non_compliant")'`)
    .action((dir: string, flags: PolicyFlags) => {
      process.exitCode = runPolicy(dir, flags, createOutput(Boolean(flags.json)));
    });
}
