import type { Command } from 'commander';
import { moveStatus, moveTenant, rollbackMove } from '../../src/index.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

/** `fleet tenants move`: copy a tenant to another region, verify, switch, drop the source. */
export function registerTenantsMoveCommand(tenants: Command): void {
  tenants
    .command('move')
    .description(
      'move a tenant to another region: copy, verify, switch the registry, drop the source (a purge\'s drop, tombstone "moved to R")',
    )
    .argument('<id>', 'tenant id')
    .option('--to-region <name>', 'the region it moves to')
    .option('--status', 'only say where a move of this tenant stands (not-started, copying, ready-to-commit, failed, committed)')
    .option('--rollback', 'abandon a move that has not switched: drop the target copy, the source serves again')
    .option('--json', 'one JSON document: from, to, status, version, per-table rows and checksums')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants move acme --to-region us
  $ fleet tenants move acme --status --json
  $ fleet tenants move acme --rollback

The tenant is not served while it is copied (requests get TENANT_NOT_ACTIVE) and is served by the
target region from the switch on. Killed at any point, run the same command again: it finishes a
switched move, or copies afresh (the half-made target is dropped first). A target region at
another migration version is refused before anything is copied.`,
    )
    .action(async (id: string, flags: { toRegion?: string; status?: boolean; rollback?: boolean; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1 }, async (fleet) => {
          if (flags.status) {
            const status = await moveStatus(fleet, id);
            if (out.json) out.printJson({ command: 'tenants move', ok: status.status !== 'failed', tenant: id, ...status });
            else
              out.line(
                `${id}: ${status.status}${status.from ? ` (from ${status.from}${status.to ? ` to ${status.to}` : ''})` : ''}${status.error ? `: ${status.error}` : ''}`,
              );
            return status.status === 'failed' ? EXIT.failed : EXIT.ok;
          }
          if (flags.rollback) {
            const result = await rollbackMove(fleet, id);
            if (out.json) out.printJson({ command: 'tenants move', ok: true, ...result });
            else out.line(`Rolled back the move of ${id} to ${result.to}: served from ${result.from} again.`);
            return EXIT.ok;
          }
          if (!flags.toRegion) {
            out.error('error: --to-region <name> is required (or --status / --rollback)');
            return EXIT.usage;
          }
          const result = await moveTenant(fleet, id, flags.toRegion);
          if (out.json) out.printJson({ command: 'tenants move', ok: true, ...result });
          else {
            out.line(`Moved ${id} from ${result.from} to ${result.to}${result.version ? ` at ${result.version}` : ''}.`);
            for (const t of result.copy?.tables ?? []) out.line(out.dim(`  ${t.table}\t${t.rows} rows\t${t.checksum}`));
          }
          return EXIT.ok;
        }),
      );
    });
}
