import type { Command } from 'commander';
import { exportTenant } from '../../src/index.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

/** `fleet tenants export`: one tenant's data as a .tar.gz of JSON Lines a customer can read without our tools. */
export function registerTenantsExportCommand(tenants: Command): void {
  tenants
    .command('export')
    .description("write a tenant's data to a .tar.gz: one JSON Lines file per table and a manifest.json (version, row counts, checksums)")
    .argument('<id>', 'tenant id')
    .requiredOption('--out <file>', 'the archive to write (.tar.gz)')
    .option('--json', 'the manifest as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ fleet tenants export acme --out acme-2026-11-28.tar.gz
  $ tar -xzOf acme-2026-11-28.tar.gz manifest.json

The export is read from one snapshot and streamed; an audit event records who exported which
tenant to which file. json/jsonb columns holding JSON null and SQL NULL both appear as null.`,
    )
    .action(async (id: string, flags: { out: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, { concurrency: 1 }, async (fleet) => {
          const manifest = await exportTenant(fleet, id, flags.out);
          if (out.json) out.printJson({ command: 'tenants export', ok: true, file: flags.out, ...manifest });
          else {
            out.line(`Exported ${id} (${manifest.migrationVersion ?? 'no migration'}) to ${flags.out}.`);
            for (const t of manifest.tables) out.line(out.dim(`  ${t.file}\t${t.rows} rows`));
          }
          return EXIT.ok;
        }),
      );
    });
}
