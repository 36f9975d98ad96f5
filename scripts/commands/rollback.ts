import type { Command } from 'commander';
import { rollbackFleet } from '../../src/index.ts';
import { progressFor } from '../cli/output.ts';
import { printRunReport } from '../cli/report.ts';
import { collect, positiveInt } from '../cli/parse.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

interface RollbackFlags {
  to: string;
  tenant?: string[];
  region?: string[];
  concurrency?: number;
  dryRun?: boolean;
  json?: boolean;
}

export function registerRollbackCommand(program: Command): void {
  program
    .command('rollback')
    .description('revert tenant migrations with their .down.sql files, back to a named migration')
    .requiredOption('--to <name>', 'the migration to return to: it stays applied, later ones are reverted; 0 reverts all')
    .option('--tenant <id>', 'only this tenant (repeatable)', collect)
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--concurrency <n>', 'tenants in parallel per database', positiveInt('--concurrency', 256))
    .option('--dry-run', 'print what would be reverted; change nothing')
    .option('--json', 'one JSON document: summary and per-tenant results')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet rollback --to 0005_audit_log --tenant acme --dry-run
  $ fleet rollback --to 0005_audit_log --region eu --json

Every down file the rollback needs is checked first; if one is missing nothing is touched (exit 2).`,
    )
    .action(async (flags: RollbackFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { ...(flags.region ? { regions: flags.region } : {}), ...(flags.concurrency ? { concurrency: flags.concurrency } : {}) }, async (fleet, { signal }) => {
          const progress = progressFor(out, 'rollback');
          const report = await rollbackFleet(fleet, {
            to: flags.to,
            ...(flags.tenant ? { tenants: flags.tenant } : {}),
            ...(flags.dryRun ? { dryRun: true } : {}),
            onEvent: progress.onEvent,
            signal,
          });
          progress.stop();
          if (out.json) out.printJson({ command: 'rollback', ...report });
          else printRunReport(out, report, 'rollback');
          return report.ok ? EXIT.ok : EXIT.failed;
        }),
      );
    });
}
