import type { Command } from 'commander';
import { addTenants, sampleTenants, migrateFleet, prepareTenantSchema, fleetStatus } from '../../src/index.ts';
import { progressFor } from '../cli/output.ts';
import { printRunReport } from '../cli/report.ts';
import { printStatus } from '../cli/status-view.ts';
import { EXIT, runCommand, withFleet, type GlobalOptions } from '../cli/run-command.ts';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('the main job (npm start): connect, register the sample fleet on first run, migrate every tenant, print the status')
    .option('--no-sample', 'do not register the sample fleet into an empty registry')
    .option('--json', 'JSON: { registered, migrate, status }')
    .addHelpText(
      'after',
      `
Examples:
  $ npm start                                  # embedded PostgreSQL under FLEET_HOME (default ./.fleet), no server needed
  $ FLEET_DATABASE_URL=postgres://localhost/app npx fleet start --no-sample`,
    )
    .action(async (flags: { sample?: boolean; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await runCommand(Boolean(flags.json), (out) =>
        withFleet(globals, {}, async (fleet, { signal }) => {
          const registered: string[] = [];
          const counts = await Promise.all(
            fleet.regions.map(async (r) =>
              Number((await r.query<{ n: string }>('SELECT count(*) AS n FROM fleet.tenants')).rows[0]?.n ?? 0),
            ),
          );
          if (flags.sample !== false && counts.every((n) => n === 0)) {
            const sample = sampleTenants(fleet.regions.map((r) => r.name));
            if (!out.json)
              out.line(
                `First run: registering a sample fleet of ${sample.length} tenants over ${fleet.regions.map((r) => r.name).join(', ')}.`,
              );
            const started = performance.now();
            let migrations = 0;
            for (const region of fleet.regions) {
              const ids = sample.filter((s) => s.region === region.name).map((s) => s.id);
              const report = await addTenants(fleet, ids, { region: region.name, signal });
              registered.push(...report.registered);
              migrations += report.migrate.summary.migrationsApplied;
            }
            if (!out.json)
              out.line(
                `${out.green('✓')} Provisioned ${registered.length} tenants (${migrations} migrations) in ${((performance.now() - started) / 1000).toFixed(2)} s.`,
              );
          }
          const progress = progressFor(out, 'migrate');
          const report = await migrateFleet(fleet, { prepare: prepareTenantSchema, onEvent: progress.onEvent, signal });
          progress.stop();
          const status = await fleetStatus(fleet);
          if (out.json) {
            out.printJson({
              command: 'start',
              ok: report.ok,
              registered,
              migrate: report,
              status: { latest: status.latest, regions: status.regions },
            });
          } else {
            printRunReport(out, report, 'migrate');
            out.line();
            printStatus(out, status, { tenants: false });
          }
          return report.ok ? EXIT.ok : EXIT.failed;
        }),
      );
    });
}
