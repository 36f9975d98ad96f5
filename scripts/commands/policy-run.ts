/** `fleet policy`'s body, loaded when the command runs: the policy pack over a synthesized stacks directory. */
import { checkSynthDir, formatTable, type PolicyReport } from '../../stacks/policy/index.ts';
import { synthFreshness } from '../../stacks/description-stamp.ts';
import { defaultConfigPath, FleetError, loadFleetConfig } from '../../src/index.ts';
import type { Output } from '../cli/output.ts';

/** 0 all compliant, 1 a resource is non-compliant, 2 nothing (current) to check. */
export const POLICY_EXIT = { ok: 0, nonCompliant: 1, nothingToCheck: 2 } as const;

export interface PolicyFlags {
  readonly json?: boolean;
  readonly all?: boolean;
  /** Only the non-compliant findings, in the table and in the JSON. */
  readonly failures?: boolean;
}

/** The fleet description the stacks must have come from; by default the one synth reads. */
export interface DescriptionSource {
  readonly path: string;
}

function counts(report: PolicyReport): Record<string, number> {
  const by = (status: string) => report.findings.filter((f) => f.status === status).length;
  return { compliant: by('compliant'), non_compliant: by('non_compliant'), not_applicable: by('not_applicable') };
}

function refuse(out: Output, dir: string, code: string, message: string): number {
  if (out.json) out.printJson({ ok: false, dir, stacks: [], error: { code, message } });
  out.error(`${out.red('error')} ${message}`);
  return POLICY_EXIT.nothingToCheck;
}

/**
 * Refusal, or undefined when the stacks in `dir` were synthesized from the current description.
 * Approving stacks synthesized before the last edit would approve something nobody will deploy.
 */
function staleness(dir: string, source: DescriptionSource): { code: string; message: string } | undefined {
  let fresh: ReturnType<typeof synthFreshness>;
  try {
    fresh = synthFreshness(dir, loadFleetConfig(source.path), source.path);
  } catch (error) {
    if (!(error instanceof FleetError)) throw error;
    return {
      code: error.code,
      message: `${error.message}\nthe stacks are checked against what the current description synthesizes; fix it, then run \`npm run synth\``,
    };
  }
  return fresh.fresh ? undefined : { code: 'STALE_STACKS', message: `${fresh.reason}: run \`npm run synth\`, then \`fleet policy\` again` };
}

/** The command's body, apart from commander so a test can drive it; returns the exit code. */
export function runPolicy(dir: string, flags: PolicyFlags, out: Output, source: DescriptionSource = { path: defaultConfigPath() }): number {
  let report: PolicyReport;
  try {
    report = checkSynthDir(dir);
  } catch (error) {
    // A half-written or hand-edited cdk.tf.json: nothing trustworthy to check, same as none.
    return refuse(
      out,
      dir,
      'UNREADABLE_STACKS',
      `cannot read the synthesized stacks under ${dir}: ${(error as Error).message}; run \`npm run synth\` again`,
    );
  }
  if (report.stacks.length === 0) {
    return refuse(
      out,
      dir,
      'NO_STACKS',
      `no synthesized stacks under ${dir}/stacks: run \`npm run synth\` first, or name the directory it wrote`,
    );
  }
  const stale = staleness(dir, source);
  if (stale) return refuse(out, dir, stale.code, stale.message);

  const summary = counts(report);
  const ok = report.nonCompliant === 0;
  const shown = flags.failures === true ? report.findings.filter((f) => f.status === 'non_compliant') : report.findings;
  if (out.json) {
    out.printJson({ ok, dir, stacks: report.stacks, summary, findings: shown });
  } else {
    if (shown.length > 0 || flags.failures !== true) {
      out.line(formatTable(shown, { showNotApplicable: flags.all === true }));
      out.line();
    }
    const verdict = ok ? out.green('all compliant') : out.red(`${summary.non_compliant} non-compliant`);
    out.line(
      `${verdict}: ${summary.compliant} compliant, ${summary.non_compliant} non-compliant, ${summary.not_applicable} not applicable across ${report.stacks.length} stacks (${report.stacks.join(', ')})`,
    );
  }
  return ok ? POLICY_EXIT.ok : POLICY_EXIT.nonCompliant;
}
