import { Option, type Command } from 'commander';
import { createOutput } from '../cli/output.ts';
import type { PolicyFlags } from './policy-run.ts';

// The policy pack and its readers of synthesized Terraform (policy-run.ts) load only when `fleet
// policy` runs: every other command starts without them.

export function registerPolicyCommand(program: Command): void {
  program
    .command('policy')
    .description('check the synthesized stacks (cdktf.out) against the policy pack, before any deploy')
    .argument('[dir]', 'directory `npm run synth` wrote', 'cdktf.out')
    .option('--json', 'JSON: { ok, dir, stacks, summary, findings: [{ rule, control, stack, resource, status, reason }] }')
    .addOption(new Option('--all', 'also list rules that do not apply to a resource').conflicts('failures'))
    .option('--failures', 'list only what is non-compliant (the summary still counts everything)')
    .addHelpText(
      'after',
      `
The stacks must come from the current fleet description (FLEET_CONFIG, else ./fleet.config.json,
as for synth): \`npm run synth\` records the description's digest in DIR, and stacks synthesized from
an older or different description are refused rather than checked.

Exit codes: 0 all compliant, 1 any resource non-compliant, 2 no synthesized stacks in DIR, stacks
synthesized from another description than the current one, or an invalid description.

Examples:
  $ npm run synth && npx fleet policy
  $ npx fleet policy --failures
  $ npx fleet policy cdktf.out --json --failures | jq '.findings[] | [.rule, .resource, .reason]'`,
    )
    .action(async (dir: string, flags: PolicyFlags) => {
      const { runPolicy } = await import('./policy-run.ts');
      process.exitCode = runPolicy(dir, flags, createOutput(Boolean(flags.json)));
    });
}
