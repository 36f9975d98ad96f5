import { Command } from 'commander';
import { addTenants, listTenants } from '../../src/index.ts';
import { progressFor } from '../cli/output.ts';
import { printRunReport } from '../cli/report.ts';
import { collect, positiveInt, readIdFile } from '../cli/parse.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

/** `fleet tenants ...`; returns the group so lifecycle commands can add their subcommands. */
export function registerTenantsCommand(program: Command): Command {
  const tenants = program.command('tenants').description('register, list and manage tenants');

  tenants
    .command('add')
    .description('register tenants, create their schemas and migrate them to latest')
    .argument('[ids...]', 'tenant ids (lowercase a-z, 0-9, - and _, 1-60 characters)')
    .option('--region <name>', 'the region to place them in (required when the fleet has several)')
    .option('--file <path>', 'read ids from a file, one per line (# comments allowed)')
    .option('--concurrency <n>', 'tenants provisioned in parallel per database', positiveInt('--concurrency', 256))
    .option('--json', 'JSON: registered, resumed, already registered, and the migrate report')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants add acme globex --region eu
  $ fleet tenants add --file new-sites.txt --region us --json

An id already registered is skipped and reported; a tenant whose provisioning was interrupted is
completed, so an interrupted bulk add is simply run again.`,
    )
    .action(async (ids: string[], flags: { region?: string; file?: string; concurrency?: number; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), async (out) => {
        const all = [...ids, ...(flags.file ? readIdFile(flags.file) : [])];
        return withFleet(globals, { ...(flags.concurrency ? { concurrency: flags.concurrency } : {}) }, async (fleet, { signal }) => {
          const progress = progressFor(out, 'add');
          const report = await addTenants(fleet, all, {
            ...(flags.region ? { region: flags.region } : {}),
            onEvent: progress.onEvent,
            signal,
          });
          progress.stop();
          if (out.json) {
            out.printJson({ command: 'tenants add', ok: report.migrate.ok, ...report });
          } else {
            out.line(
              `Registered ${report.registered.length} new tenant(s) in ${report.region}${report.resumed.length > 0 ? `; completing ${report.resumed.length} interrupted` : ''}.`,
            );
            for (const a of report.alreadyRegistered.slice(0, 20))
              out.line(out.dim(`  already registered: ${a.id} (${a.region}, ${a.status})`));
            if (report.alreadyRegistered.length > 20)
              out.line(out.dim(`  … and ${report.alreadyRegistered.length - 20} more already registered`));
            printRunReport(out, report.migrate, 'migrate');
          }
          return report.migrate.ok ? EXIT.ok : EXIT.failed;
        });
      });
    });

  tenants
    .command('list')
    .description('list registered tenants')
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--status <status>', 'only tenants in this state: provisioning, active, disconnected or purged (repeatable)', collect)
    .option('--json', 'a JSON array of { id, region, schema, status, disconnectedAt, disconnectCause, purgeAfter, holdReason, ... }')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants list
  $ fleet tenants list --status disconnected --json | jq -r '.[] | select(.disconnectCause == "stale") | .id'`,
    )
    .action(async (flags: { region?: string[]; status?: string[]; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { ...(flags.region ? { regions: flags.region } : {}), concurrency: 1 }, async (fleet) => {
          const list = await listTenants(fleet, flags.status ? { status: flags.status } : {});
          if (out.json) out.printJson(list);
          else {
            for (const t of list) {
              const gone = t.disconnectedAt ? `\tdisconnected ${t.disconnectedAt} (${t.disconnectCause ?? '?'})` : '';
              out.line(
                `${t.id}\t${t.region}\t${t.schema}\t${t.status}${gone}${t.purgeAfter ? `\tpurge after ${t.purgeAfter}` : ''}${t.holdReason ? `\tHOLD: ${t.holdReason}` : ''}`,
              );
            }
            out.error(out.dim(`${list.length} tenant(s)`));
          }
          return EXIT.ok;
        }),
      );
    });
  return tenants;
}
