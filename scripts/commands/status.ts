import type { Command } from 'commander';
import { FleetError, fleetStatus } from '../../src/index.ts';
import { printStatus } from '../cli/status-view.ts';
import { collect } from '../cli/parse.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('where every tenant stands: region, schema, status, last migration, pending count; and the schemas restores set aside')
    .option('--region <name>', 'only this region (repeatable)', collect)
    .option('--tenant <id>', 'only this tenant (repeatable; unknown ids exit 2)', collect)
    .option('--summary', 'only the per-region summary, no line per tenant')
    .option('--json', 'JSON: { latest, regions: [...], tenants: [...], aside: [{ tenant, region, schema, setAsideAt, dropAfter, due }] }')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet status
  $ fleet status --summary
  $ fleet status --json | jq '.tenants[] | select(.pending > 0)'
  $ fleet status --json | jq '.aside[] | select(.due)'

An aside schema is a tenant's former schema that fleet tenants restore replaced; the purge drops it
once its drop date has passed (due), fleet tenants restore <id> --discard-aside --execute at once.`,
    )
    .action(async (flags: { region?: string[]; tenant?: string[]; summary?: boolean; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { ...(flags.region ? { regions: flags.region } : {}), concurrency: 1 }, async (fleet) => {
          const all = await fleetStatus(fleet);
          const unknown = (flags.tenant ?? []).filter((id) => !all.tenants.some((t) => t.id === id));
          if (unknown.length > 0)
            throw new FleetError(
              'INPUT_INVALID',
              `--tenant ${unknown.join(', ')}: not registered in ${all.regions.map((r) => r.region).join(', ')}`,
            );
          const wanted = flags.tenant;
          const status = wanted
            ? {
                ...all,
                tenants: all.tenants.filter((t) => wanted.includes(t.id)),
                aside: all.aside.filter((a) => wanted.includes(a.tenant)),
              }
            : all;
          if (out.json) out.printJson(status);
          else printStatus(out, status, { tenants: !flags.summary });
          return EXIT.ok;
        }),
      );
    });
}
