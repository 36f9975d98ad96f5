import type { Command } from 'commander';
import {
  installTenant,
  uninstallTenant,
  sweepStaleTenants,
  holdTenant,
  releaseTenant,
  unknownTenants,
  type InstallResult,
  type TransitionResult,
} from '../../src/lifecycle/index.ts';
import { FleetError, type Fleet } from '../../src/index.ts';
import { progressFor, type Output } from '../cli/output.ts';
import { printRunReport } from '../cli/report.ts';
import { collect, isoDate, nonNegativeInt, positiveInt, readIdFile } from '../cli/parse.ts';
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
    .description(
      'the app was installed: reactivate a disconnected tenant (data intact), start a purged one afresh, or with --new provision a new one',
    )
    .argument('[ids...]', 'tenant ids (the Atlassian clientKey)')
    .option('--file <path>', 'read ids from a file, one per line (# comments allowed)')
    .option('--new', 'provision an id never seen as a new tenant (without it, an unknown id is refused: a typo must not create a tenant)')
    .option('--region <name>', 'region for a new tenant (required when the fleet has several)')
    .option('--reason <text>', 'why, for the audit trail', 'installed')
    .option('--json', 'JSON: { command, ok, results: [transition, ...] } (one id: the transition at the top level too)')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants install acme --reason "reinstalled, ticket SUP-1234" --json
  $ fleet tenants install acme globex --file reinstalls.txt
  $ fleet tenants install b4c1e1f2-0000-4000-8000-000000000001 --new --region eu

A disconnected tenant reinstalled before its purge is active again with all of its data; a purged
one comes back as a fresh, empty tenant (its tombstone stays). Every id is checked before any
changes: an unknown one without --new exits 2. Exit 1 when provisioning failed.`,
    )
    .action(
      async (ids: string[], flags: { file?: string; new?: boolean; region?: string; reason: string; json?: boolean }, command: Command) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        await runCommand(Boolean(flags.json), async (out) => {
          const all = idsOf(ids, flags.file);
          return withFleet(globals, {}, async (fleet) => {
            if (!flags.new) await refuseUnknown(fleet, all, 'to provision new tenants under them, pass --new');
            const results: InstallResult[] = [];
            for (const id of all) {
              const progress = progressFor(out, 'install');
              const result = await installTenant(fleet, id, {
                ...(flags.region ? { region: flags.region } : {}),
                reason: flags.reason,
                allowNew: Boolean(flags.new),
                onEvent: progress.onEvent,
              });
              progress.stop();
              results.push(result);
              if (!out.json) {
                printTransition(out, 'install', result);
                if (result.migrate && !result.ok) printRunReport(out, result.migrate, 'migrate');
              }
            }
            const ok = results.every((r) => r.ok);
            if (out.json) out.printJson({ command: 'tenants install', ...(results.length === 1 ? results[0] : {}), ok, results });
            return ok ? EXIT.ok : EXIT.failed;
          });
        });
      },
    );

  tenants
    .command('uninstall')
    .description('the app was uninstalled: the tenant becomes disconnected, purged after the grace period')
    .argument('<id>', 'tenant id')
    .option('--at <iso>', 'when it was uninstalled (an event received late); default now; never in the future', isoDate('--at'))
    .option('--reason <text>', 'why, for the audit trail', 'uninstalled')
    .option('--json', 'JSON: the transition, with disconnectedAt and purgeAfter')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants uninstall acme
  $ fleet tenants uninstall acme --at 2026-11-20T14:03:00Z --reason "uninstall webhook missed, ticket OPS-77"

purge_after = the uninstall time + lifecycle.graceDays of the fleet description (default 30;
Atlassian recommends 60 for paid sites). A tenant already disconnected keeps its first purge date.`,
    )
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
    .option(
      '--stale-after <days>',
      'days without contact (default lifecycle.staleAfterDays of the fleet description, 30)',
      positiveInt('--stale-after', 3650),
    )
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--execute', 'mark them disconnected (their grace period starts now)')
    .option('--max <n>', 'refuse to execute when more than n tenants are stale in this run', nonNegativeInt('--max'))
    .option('--allow-mass', 'execute even when the brake is tripped (more than lifecycle.purgeMaxShare of a region, or --max)')
    .option('--embedded', 'allow --execute against the embedded PostgreSQL under FLEET_HOME (default ./.fleet) (refused otherwise)')
    .option('--json', 'JSON: { dryRun, cutoff, stale: [{ tenant, region, lastContactAt, purgeAfter }], disconnected, brake, databases }')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants sweep                      # who has been silent for 30 days? (changes nothing)
  $ fleet tenants sweep --stale-after 45 --execute --max 20 --json

