import type { Command } from 'commander';
import { installTenant, uninstallTenant, sweepStaleTenants, holdTenant, releaseTenant, type TransitionResult } from '../../src/lifecycle/index.ts';
import { progressFor, type Output } from '../cli/output.ts';
import { printRunReport } from '../cli/report.ts';
import { collect, isoDate, nonNegativeInt, positiveInt } from '../cli/parse.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

function printTransition(out: Output, verb: string, r: TransitionResult): void {
  const mark = r.changed ? out.green('✓') : out.dim('=');
  const move = r.from === r.to ? r.to : `${r.from ?? '(new)'} → ${r.to}`;
  out.line(`${mark} ${verb} ${r.region}/${r.tenant}: ${r.outcome} (${move})`);
  if (r.purgeAfter) out.line(`  purge after ${r.purgeAfter}${r.holdReason ? '' : ' unless reinstalled or held'}`);
  if (r.holdReason) out.line(`  ${out.yellow('legal hold')}: ${r.holdReason} (never purged while held)`);
}

/** `fleet tenants install|uninstall|sweep|hold|release`: the tenant lifecycle, added to the `tenants` group. */
export function registerTenantLifecycleCommands(tenants: Command): void {
  tenants
    .command('install')
    .description('the app was installed: provision a new tenant, reactivate a disconnected one (data intact), or start a purged one afresh')
    .argument('<id>', 'tenant id (the Atlassian clientKey)')
    .option('--region <name>', 'region for a new tenant (required when the fleet has several)')
    .option('--reason <text>', 'why, for the audit trail', 'installed')
    .option('--json', 'JSON: the transition (and the migrate report when a schema was provisioned)')
    .addHelpText('after', `
Examples:
  $ fleet tenants install b4c1e1f2-0000-4000-8000-000000000001 --region eu
  $ fleet tenants install acme --reason "reinstalled, ticket SUP-1234" --json

A disconnected tenant reinstalled before its purge is active again with all of its data; a purged
one comes back as a fresh, empty tenant (its tombstone stays). Exit 1 when provisioning failed.`)
    .action(async (id: string, flags: { region?: string; reason: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, {}, async (fleet) => {
          const progress = progressFor(out, 'install');
          const result = await installTenant(fleet, id, { ...(flags.region ? { region: flags.region } : {}), reason: flags.reason, onEvent: progress.onEvent });
          progress.stop();
          if (out.json) out.printJson({ command: 'tenants install', ...result });
          else {
            printTransition(out, 'install', result);
            if (result.migrate && !result.ok) printRunReport(out, result.migrate, 'migrate');
          }
          return result.ok ? EXIT.ok : EXIT.failed;
        }),
      );
    });

  tenants
    .command('uninstall')
    .description('the app was uninstalled: the tenant becomes disconnected, purged after the grace period')
    .argument('<id>', 'tenant id')
    .option('--at <iso>', 'when it was uninstalled (an event received late); default now; never in the future', isoDate('--at'))
    .option('--reason <text>', 'why, for the audit trail', 'uninstalled')
    .option('--json', 'JSON: the transition, with disconnectedAt and purgeAfter')
    .addHelpText('after', `
Examples:
  $ fleet tenants uninstall acme
  $ fleet tenants uninstall acme --at 2026-11-20T14:03:00Z --reason "uninstall webhook missed, ticket OPS-77"

purge_after = the uninstall time + lifecycle.graceDays of the fleet description (default 30;
Atlassian recommends 60 for paid sites). A tenant already disconnected keeps its first purge date.`)
    .action(async (id: string, flags: { at?: Date; reason: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1 }, async (fleet) => {
          const result = await uninstallTenant(fleet, id, { ...(flags.at ? { at: flags.at } : {}), reason: flags.reason });
          if (out.json) out.printJson({ command: 'tenants uninstall', ok: true, ...result });
          else printTransition(out, 'uninstall', result);
          return EXIT.ok;
        }),
      );
    });

  tenants
    .command('sweep')
    .description('find active tenants with no contact for the stale period; with --execute, mark them disconnected (a dry run by default)')
    .option('--stale-after <days>', 'days without contact (default lifecycle.staleAfterDays of the fleet description, 30)', positiveInt('--stale-after', 3650))
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--execute', 'mark them disconnected (their grace period starts now)')
    .option('--max <n>', 'refuse to execute when more than n tenants are stale in this run', nonNegativeInt('--max'))
    .option('--allow-mass', 'execute even when the brake is tripped (more than lifecycle.purgeMaxShare of a region, or --max)')
    .option('--embedded', 'allow --execute against the embedded PostgreSQL under .fleet/ (refused otherwise)')
    .option('--json', 'JSON: { dryRun, cutoff, stale: [{ tenant, region, lastContactAt, purgeAfter }], disconnected, brake, databases }')
    .addHelpText('after', `
Examples:
  $ fleet tenants sweep                      # who has been silent for 30 days? (changes nothing)
  $ fleet tenants sweep --stale-after 45 --execute --max 20 --json

Atlassian sends no event when a site is deleted, and Forge none on uninstall: silence counts. A
tenant marked stale that makes contact again (the app calls touch) is active again by itself.
The purge's brake applies: an --execute that would disconnect more than lifecycle.purgeMaxShare of
a region's tenants (or more than --max) is refused (exit 1, nothing changed) unless --allow-mass.`)
    .action(async (flags: { staleAfter?: number; region?: string[]; execute?: boolean; max?: number; allowMass?: boolean; embedded?: boolean; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(
          globals,
          { ...(flags.region ? { regions: flags.region } : {}), concurrency: 1, ...(flags.execute ? { destructive: { what: 'fleet tenants sweep --execute', embedded: Boolean(flags.embedded) } } : {}) },
          async (fleet) => {
          const report = await sweepStaleTenants(fleet, {
            ...(flags.staleAfter !== undefined ? { staleAfterDays: flags.staleAfter } : {}),
            ...(flags.max !== undefined ? { max: flags.max } : {}),
            execute: Boolean(flags.execute),
            allowMass: Boolean(flags.allowMass),
          });
          if (out.json) {
            out.printJson({ command: 'tenants sweep', ok: true, ...report });
            return EXIT.ok;
          }
          const head = report.dryRun
            ? `Dry run: ${report.stale.length} active tenant(s) without contact since ${report.cutoff} (${report.staleAfterDays} days); nothing was changed. Add --execute to mark them disconnected.`
            : `${out.green('✓')} Marked ${report.disconnected} silent tenant(s) disconnected (no contact since ${report.cutoff}, ${report.staleAfterDays} days).`;
          out.line(report.dryRun ? out.bold(head) : head);
          for (const d of report.databases) out.line(`  database ${out.bold(d.region)}: ${d.database}`);
          for (const s of report.stale.slice(0, 100)) out.line(`  ${s.region}/${s.tenant}: last contact ${s.lastContactAt}${s.purgeAfter ? `, purge after ${s.purgeAfter}` : ''}`);
          if (report.stale.length > 100) out.line(out.dim(`  … and ${report.stale.length - 100} more (use --json for all)`));
          if (report.brake.tripped) {
            out.line(out.yellow(`The brake: ${report.dryRun ? 'an --execute would be refused' : 'overridden with --allow-mass'}:`));
            for (const l of report.brake.limits.filter((x) => x.exceeded)) out.line(out.yellow(`  ${l.message}`));
          }
          return EXIT.ok;
          },
        ),
      );
    });

  tenants
    .command('hold')
    .description('place a legal hold: a held tenant is never purged until released')
    .argument('<id>', 'tenant id')
    .requiredOption('--reason <text>', 'why (a legal matter or ticket number): required')
    .option('--json', 'JSON: the result')
    .addHelpText('after', `
Examples:
  $ fleet tenants hold acme --reason "LEGAL-42: litigation hold requested by counsel"`)
    .action(async (id: string, flags: { reason: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1 }, async (fleet) => {
          const result = await holdTenant(fleet, id, flags.reason);
          if (out.json) out.printJson({ command: 'tenants hold', ok: true, ...result });
          else printTransition(out, 'hold', result);
          return EXIT.ok;
        }),
      );
    });

  tenants
    .command('release')
    .description('release a legal hold; a disconnected tenant past its purge date is due at the next purge')
    .argument('<id>', 'tenant id')
    .option('--reason <text>', 'why, for the audit trail')
    .option('--json', 'JSON: the result')
    .addHelpText('after', `
Examples:
  $ fleet tenants release acme --reason "LEGAL-42 closed"`)
    .action(async (id: string, flags: { reason?: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1 }, async (fleet) => {
          const result = await releaseTenant(fleet, id, flags.reason !== undefined ? { reason: flags.reason } : {});
          if (out.json) out.printJson({ command: 'tenants release', ok: true, ...result });
          else printTransition(out, 'release', result);
          return EXIT.ok;
        }),
      );
    });
}
