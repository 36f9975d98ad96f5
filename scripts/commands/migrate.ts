import { Option, type Command } from 'commander';
import { migrateFleet, prepareTenantSchema, parseShard } from '../../src/index.ts';
import { progressFor } from '../cli/output.ts';
import { printRunReport } from '../cli/report.ts';
import { collect, nonNegativeInt, positiveInt } from '../cli/parse.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

interface MigrateFlags {
  to?: string;
  phase?: 'pre-deploy' | 'post-deploy';
  allowOutOfOrder?: boolean;
  lint?: boolean;
  tenant?: string[];
  region?: string[];
  concurrency?: number;
  canary?: number;
  failFast?: boolean;
  dryRun?: boolean;
  shard?: string;
  json?: boolean;
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending tenant migrations to every tenant schema of every region')
    .option('--to <name>', 'stop at this migration (inclusive) instead of the latest')
    .addOption(
      new Option(
        '--phase <phase>',
        'pre-deploy: stop each tenant before its first pending post-deploy migration (-- fleet:phase post-deploy); post-deploy: apply everything (the default)',
      ).choices(['pre-deploy', 'post-deploy']),
    )
    .option('--no-lint', 'skip the safety lint (squawk) of the files about to be applied (a warning says so)')
    .option('--allow-out-of-order', 'apply new migrations whose version sorts before one a tenant already has')
    .option('--tenant <id>', 'only this tenant (repeatable)', collect)
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--concurrency <n>', 'tenants migrated in parallel per database (connections: n + 1)', positiveInt('--concurrency', 256))
    .option('--canary <n>', 'migrate the first n tenants first; any failure stops the rollout', nonNegativeInt('--canary'))
    .option('--fail-fast', 'stop starting tenants after the first failure')
    .option('--dry-run', 'print what would be applied; change nothing')
    .option('--shard <i/n>', 'take only shard i of n (for a CI matrix of runners)')
    .option('--json', 'one JSON document: summary, per-tenant results, events')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet migrate                          # every tenant to latest
  $ fleet migrate --canary 10 --json       # 10 canary tenants first, machine-readable
  $ fleet migrate --region eu --to 0004_comments --dry-run
  $ fleet migrate --shard 2/4 --concurrency 16
  $ fleet migrate --phase pre-deploy --canary 10   # before the deploy: stop at each tenant's first post-deploy migration
  $ fleet migrate --phase post-deploy              # after the deploy: the rest

Exit codes: 0 all tenants fine, 1 any tenant failed, a pending tenant was held by another runner past lockTimeoutMs (named),
or the canary stopped the rollout, 2 bad usage, configuration or migration files (a lint error included:
allow a rule in its file with "-- fleet:allow <rule>: <reason>"; see fleet migration lint).`,
    )
    .action(async (flags: MigrateFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), async (out) => {
        const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
        return withFleet(
          globals,
          { ...(flags.region ? { regions: flags.region } : {}), ...(flags.concurrency ? { concurrency: flags.concurrency } : {}) },
          async (fleet, { signal }) => {
            if (flags.lint === false)
              out.error(
                `${out.yellow('warning')} --no-lint: the files are applied without the safety lint; run fleet migration lint to see what it would say`,
              );
            const progress = progressFor(out, 'migrate');
            const events: unknown[] = [];
            const report = await migrateFleet(fleet, {
              prepare: prepareTenantSchema,
              ...(flags.to !== undefined ? { to: flags.to } : {}),
              ...(flags.phase ? { phase: flags.phase } : {}),
              ...(flags.allowOutOfOrder ? { allowOutOfOrder: true } : {}),
              lint: flags.lint !== false,
              ...(flags.tenant ? { tenants: flags.tenant } : {}),
              ...(flags.canary !== undefined ? { canary: flags.canary } : {}),
              ...(flags.failFast ? { failFast: true } : {}),
              ...(flags.dryRun ? { dryRun: true } : {}),
              ...(shard ? { shard } : {}),
              signal,
              onEvent: (event) => {
                progress.onEvent(event);
                if (event.type !== 'tenant') events.push(event);
              },
            });
            progress.stop();
            if (out.json) out.printJson({ command: 'migrate', ...report, events });
            else printRunReport(out, report, 'migrate');
            return report.ok ? EXIT.ok : EXIT.failed;
          },
        );
      });
    });
}