Atlassian sends no event when a site is deleted, and Forge none on uninstall: silence counts. A
tenant marked stale that makes contact again (the app calls touch) is active again by itself.
The purge's brake applies: an --execute that would disconnect more than lifecycle.purgeMaxShare of
a region's tenants (or more than --max) is refused (exit 1, nothing changed) unless --allow-mass.`,
    )
    .action(
      async (
        flags: {
          staleAfter?: number;
          region?: string[];
          execute?: boolean;
          max?: number;
          allowMass?: boolean;
          embedded?: boolean;
          json?: boolean;
        },
        command: Command,
      ) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        await runCommand(Boolean(flags.json), (out) =>
          withFleet(
            globals,
            {
              ...(flags.region ? { regions: flags.region } : {}),
              concurrency: 1,
              ...(flags.execute ? { destructive: { what: 'fleet tenants sweep --execute', embedded: Boolean(flags.embedded) } } : {}),
            },
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
              for (const s of report.stale.slice(0, 100))
                out.line(
                  `  ${s.region}/${s.tenant}: last contact ${s.lastContactAt}${s.purgeAfter ? `, purge after ${s.purgeAfter}` : ''}`,
                );
              if (report.stale.length > 100) out.line(out.dim(`  … and ${report.stale.length - 100} more (use --json for all)`));
              if (report.brake.tripped) {
                out.line(out.yellow(`The brake: ${report.dryRun ? 'an --execute would be refused' : 'overridden with --allow-mass'}:`));
                for (const l of report.brake.limits.filter((x) => x.exceeded)) out.line(out.yellow(`  ${l.message}`));
              }
              return EXIT.ok;
            },
          ),
        );
      },
    );

  tenants
    .command('hold')
    .description('place a legal hold: a held tenant is never purged until released')
    .argument('[ids...]', 'tenant ids')
    .option('--file <path>', 'read ids from a file, one per line (# comments allowed)')
    .requiredOption('--reason <text>', 'why (a legal matter or ticket number): required')
    .option('--json', 'JSON: { command, ok, results: [...] } (one id: the result at the top level too)')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants hold acme --reason "LEGAL-42: litigation hold requested by counsel"
  $ fleet tenants hold --file legal-42.txt --reason "LEGAL-42"

Every id is checked first: an unknown one exits 2 and no tenant is held.`,
    )
    .action(async (ids: string[], flags: { file?: string; reason: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), async (out) => {
        const all = idsOf(ids, flags.file);
        return withFleet(globals, { concurrency: 1 }, async (fleet) => {
          await refuseUnknown(fleet, all);
          const results: TransitionResult[] = [];
          for (const id of all) {
            const result = await holdTenant(fleet, id, flags.reason);
            results.push(result);
            if (!out.json) printTransition(out, 'hold', result);
          }
          if (out.json) out.printJson({ command: 'tenants hold', ...(results.length === 1 ? results[0] : {}), ok: true, results });
          return EXIT.ok;
        });
      });
    });

  tenants
    .command('release')
    .description('release a legal hold; a disconnected tenant past its purge date is due at the next purge')
    .argument('[ids...]', 'tenant ids')
    .option('--file <path>', 'read ids from a file, one per line (# comments allowed)')
    .option('--reason <text>', 'why, for the audit trail')
    .option('--json', 'JSON: { command, ok, results: [...] } (one id: the result at the top level too)')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants release acme --reason "LEGAL-42 closed"
  $ fleet tenants release --file legal-42.txt --reason "LEGAL-42 closed"

Every id is checked first: an unknown one exits 2 and no hold is released.`,
    )
    .action(async (ids: string[], flags: { file?: string; reason?: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), async (out) => {
        const all = idsOf(ids, flags.file);
        return withFleet(globals, { concurrency: 1 }, async (fleet) => {
          await refuseUnknown(fleet, all);
          const results: TransitionResult[] = [];
          for (const id of all) {
            const result = await releaseTenant(fleet, id, flags.reason !== undefined ? { reason: flags.reason } : {});
            results.push(result);
            if (!out.json) printTransition(out, 'release', result);
          }
          if (out.json) out.printJson({ command: 'tenants release', ...(results.length === 1 ? results[0] : {}), ok: true, results });
          return EXIT.ok;
        });
      });
    });
}

/** The ids from the arguments and --file, at least one, each once. */
function idsOf(ids: readonly string[], file: string | undefined): string[] {
  const all = [...new Set([...ids, ...(file ? readIdFile(file) : [])])];
  if (all.length === 0) throw new FleetError('INPUT_INVALID', 'no tenant id given: name them as arguments or in --file');
  return all;
}

async function refuseUnknown(fleet: Fleet, ids: readonly string[], hint = 'check the ids (fleet tenants list)'): Promise<void> {
  const unknown = await unknownTenants(fleet, ids);
  if (unknown.length > 0) {
    throw new FleetError(
      'INPUT_INVALID',
      `${unknown.length} tenant id(s) unknown in ${fleet.regions.map((r) => r.name).join(', ')}; nothing was changed: ${unknown.join(', ')}; ${hint}`,
    );
  }
}
