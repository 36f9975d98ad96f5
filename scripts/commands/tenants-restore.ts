import type { Command } from 'commander';
import { asideSchemasOf, discardAside, restoreTenant } from '../../src/index.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

/** `fleet tenants restore`: copy a tenant back from a database restored from a snapshot or a point in time. */
export function registerTenantsRestoreCommand(tenants: Command): void {
  tenants
    .command('restore')
    .description('restore a tenant from a database restored from a snapshot or a point in time (a dry run unless --execute)')
    .argument('<id>', 'tenant id (as registered in the restored database)')
    .option('--from <url>', 'postgres:// URL of the restored database')
    .option('--as <new-id>', 'restore into this new tenant of the same region, for inspection; the live tenant is untouched')
    .option('--execute', 'do it: without --as this REPLACES the live tenant (its current schema is kept aside)')
    .option(
      '--discard-aside',
      'drop, now, the schemas earlier restores set aside for this tenant (the purge drops each after its drop date otherwise)',
    )
    .option('--json', 'one JSON document: mode, versions, per-table rows and checksums, the aside schema')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants restore acme --from postgres://fleet@restored-db:5432/fleet --as acme-tuesday
  $ fleet tenants restore acme --from postgres://fleet@restored-db:5432/fleet --execute
  $ fleet tenants restore acme --discard-aside --execute

DESTRUCTIVE without --as: the live tenant's data is replaced by the restored copy (its current
schema is renamed aside, no longer reachable by the tenant, listed by fleet status, and dropped by
the first purge after the grace period, lifecycle.graceDays, or by --discard-aside). Without
--execute nothing changes: the plan is printed. A restored copy at an older migration version is
migrated forward first; a newer one is refused.`,
    )
    .action(
      async (
        id: string,
        flags: { from?: string; as?: string; execute?: boolean; discardAside?: boolean; json?: boolean },
        command: Command,
      ) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        await runCommand(Boolean(flags.json), (out) =>
          withFleet(globals, { concurrency: 1 }, async (fleet) => {
            if (flags.discardAside) {
              if (!flags.execute) {
                const aside = await asideSchemasOf(fleet, id);
                if (out.json) out.printJson({ command: 'tenants restore', ok: true, dryRun: true, tenant: id, aside });
                else if (aside.length === 0) out.line(`Dry run: no schema set aside for ${id}; nothing to drop.`);
                else
                  out.line(
                    `Dry run: would drop ${aside.map((a) => `${a.region}/${a.schema} (set aside ${a.setAsideAt}, drop after ${a.dropAfter})`).join(', ')}; add --execute.`,
                  );
                return EXIT.ok;
              }
              const dropped = await discardAside(fleet, id);
              if (out.json) out.printJson({ command: 'tenants restore', ok: true, tenant: id, discarded: dropped });
              else out.line(dropped.length > 0 ? `Dropped ${dropped.join(', ')}.` : `No schema set aside for ${id}.`);
              return EXIT.ok;
            }
            if (!flags.from) {
              out.error('error: --from <url> is required (the restored database)');
              return EXIT.usage;
            }
            const result = await restoreTenant(fleet, id, {
              from: flags.from,
              ...(flags.as ? { as: flags.as } : {}),
              execute: Boolean(flags.execute),
            });
            if (out.json) out.printJson({ command: 'tenants restore', ok: true, ...result });
            else if (!result.executed) {
              out.line(
                `Dry run: would restore ${id} (${result.sourceVersion ?? 'no migration'}) ${result.mode === 'replace' ? `over the live tenant in ${result.region} (its schema kept aside)` : `as new tenant ${result.into} in ${result.region}`}. Add --execute.`,
              );
            } else {
              out.line(
                `Restored ${id} as ${result.into} in ${result.region}${result.migratedForward?.length ? `, migrated forward ${result.migratedForward.join(', ')}` : ''}${result.aside ? `; the previous schema is aside as ${result.aside} until ${result.asideDropAfter ?? '?'} (the first purge after that drops it; --discard-aside drops it now)` : ''}.`,
              );
            }
            return EXIT.ok;
          }),
        );
      },
    );
}
