import type { Command } from 'commander';
import { FleetError, rollbackFleet, type MigrateReport } from '../../src/index.ts';
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
  execute?: boolean;
  allowMass?: boolean;
  embedded?: boolean;
  json?: boolean;
}

/** Rollback's JSON speaks of what it reverted: the shared report's "applied" and "pending" renamed. */
export function rollbackJson(report: MigrateReport): Record<string, unknown> {
  const { summary, planned, results, ...rest } = report;
  const { applied, migrationsApplied, ...counts } = summary;
  return {
    command: 'rollback',
    ...rest,
    planned: planned.map(({ pending, ...p }) => ({ ...p, revert: pending })),
    results: results.map(({ migrations, status, ...r }) => ({
      ...r,
      status: status === 'applied' ? 'reverted' : status,
      reverted: migrations,
    })),
    summary: { ...counts, reverted: applied, migrationsReverted: migrationsApplied },
  };
}

export function registerRollbackCommand(program: Command): void {
  program
    .command('rollback')
    .description('revert tenant migrations with their .down.sql files, back to a named migration (fleet-wide: a dry run unless --execute)')
    .requiredOption(
      '--to <name>',
      'the migration to return to (its full name or its version, e.g. 0005): it stays applied, later ones are reverted; 0 reverts all',
    )
    .option('--tenant <id>', 'only this tenant (repeatable); runs at once unless --dry-run')
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--concurrency <n>', 'tenants in parallel per database', positiveInt('--concurrency', 256))
    .option('--dry-run', 'print what would be reverted; change nothing')
    .option('--execute', 'without --tenant: revert across the fleet (without it, a dry run)')
    .option('--allow-mass', 'with --execute and --to 0: revert every migration of every tenant (drops their data)')
    .option('--embedded', 'allow --execute against the embedded PostgreSQL under FLEET_HOME (default ./.fleet) (refused otherwise)')
    .option('--json', 'one JSON document: summary (reverted, migrationsReverted) and per-tenant results')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet rollback --to 0005 --tenant acme --dry-run
  $ fleet rollback --to 0005 --tenant acme
  $ fleet rollback --to 0005_audit_log --region eu            # what a fleet-wide rollback would revert
  $ fleet rollback --to 0005_audit_log --region eu --execute --json

Every down file the rollback needs is checked first; if one is missing nothing is touched (exit 2).
--to 0 across the fleet empties every tenant schema: it needs --execute --allow-mass.`,
    )
    .action(async (flags: RollbackFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) => {
        const fleetWide = !flags.tenant || flags.tenant.length === 0;
        const dryRun = Boolean(flags.dryRun) || (fleetWide && !flags.execute);
        if (fleetWide && !dryRun && flags.to === '0' && !flags.allowMass) {
          throw new FleetError(
            'INPUT_INVALID',
            '--to 0 with --execute across the fleet reverts every migration of every tenant (their tables and data go): add --allow-mass if that is meant, or name tenants with --tenant',
          );
        }
        return withFleet(
          globals,
          {
            ...(flags.region ? { regions: flags.region } : {}),
            ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
            ...(fleetWide && !dryRun ? { destructive: { what: 'fleet rollback --execute', embedded: Boolean(flags.embedded) } } : {}),
          },
          async (fleet, { signal }) => {
            const progress = progressFor(out, 'rollback');
            const report = await rollbackFleet(fleet, {
              to: flags.to,
              ...(flags.tenant ? { tenants: flags.tenant } : {}),
              ...(dryRun ? { dryRun: true } : {}),
              onEvent: progress.onEvent,
              signal,
            });
            progress.stop();
            if (out.json) out.printJson(rollbackJson(report));
            else {
              printRunReport(out, report, 'rollback');
              if (report.dryRun && fleetWide && !flags.dryRun && report.planned.length > 0)
                out.line(`To revert them: add --execute${flags.to === '0' ? ' --allow-mass' : ''}`);
            }
            return report.ok ? EXIT.ok : EXIT.failed;
          },
        );
      });
    });
}
